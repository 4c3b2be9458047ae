"""The `health` stage: which events hit health care, coded for WHO's SSA register.

An event is an attack on health care when a facility phrase ("the underground hospital",
"an ambulance") belongs to it — in its sentences and nearer its trigger than any other
event's — or when its figures count health workers or patients. Vocabulary and the
mapping to SSA attack types are in `data/health.yaml`.
"""
from __future__ import annotations

import re
from functools import cache

from .doc import Doc
from .lexicon import DictionarySet, load_data, preload
from .merge import acled_figure, claim_key
from .models import Claim, Event, HealthAttack, Span


# How far (characters) a facility phrase may stand from its event's trigger.
FACILITY_REACH = 100
# A facility described, not attacked: "The clinic was about 10 km west of X, the town hit by ..."
_DESCRIBED = re.compile(r"\s+(?:was|is|lies|lay|sits|sat|stood|stands)\s+(?:about|around|some|located|situated|"
                        r"based|roughly|nearly|\d)", re.I)


@cache
def _data() -> dict:
    return load_data("health.yaml")


@preload
@cache
def _phrases() -> DictionarySet[str | bool]:
    """Facility phrases (value: the kind of facility), damage phrases (value: the level)
    and phrases of setting fire, found in one walk over a report."""
    data = _data()
    return DictionarySet({
        "facilities": [(phrase, kind) for kind, phrases in data["facilities"].items() for phrase in phrases],
        "damage": [(phrase, level) for level, phrases in data["damage"].items() for phrase in phrases],
        "fire": [(phrase, True) for phrase in data["attack_types"]["setting_fire"]],
    })


@preload
@cache
def _health_victims() -> dict[str, str]:
    """Victim noun -> "health workers" | "patients" (from data/quantities.yaml)."""
    return {noun: spec["health"] for noun, spec in load_data("quantities.yaml")["victims"].items() if "health" in spec}


def _trigger_positions(event: Event) -> list[int]:
    return [span.start for span in event.evidence.get("sub_event_type", [])]


def _figure(claims: list[Claim], group: str, kind: str) -> int | None:
    victims = _health_victims()
    return acled_figure([c for c in claims if victims.get(c.victims or "") == group], kind)


def code(event: Event, facilities: list[tuple[int, int, str]], damage: list[tuple[int, int, str]],
         fire: bool, report_id: str, text: str) -> HealthAttack | None:
    """The SSA record of one event, or None when it did not hit health care."""
    victims = _health_victims()
    health_claims = [c for c in event.claims if c.victims in victims]
    if not facilities and not health_claims:
        return None
    span = lambda s, e: Span(report_id=report_id, start=s, end=e, text=text[s:e])  # noqa: E731
    evidence: dict[str, list[Span]] = {}
    if facilities:
        evidence["facility_types"] = [span(s, e) for s, e, _ in facilities]
    attack_type = "setting fire" if fire else _attack_type(event)
    evidence["attack_type"] = list(event.evidence.get("sub_event_type", []))
    resources = []
    if any(kind != "ambulance" for _, _, kind in facilities):
        resources.append("health facility")
    if any(kind == "ambulance" for _, _, kind in facilities):
        resources.append("health transport")
    if any(victims[c.victims] == "health workers" for c in health_claims):
        resources.append("health personnel")
    if any(victims[c.victims] == "patients" for c in health_claims):
        resources.append("patients")
    level = ""
    if damage and facilities:
        level = "destroyed" if any(d == "destroyed" for _, _, d in damage) else "damaged"
        evidence["facility_damage"] = [span(s, e) for s, e, _ in damage]
    record = HealthAttack(
        attack_type=attack_type,
        facility_types=sorted({kind for _, _, kind in facilities}),
        resources_affected=resources,
        facility_damage=level,
        evidence=evidence,
    )
    return refresh(record, event)


def refresh(record: HealthAttack, event: Event) -> HealthAttack:
    """Figures and certainty from the event's (possibly merged) claims and reports.

    SSA certainty, as Kharita derives it: confirmed with two or more independent
    sources, probable with one named source, possible otherwise.
    """
    claims = event.claims
    sources = {claim_key(c) for c in claims} | {f"report:{r}" for r in event.report_ids if not claims}
    named = any(c.source for c in claims)
    count = max(1, len(sources))
    certainty = "confirmed" if count >= 2 else "probable" if named else "possible"
    evidence = dict(record.evidence)
    health_claims = [c for c in claims if c.victims in _health_victims()]
    if health_claims:
        evidence["casualties"] = [c.evidence[0] for c in health_claims if c.evidence]
    if event.actor1:
        evidence["perpetrator_named"] = list(event.evidence.get("actor1", []))
    return record.model_copy(update={
        "health_workers_killed": _figure(claims, "health workers", "fatalities"),
        "health_workers_injured": _figure(claims, "health workers", "injuries"),
        "patients_killed": _figure(claims, "patients", "fatalities"),
        "patients_injured": _figure(claims, "patients", "injuries"),
        "independent_sources": count,
        "perpetrator_named": bool(event.actor1),
        "certainty": certainty,
        "evidence": evidence,
    })


def _attack_type(event: Event) -> str:
    types = _data()["attack_types"]
    by_weapon = types["by_weapon_category"]
    for weapon in event.weapons:
        if weapon in ("chlorine", "sarin", "nerve agent", "mustard gas", "toxic gas"):
            return by_weapon["chemical"]
    return types["by_sub_event_type"].get(event.sub_event_type, "other")


def annotate(doc: Doc, folded: str) -> None:
    """Give each event of the document its SSA record, if it hit health care."""
    if not doc.events:
        return
    found = _phrases().find(folded)
    facilities, damage, fires = found["facilities"], found["damage"], found["fire"]
    sentences = {id(e): [(s.start, s.end) for s in e.evidence.get("notes", [])] for e in doc.events}

    def owner(position: int) -> Event | None:
        """The event a phrase at `position` belongs to: in its sentences, nearest its trigger."""
        best: tuple[int, Event] | None = None
        for event in doc.events:
            if any(s <= position < e for s, e in sentences[id(event)]):
                distance = min((abs(position - t) for t in _trigger_positions(event)), default=10**6)
                if best is None or distance < best[0]:
                    best = (distance, event)
        return best[1] if best else None

    owned: dict[int, list] = {id(e): [] for e in doc.events}
    for m in facilities:
        event = owner(m.start)
        near = event is not None and any(abs(m.start - t) <= FACILITY_REACH for t in _trigger_positions(event))
        if near and not _DESCRIBED.match(doc.text, m.end):
            owned[id(event)].append((m.start, m.end, m.value))
    for event in doc.events:
        inside = lambda m: any(s <= m.start < e for s, e in sentences[id(event)])  # noqa: E731
        event.health = code(
            event, owned[id(event)], [(m.start, m.end, m.value) for m in damage if inside(m)],
            any(inside(m) for m in fires), doc.report.id, doc.text)
