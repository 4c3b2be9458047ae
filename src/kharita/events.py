"""The `events` stage: ACLED events from triggers, with their actors, place, date,
weapons and figures, each field citing the spans that support it.

One pass over the sentences. A sentence with a trigger becomes an event draft; a
sentence that only adds detail ("A first responder said four patients were killed")
or names no place of its own ("multiple raids killed three doctors") enriches the
event of the sentences just before it. Drafts about the same happening (same
sub-event type, place and date) are merged before they become `Event`s.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from . import actors as actor_rules
from .doc import (
    Actor,
    ActorMention,
    CasualtyMention,
    DateMention,
    Doc,
    PlaceMention,
    Sentence,
    TriggerMention,
    WeaponMention,
)
from .lexicon import PhraseMatcher, load_data
from .merge import acled_figure
from .models import Claim, Event, Span
from .text import is_heading

# How many sentences back a detail-only sentence may attach to an event.
CONTEXT_WINDOW = 2
# How close (characters) a hypothetical cue must stand before a trigger to void it.
MODAL_REACH = 40
NOTES_MAX = 400


@dataclass(frozen=True, slots=True)
class TriggerSpec:
    sub_event_type: str | None = None
    cls: str | None = None
    fallback: str | None = None
    air_only: bool = False


@cache
def taxonomy() -> dict[str, dict]:
    return load_data("acled.yaml")["sub_event_types"]


@cache
def _precedence() -> dict[str, int]:
    return {name: rank for rank, name in enumerate(load_data("acled.yaml")["precedence"])}


@cache
def _separate() -> frozenset[str]:
    return frozenset(load_data("acled.yaml")["separate_events"])


@cache
def trigger_matcher() -> PhraseMatcher[TriggerSpec]:
    entries = []
    for group in load_data("triggers.yaml")["triggers"]:
        spec = TriggerSpec(group.get("sub_event_type"), group.get("class"), group.get("fallback"),
                           group.get("air_only", False))
        entries.extend((phrase, spec) for phrase in group["phrases"])
    return PhraseMatcher(entries)


@cache
def _modal_matcher() -> PhraseMatcher[bool]:
    return PhraseMatcher((cue, True) for cue in load_data("triggers.yaml")["modal_cues"])


@cache
def _air_matcher() -> PhraseMatcher[bool]:
    return PhraseMatcher((cue, True) for cue in load_data("triggers.yaml")["air_cues"])


@cache
def weapon_matcher() -> PhraseMatcher[tuple[str, str]]:
    entries = []
    for name, spec in load_data("weapons.yaml")["weapons"].items():
        entries.extend((phrase, (name, spec["category"])) for phrase in spec["phrases"])
    return PhraseMatcher(entries)


@cache
def _victim_classes() -> dict[str, dict]:
    return load_data("quantities.yaml")["victims"]


def _is_civilian_victim(casualty: CasualtyMention) -> bool:
    return bool(_victim_classes().get(casualty.victims or "", {}).get("civilian"))


_WEAPON_TYPES = {
    "grenade": "Grenade",
    "chemical": "Chemical weapon",
    "air": "Air/drone strike",
    "artillery": "Shelling/artillery/missile attack",
    "explosive": "Remote explosive/landmine/IED",
}
_TERRITORY_BY_AGENT_AFTER = ("fell to", "fallen to", "falls to")


@dataclass
class Draft:
    """An event being assembled from one or more sentences."""

    sub_event_type: str
    sentences: list[Sentence]
    triggers: list[TriggerMention]
    place: PlaceMention | None = None
    date: DateMention | None = None
    agents: list[ActorMention] = field(default_factory=list)
    targets: list[ActorMention] = field(default_factory=list)
    weapons: list[WeaponMention] = field(default_factory=list)
    casualties: list[CasualtyMention] = field(default_factory=list)
    extra_places: list[PlaceMention] = field(default_factory=list)  # region cues that locate the place

    def absorb(self, other: "Draft") -> None:
        for name in ("sentences", "triggers", "agents", "targets", "weapons", "casualties", "extra_places"):
            mine = getattr(self, name)
            mine.extend(x for x in getattr(other, name) if x not in mine)
        self.date = self.date or other.date


class _Sentence:
    """The annotations of one sentence, gathered once."""

    def __init__(self, doc: Doc, sentence: Sentence, folded: str) -> None:
        self.sentence = sentence
        inside = lambda items: [m for m in items if m.start >= sentence.start and m.end <= sentence.end]  # noqa: E731
        self.places = [p for p in inside(doc.places) if p.role in ("location", "region")]
        self.actors = inside(doc.actors)
        self.dates = inside(doc.dates)
        self.weapons = inside(doc.weapons)
        self.casualties = inside(doc.casualties)
        self.sources = inside(doc.sources)
        modal = [m for m in _modal_matcher().find(doc.text[sentence.start:sentence.end],
                                                  folded[sentence.start:sentence.end])]
        self.triggers = [t for t in inside(doc.triggers) if not _is_modal(t, modal, sentence, doc.text)]
        segment = folded[sentence.start:sentence.end]
        self.air_cue = bool(_air_matcher().find(segment, segment)) or any(a.actor.kind == "air" for a in self.actors) \
            or any(w.category == "air" for w in self.weapons)


def _is_modal(trigger: TriggerMention, modal, sentence: Sentence, text: str) -> bool:
    for cue in modal:
        cue_end = sentence.start + cue.end
        if cue_end <= trigger.start and trigger.start - cue_end <= MODAL_REACH:
            between = text[cue_end:trigger.start]
            if not any(p in between for p in ",;:.\u2014"):
                return True
    return False


def find_triggers(doc: Doc, folded: str) -> None:
    for m in trigger_matcher().find(doc.text, folded):
        spec: TriggerSpec = m.value
        doc.triggers.append(TriggerMention(
            m.start, m.end, doc.text[m.start:m.end],
            event_type=taxonomy()[spec.sub_event_type]["event_type"] if spec.sub_event_type else "",
            sub_event_type=spec.sub_event_type or "", cue=("remote_air" if spec.air_only else spec.cls) or "",
            fallback=spec.fallback or "",
        ))


def find_weapons(doc: Doc, folded: str) -> None:
    for m in weapon_matcher().find(doc.text, folded):
        name, category = m.value
        doc.weapons.append(WeaponMention(m.start, m.end, doc.text[m.start:m.end], weapon=name, category=category))


# -- agents and targets ------------------------------------------------------------

def _is_armed(mention: ActorMention) -> bool:
    return mention.actor.inter not in (5, 6, 7)


_PRONOUN_SUBJECT = re.compile(r"\b(?:they|it|he|she|the group|the forces|the fighters|the militants|the troops)\b", re.I)
_CLAUSE_BREAK = re.compile(r"[;:\u2014]")


def _agent(s: _Sentence, trigger: TriggerMention, context: Draft | None, country: str | None,
           text: str) -> list[ActorMention]:
    """Who did it, head first, then allies named with it.

    The subject is the first armed actor of the trigger's clause ("The Free Idlib Army,
    part of the Free Syrian Army, has issued..."); actors of the same side named with it
    join it ("pro-Assad forces, including Iranian-led militias"), and the state force
    among them heads the group, as ACLED codes it. Else an actor after the trigger
    ("fell to X", "bombing of Y as X try..."); else, when the subject is a pronoun
    ("they completed the recapture"), the previous event's agent.
    """
    armed = [a for a in s.actors if _is_armed(a)]
    if trigger.text.lower() in _TERRITORY_BY_AGENT_AFTER:
        return [a for a in armed if a.start >= trigger.end][:1]
    clause_start = max((s.sentence.start + m.end() for m in
                        _CLAUSE_BREAK.finditer(text, s.sentence.start, trigger.start)), default=s.sentence.start)
    before = [a for a in armed if a.start < trigger.end and (a.actor.kind != "weak" or _weak_subject(a, trigger, text))]
    in_clause = [a for a in before if a.start >= clause_start] or before
    if in_clause:
        subject = in_clause[0]
        side = actor_rules.side(subject.actor, country)
        group = [a for a in in_clause if actor_rules.side(a.actor, country) == side]
        head = min(group, key=lambda a: actor_rules.inter_code(a.actor, country))
        allies = [a for a in group if a is not head and a.actor.name != head.actor.name]
        return [head, *allies]
    after = [a for a in armed if a.start >= trigger.end and a.actor.kind != "weak"]
    if after and trigger.cue != "territory":  # "entered X after eliminating Y": Y is no agent
        return after[:1]
    if context and context.agents and _PRONOUN_SUBJECT.search(text, s.sentence.start, trigger.start):
        return context.agents[:1]
    return []


# A bare country name or demonym is the agent only as a subject or coordinated with
# one: "Russia is continuing its bombing", "Russian and regime strikes"; not "the
# Turkish border since the bombardment".
_WEAK_SUBJECT_NEXT = re.compile(
    r"(?:\s+(?:and|or)\b|\s+(?:is|are|was|were|has|have|had|also|again|continues|continued|escalated|launched|"
    r"carried|conducted|intensified|stepped|resumed|began|started)\b|['\u2019]s\b)")
# Where the trigger's clause ends: the target is named before it.
_CLAUSE_END = re.compile(r"[;:\u2014]|,\s+(?:while|whereas|but|and|according|as|after|before|when)\b")


def _weak_subject(mention: ActorMention, trigger: TriggerMention, text: str) -> bool:
    return trigger.start - mention.end <= 60 and _WEAK_SUBJECT_NEXT.match(text, mention.end) is not None


def _targets(s: _Sentence, trigger: TriggerMention, agents: list[ActorMention],
             country: str | None, text: str) -> list[ActorMention]:
    """Against whom: the first actor after the trigger, within its clause, on another
    side than the agent."""
    end = _CLAUSE_END.search(text, trigger.end, s.sentence.end)
    limit = end.start() if end else s.sentence.end
    agent_sides = {actor_rules.side(a.actor, country) for a in agents}
    return [a for a in s.actors if trigger.end <= a.start < limit and a.actor.kind != "weak" and a not in agents
            and actor_rules.side(a.actor, country) not in agent_sides
            and not any(src.start <= a.start < src.end for src in s.sources)][:1]  # "medics said": a source


_CROWD_EVENTS = ("Protests", "Riots")
_PROTESTERS = Actor("Protesters ({country})", 6, "civilian")
_RIOTERS = Actor("Rioters ({country})", 5, "civilian")


def _crowd_roles(s: _Sentence, trigger: TriggerMention, sub_type: str) -> tuple[list, list]:
    """Protests and riots: the crowd is actor1 (named, or the trigger itself says
    "protesters"); state forces that intervene are actor2, or actor1 when they use
    excessive force against the crowd."""
    rioting = taxonomy()[sub_type]["event_type"] == "Riots"
    crowd = [a for a in s.actors if a.actor.inter in (5, 6)][:1] or [
        ActorMention(trigger.start, trigger.end, trigger.text, actor=_RIOTERS if rioting else _PROTESTERS)]
    forces = [a for a in s.actors if a.actor.inter in (1, 3, 8)][:1]
    if sub_type == "Excessive force against protesters":
        return forces, crowd
    return crowd, forces if sub_type != "Peaceful protest" else []


def _can_strike_from_the_air(agent: ActorMention) -> bool:
    return agent.actor.inter in (1, 8) or agent.actor.kind == "air"


def _is_government_side(mention: ActorMention, country: str | None) -> bool:
    return actor_rules.side(mention.actor, country) == "government"


# -- sub-event type -----------------------------------------------------------------

def _resolve_type(trigger: TriggerMention, s: _Sentence, agents, targets, country: str | None) -> str | None:
    """The ACLED sub-event type a trigger signals in its sentence, or None."""
    if trigger.sub_event_type:
        return trigger.sub_event_type
    if trigger.cue == "territory":
        if not agents:
            return None
        return "Government regains territory" if _is_government_side(agents[0], country) \
            else "Non-state actor overtakes territory"
    weapon_types = [_WEAPON_TYPES[w.category] for w in s.weapons if w.category in _WEAPON_TYPES]
    if trigger.cue == "remote_air":
        return "Air/drone strike" if s.air_cue else None
    if trigger.cue == "remote":
        # An air cue decides; else a named weapon ("struck an improvised explosive
        # device"); else a state agent, which bombs from the air.
        if s.air_cue:
            return "Air/drone strike"
        delivery = [t for t in weapon_types if t not in _separate()]  # chemicals are their own event
        if delivery:
            return delivery[0]
        if any(a.actor.inter in (1, 8) for a in agents):
            return "Air/drone strike"
        return trigger.fallback or None
    if trigger.cue == "attack":
        if weapon_types:
            return min(weapon_types, key=lambda t: _precedence().get(t, 99))
        if targets and targets[0].actor.inter == 7:
            return "Attack"
        if agents and targets and _is_armed(targets[0]):
            return "Armed clash"
        if agents and any(_is_civilian_victim(c) for c in s.casualties):
            return "Attack"
    return None


# -- place --------------------------------------------------------------------------

_COARSENESS = {"populated": 0, "site": 0, None: 0, "admin2": 150, "admin1": 250, "country": 500}


_RELATIVE_BEFORE = re.compile(
    r"(?:\b(?:north|south|east|west|northeast|northwest|southeast|southwest|north-east|north-west|south-east|"
    r"south-west)(?:ern)?\s+of|\bnear|\bnearby|\boutside|\bkm\s+(?:from|of)|\bmiles\s+(?:from|of))"
    r"\s+(?:the\s+)?(?:(?:city|town|village)\s+of\s+)?$", re.I)


def _choose_place(s: _Sentence, trigger: TriggerMention, country: str | None, text: str) -> PlaceMention | None:
    """Where it happened: the most specific place nearest the trigger, preferring one
    after it ("moved into X"). Not a place inside an actor's name ("Russia is bombing",
    "Islamic State in the Greater Sahara") nor a foreign country ("the Britain-based monitor"),
    and not a place that only locates another ("X, north of Y") unless it is the only one."""
    candidates = [p for p in s.places
                  if not any(a.start <= p.start and p.end <= a.end for a in s.actors)  # "IS in the Greater Sahara"
                  and not (p.place is not None and p.place.feature == "country" and p.place.country_code != country)]
    anchors_only = [p for p in candidates if _locates_another(p, candidates, text)]
    if len(anchors_only) < len(candidates):
        candidates = [p for p in candidates if p not in anchors_only]
    if not candidates:
        return None

    def cost(p: PlaceMention) -> float:
        distance = p.start - trigger.end if p.start >= trigger.end else 1.5 * (trigger.start - p.end) + 20
        feature = p.place.feature if p.place else None
        coarse = _COARSENESS.get(feature, 0) if p.role != "region" else _COARSENESS["admin1"]
        return max(distance, 0) + coarse

    return min(candidates, key=cost)


def _locates_another(place: PlaceMention, others: list[PlaceMention], text: str) -> bool:
    """Whether `place` is the Y of "X, north of Y" / "X near Y" for another place X."""
    relation = _RELATIVE_BEFORE.search(text, max(0, place.start - 40), place.start)
    if relation is None:
        return False
    return any(0 <= relation.start() - q.end <= 2 for q in others if q is not place)


def location_name(place: PlaceMention) -> str:
    """The ACLED location of a mention: the gazetteer's name without diacritics; the
    anchor's for a bare relative phrase ("north of Hama" -> Hama); else the text."""
    if place.place is not None:
        return ascii_name(place.place.name)
    anchor = place.anchor
    if anchor is not None and place.start < anchor.start and place.end == anchor.end:
        return location_name(anchor)
    return place.text


_AYN_HAMZA = str.maketrans("", "", "\u2018\u2019\u02bb\u02bc\u02be\u02bf`")


def ascii_name(name: str) -> str:
    """A gazetteer name as ACLED writes locations: "Ḩalfāyā" -> "Halfaya"."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return folded.translate(_AYN_HAMZA)


# -- the pass over sentences -----------------------------------------------------------

def _drafts_for_sentence(s: _Sentence, context: Draft | None, country: str | None, text: str) -> list[Draft]:
    typed: list[tuple[str, TriggerMention, list, list]] = []
    for trigger in s.triggers:
        agents = _agent(s, trigger, context, country, text)
        targets = _targets(s, trigger, agents, country, text)
        sub_type = _resolve_type(trigger, s, agents, targets, country)
        if sub_type == "Air/drone strike" and agents and not _can_strike_from_the_air(agents[0]):
            agents, targets = [], []  # whoever flew it, it was not this group
        if sub_type and taxonomy()[sub_type]["event_type"] in _CROWD_EVENTS:
            agents, targets = _crowd_roles(s, trigger, sub_type)
        if sub_type:
            typed.append((sub_type, trigger, agents, targets))
    if not typed:
        return []
    rank = _precedence()
    main = min((t for t in typed if t[0] not in _separate()), key=lambda t: rank.get(t[0], 99), default=None)
    chosen = [main] if main else []
    chosen += [t for t in typed if t[0] in _separate()][:1]
    if any(w.category == "chemical" for w in s.weapons) and not any(t[0] == "Chemical weapon" for t in chosen) and main:
        chosen.append(("Chemical weapon", main[1], main[2], main[3]))
    drafts = []
    for sub_type, trigger, agents, targets in chosen:
        # Chemical agents belong to the Chemical weapon event, other weapons to the rest.
        chemical = sub_type == "Chemical weapon"
        weapons = [w for w in s.weapons if (w.category == "chemical") == chemical]
        drafts.append(Draft(
            sub_event_type=sub_type, sentences=[s.sentence],
            triggers=[t[1] for t in typed if t[0] == sub_type] or [trigger],
            place=_choose_place(s, trigger, country, text),
            date=min(s.dates, key=lambda d: abs(d.start - trigger.start), default=None),
            agents=agents, targets=targets, weapons=weapons, casualties=list(s.casualties),
            extra_places=[p for p in s.places if p.role == "region"],
        ))
    return drafts


def _same_happening(a: Draft, b: Draft) -> bool:
    """Same type at the same place, on the same date or with one of them undated (a
    headline, "Multiple reports say X moved into Y") in the same report."""
    if a.sub_event_type != b.sub_event_type or _place_key(a.place) != _place_key(b.place):
        return False
    return a.date is None or b.date is None or a.date.value == b.date.value


def _place_key(place: PlaceMention | None):
    if place is None:
        return None
    return place.place.geonameid if place.place else place.text.lower()


def _refers_back(s: _Sentence, event: Draft) -> bool:
    """Whether a sentence speaks of the same kind of attack again without saying where."""
    remote = taxonomy()[event.sub_event_type]["event_type"] == "Explosions/Remote violence"
    return any(t.sub_event_type == event.sub_event_type or (t.cue.startswith("remote") and remote)
               for t in s.triggers)


def build_drafts(doc: Doc, folded: str, country: str | None, keep_unlocated: bool = False) -> list[Draft]:
    """Event drafts of a document. An event whose place the text does not give is
    dropped (ACLED codes none without a location) unless `keep_unlocated`."""
    drafts: list[Draft] = []
    context: Draft | None = None
    context_index = -10
    for index, sentence in enumerate(doc.sentences):
        if is_heading(doc.text, sentence) and index > 0:
            context = None
        s = _Sentence(doc, sentence, folded)
        near = context if context is not None and index - context_index <= CONTEXT_WINDOW else None
        new = _drafts_for_sentence(s, near, country, doc.text)
        located = [d for d in new if d.place is not None]
        unlocated = [d for d in new if d.place is None]
        # A following sentence that adds figures, weapons or speaks of the attack again
        # ("The strike put the hospital out of service") belongs to the event just told.
        attach = near is not None and (unlocated or (not new and (s.casualties or s.weapons or _refers_back(s, near))))
        if attach:
            # Detail about the event just told: figures, weapons, its victims.
            near.sentences.append(sentence)
            if near.date is None and s.dates:
                near.date = s.dates[0]  # "Earlier this month, they completed the recapture"
            near.casualties.extend(s.casualties)
            near.weapons.extend(w for w in s.weapons if w not in near.weapons)
            for d in unlocated:
                near.triggers.extend(d.triggers)
                if not near.targets:
                    near.targets = d.targets
            if not near.targets and any(_is_civilian_victim(c) for c in s.casualties):
                near.targets = [a for a in s.actors if a.actor.inter == 7][:1]  # "killed three doctors"
            context_index = index
        for draft in located + (unlocated if keep_unlocated and not attach else []):
            twin = next((d for d in drafts if _same_happening(d, draft)), None)
            if twin:
                twin.absorb(draft)
                draft = twin
            else:
                drafts.append(draft)
            context, context_index = draft, index
    return drafts


# -- drafts into events ---------------------------------------------------------------

def _claims(doc: Doc, casualties: list[CasualtyMention]) -> list[Claim]:
    return [
        Claim(kind=c.kind, value=c.value, victims=c.victims, source=c.source.source if c.source else None,
              approximate=c.approximate,
              evidence=[doc.span(c)] + ([doc.span(c.source)] if c.source else []))
        for c in casualties
    ]


def _event_id(report_id: str, draft: Draft, iso3: str) -> str:
    key = f"{report_id}|{draft.sub_event_type}|{_place_key(draft.place)}|{draft.date.value if draft.date else ''}"
    number = int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) % 10**12
    return f"{iso3 or 'XXX'}{number:012d}"


def to_event(doc: Doc, draft: Draft, locate, country_info) -> Event:
    """Fill every ACLED column of one draft, recording the evidence of each."""
    report = doc.report
    info = taxonomy()[draft.sub_event_type]
    evidence: dict[str, list[Span]] = {}

    def cite(fields: tuple[str, ...], mentions) -> None:
        spans = [doc.span(m) for m in mentions if m is not None]
        if spans:
            for name in fields:
                evidence.setdefault(name, []).extend(s for s in spans if s not in evidence.get(name, []))

    cite(("event_type", "sub_event_type", "disorder_type", "plover_event", "plover_mode"), draft.triggers)

    # Where.
    lat = lon = None
    precision = None
    place_entry = None
    admin1 = admin2 = ""
    country_code = ""
    location = ""
    place = draft.place
    if place is not None:
        lat, lon, precision, place_entry = locate(place, draft.extra_places)
        location = location_name(place)
        if place_entry is not None:
            admin1, admin2, country_code = place_entry.admin1, place_entry.admin2, place_entry.country_code
        cite(("location",), [place])
        support = [place, place.anchor] + ([r for r in draft.extra_places if place_entry and
                                            r.place is not None and r.place.admin1 == admin1] if not place.place else [])
        cite(("latitude", "longitude", "geo_precision", "admin1", "admin2", "country", "iso", "region",
              "geonames_id"), support)
    country = country_info(country_code) if country_code else {}

    # When.
    if draft.date is not None:
        event_date, time_precision = draft.date.value, draft.date.precision
        cite(("event_date", "year", "time_precision"), [draft.date])
        date_note = ""
    else:
        event_date = report.published or date.today()
        time_precision = 1 if report.published and not report.published_inferred else 2
        date_note = " Date: the report's publication date (the text gives none for this event)."

    # Who.
    event_country = country_code or None
    actor1 = actor2 = assoc1 = side1 = side2 = ""
    inter1 = inter2 = None
    if draft.agents:
        head = draft.agents[0]
        actor1 = actor_rules.resolve_name(head.actor, event_country)
        inter1 = actor_rules.inter_code(head.actor, event_country)
        side1 = actor_rules.side(head.actor, event_country)
        cite(("actor1", "inter1", "side1"), [head])
        allies = sorted({actor_rules.resolve_name(a.actor, event_country) for a in draft.agents[1:]} - {actor1})
        assoc1 = "; ".join(allies)
        cite(("assoc_actor_1",), draft.agents[1:] if allies else [])
    victims_civilian = [c for c in draft.casualties if _is_civilian_victim(c)]
    if draft.targets:
        target = draft.targets[0]
        actor2 = actor_rules.resolve_name(target.actor, event_country)
        inter2 = actor_rules.inter_code(target.actor, event_country)
        side2 = actor_rules.side(target.actor, event_country)
        cite(("actor2", "inter2", "side2"), [target])
    elif victims_civilian and country:
        actor2, inter2, side2 = f"Civilians ({country['name']})", 7, "civilian"
        cite(("actor2", "inter2", "side2"), victims_civilian)
    interaction = None
    if inter1 is not None:
        interaction = int(f"{min(inter1, inter2)}{max(inter1, inter2)}") if inter2 is not None else inter1 * 10
        cite(("interaction",), draft.agents[:1] + draft.targets[:1])
    civilian_targeting = "Civilian targeting" if inter2 == 7 else ""
    if civilian_targeting:
        cite(("civilian_targeting",), draft.targets[:1] or victims_civilian)

    # With what, how many.
    weapons = sorted({w.weapon for w in draft.weapons})
    cite(("weapons",), draft.weapons)
    claims = _claims(doc, draft.casualties)
    fatalities = acled_figure(claims, "fatalities") or 0
    injuries = acled_figure(claims, "injuries")
    cite(("fatalities",), [c for c in draft.casualties if c.kind == "fatalities"] if fatalities else [])
    cite(("injuries",), [c for c in draft.casualties if c.kind == "injuries"])

    notes = " ".join(doc.text[s.start:s.end] for s in draft.sentences)
    if len(notes) > NOTES_MAX:
        notes = notes[:NOTES_MAX].rsplit(" ", 1)[0] + " ..."
    cite(("notes",), draft.sentences)
    if place is not None and place.anchor is not None and precision == 2:
        distance = f"about {place.distance_km:g} km " if place.distance_km else ""
        direction = f"{place.direction} of " if place.direction and place.direction != "near" else "near "
        notes += f" Location: {place.text}, {distance}{direction}{place.anchor.text}."
    notes += date_note

    confidence = 0.4 + 0.15 * (precision == 1) + 0.15 * bool(actor1) + 0.1 * (draft.date is not None) \
        + 0.1 * bool(claims) + 0.05 * (len(draft.sentences) > 1)
    event = Event(
        event_id_cnty=_event_id(report.id, draft, country.get("iso3", "")),
        event_date=event_date, year=event_date.year, time_precision=time_precision,
        disorder_type=info["disorder_type"], event_type=info["event_type"], sub_event_type=draft.sub_event_type,
        actor1=actor1, assoc_actor_1=assoc1, inter1=inter1, actor2=actor2, inter2=inter2, side1=side1, side2=side2,
        interaction=interaction, civilian_targeting=civilian_targeting,
        iso=country.get("iso_numeric"), region=country.get("region", ""), country=country.get("name", ""),
        admin1=admin1, admin2=admin2, location=location, latitude=lat, longitude=lon, geo_precision=precision,
        source=report.outlet or "", notes=notes.strip(), fatalities=fatalities,
        geonames_id=place_entry.geonameid if place_entry is not None and place_entry.geonameid > 0 else None,
        weapons=weapons, injuries=injuries, plover_event=info["plover"], plover_mode=info["mode"],
        claims=claims, confidence=round(min(confidence, 0.95), 2), report_ids=[report.id],
        evidence=evidence,
    )
    return event


def annotate(doc: Doc, folded: str, locate, country_info, keep_unlocated: bool = False) -> None:
    """Triggers and weapons, then events. `locate(place, regions)` gives
    (lat, lon, geo_precision, gazetteer entry); `country_info(iso2)` the country's
    ACLED name, numeric ISO code, ISO3 and region."""
    find_triggers(doc, folded)
    find_weapons(doc, folded)
    country = actor_rules.focus_country(doc)
    drafts = build_drafts(doc, folded, country, keep_unlocated)
    doc.events = [to_event(doc, draft, locate, country_info) for draft in drafts]
