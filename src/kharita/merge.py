"""The `merge` stage: reports about the same happening become one event.

Each report's events are *mentions*. A new mention joins an existing event when the
two are the same happening by ACLED's lights, or starts a new one:

- the same event type (a strike one outlet calls shelling and another an air raid is
  still one Explosions/Remote violence event);
- dates within a window that widens with the coarser time precision (1 day for exact
  days, a week for p2, a month for p3);
- places within a radius that widens with the coarser geo precision, or the same place
  name when coordinates are missing;
- actors that do not contradict each other (actor1 on the same side, when both name one).

Candidates come from the store by blocking (event type, date window, bounding box), never
all pairs, so merging is incremental and near-linear. Every decision is kept with its
reason, and a user's split is a cannot-link that later merges respect.

Conflicting figures are kept side by side as claims; the merged figure follows ACLED:
within one source distinct victim groups add up, between sources the lowest total wins.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta

from .models import Claim, Event, Span

# Date windows (days) and radii (km) by the coarser precision of the two mentions.
# ACLED codes one event per day and place: exact days must agree, except that a date
# taken from the publication date (the text gives none) may be a day late.
DATE_WINDOW_DAYS = {1: 0, 2: 7, 3: 31}
PUBLICATION_DATE_SLACK_DAYS = 1
RADIUS_KM = {1: 10.0, 2: 30.0, 3: 120.0}
NO_PRECISION_RADIUS_KM = 30.0


_REPORT_COUNT = re.compile(r" \[\d+ reports\]$")


@dataclass(frozen=True, slots=True)
class EventKey:
    """What merging looks at in a stored event (read without parsing the whole record)."""

    event_id_cnty: str
    event_type: str
    sub_event_type: str
    event_date: object
    time_precision: int
    latitude: float | None
    longitude: float | None
    geo_precision: int | None
    location: str
    side1: str
    date_source: str


@dataclass(frozen=True)
class Decision:
    same: bool
    reason: str


def date_window(precision: int | None) -> timedelta:
    return timedelta(days=DATE_WINDOW_DAYS.get(precision or 3, 31))


def radius_km(precision: int | None) -> float:
    return RADIUS_KM.get(precision, NO_PRECISION_RADIUS_KM) if precision else NO_PRECISION_RADIUS_KM


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, h)))


def bounding_box(lat: float, lon: float, km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) enclosing a circle of `km` around a point."""
    dlat = km / 111.0
    dlon = km / max(1e-6, 111.0 * math.cos(math.radians(lat)))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def same_happening(new: Event | EventKey, old: Event | EventKey) -> Decision:
    """Whether two events (mentions) are reports of one happening, and why."""
    if new.event_type != old.event_type:
        return Decision(False, f"different event types ({new.event_type} / {old.event_type})")
    if "ingested" in (new.date_source, old.date_source):
        return Decision(False, "date unknown")
    window = date_window(max(new.time_precision, old.time_precision)).days
    if "published" in (new.date_source, old.date_source):
        window = max(window, PUBLICATION_DATE_SLACK_DAYS)
    gap = abs((new.event_date - old.event_date).days)
    if gap > window:
        return Decision(False, f"dates {gap} days apart (window {window})")
    if None not in (new.latitude, new.longitude, old.latitude, old.longitude):
        distance = km_between(new.latitude, new.longitude, old.latitude, old.longitude)
        limit = radius_km(max(new.geo_precision or 3, old.geo_precision or 3))
        if distance > limit:
            return Decision(False, f"places {distance:.0f} km apart (radius {limit:.0f})")
        where = f"{distance:.1f} km apart ({old.location or '?'} / {new.location or '?'})"
    elif new.location and new.location.lower() == old.location.lower():
        where = f"same place name ({new.location})"
    else:
        return Decision(False, "no coordinates or common place name")
    if new.side1 and old.side1 and new.side1 != old.side1:
        return Decision(False, f"actor1 on different sides ({old.side1} / {new.side1})")
    return Decision(True, f"same event type ({new.event_type}); dates {gap} day(s) apart (window "
                          f"{window}); {where}; actors compatible")


def closeness(a: Event | EventKey, b: Event | EventKey) -> tuple[int, float, int]:
    """How near two matching events are, to pick the best of several: days apart, km
    apart, then whether they share the sub-event type."""
    distance = (km_between(a.latitude, a.longitude, b.latitude, b.longitude)
                if None not in (a.latitude, a.longitude, b.latitude, b.longitude) else 0.0)
    return abs((a.event_date - b.event_date).days), round(distance, 1), int(a.sub_event_type != b.sub_event_type)


def _precision_rank(event: Event) -> tuple:
    """Which mention speaks best for a field: precise place, then precise date, then confidence."""
    return (event.geo_precision or 9, event.time_precision, -event.confidence)


def claim_key(claim: Claim) -> str:
    """Who stands behind a claim: its named source, else its report (each report its own source)."""
    if claim.source:
        return claim.source.lower()
    return "report:" + (claim.evidence[0].report_id if claim.evidence else "")


# Victim words that count everyone: "21 people", "18 dead". A source's figure for them
# already includes its figures for specific groups ("killing 21 people, 7 of them children").
GENERIC_VICTIMS = frozenset({None, "people", "persons", "person", "bodies"})


def acled_figure(claims: list[Claim], kind: str) -> int | None:
    """ACLED's figure from several claims: within one source, distinct specific victim
    groups add up, a count of everyone covers them; between sources that disagree, the
    lowest total is kept. None without a claim."""
    by_source: dict[str, dict[str | None, int]] = {}
    for claim in claims:
        if claim.kind == kind:
            groups = by_source.setdefault(claim_key(claim), {})
            groups[claim.victims] = max(groups.get(claim.victims, 0), claim.value)
    if not by_source:
        return None
    totals = []
    for groups in by_source.values():
        everyone = max((v for g, v in groups.items() if g in GENERIC_VICTIMS), default=0)
        specific = sum(v for g, v in groups.items() if g not in GENERIC_VICTIMS)
        totals.append(max(everyone, specific))
    return min(totals)


def _union_spans(lists: list[list[Span]]) -> list[Span]:
    seen: set[tuple[str, int, int]] = set()
    out: list[Span] = []
    for spans in lists:
        for span in spans:
            key = (span.report_id, span.start, span.end)
            if key not in seen:
                seen.add(key)
                out.append(span)
    return out


def combine(event_id: str, mentions: list[Event]) -> Event:
    """One event from the mentions of one happening.

    Each field comes from the mention that gives it most precisely, with that mention's
    evidence; claims, weapons, reports and sources are the union of all mentions.
    """
    if len(mentions) == 1:
        return mentions[0].model_copy(update={"event_id_cnty": event_id})
    ranked = sorted(mentions, key=_precision_rank)
    best = ranked[0]
    fields = best.model_dump(exclude={"claims", "evidence", "weapons", "report_ids", "event_id_cnty"})
    evidence: dict[str, list[Span]] = {name: list(spans) for name, spans in best.evidence.items()}

    def take(names: tuple[str, ...], source: Event) -> None:
        for name in names:
            fields[name] = getattr(source, name)
            if name in source.evidence:
                evidence[name] = list(source.evidence[name])
            else:
                evidence.pop(name, None)

    dated = min(mentions, key=lambda e: (e.time_precision, e.event_date))
    take(("event_date", "year", "time_precision"), dated)
    with_actor = next((e for e in ranked if e.actor1), None)
    if with_actor is not None and not best.actor1:
        take(("actor1", "assoc_actor_1", "inter1", "side1", "interaction"), with_actor)
    with_target = next((e for e in ranked if e.actor2), None)
    if with_target is not None and not fields["actor2"]:
        take(("actor2", "assoc_actor_2", "inter2", "side2", "civilian_targeting"), with_target)
    if fields["inter1"] is not None:
        i1, i2 = fields["inter1"], fields["inter2"]
        fields["interaction"] = int(f"{min(i1, i2)}{max(i1, i2)}") if i2 is not None else i1 * 10

    claims: list[Claim] = []
    seen_claims: set[tuple] = set()
    for mention in mentions:
        for claim in mention.claims:
            key = (claim.kind, claim.value, claim.victims, claim_key(claim))
            if key not in seen_claims:
                seen_claims.add(key)
                claims.append(claim)
    fields["fatalities"] = acled_figure(claims, "fatalities") or 0
    fields["injuries"] = acled_figure(claims, "injuries")
    for name, kind in (("fatalities", "fatalities"), ("injuries", "injuries")):
        spans = _union_spans([c.evidence[:1] for c in claims if c.kind == kind])
        if spans and fields[name]:
            evidence[name] = spans
        else:
            evidence.pop(name, None)
    weapons = sorted({w for m in mentions for w in m.weapons})
    if weapons:
        evidence["weapons"] = _union_spans([m.evidence.get("weapons", []) for m in mentions])
    evidence["notes"] = _union_spans([m.evidence.get("notes", []) for m in mentions])
    report_ids = list(dict.fromkeys(r for m in mentions for r in m.report_ids))
    sources = list(dict.fromkeys(s for m in mentions for s in m.source.split("; ") if s))
    fields["source"] = "; ".join(sources)
    notes = _REPORT_COUNT.sub("", best.notes)
    fields["notes"] = notes + f" [{len(report_ids)} reports]" if len(report_ids) > 1 else notes
    fields["confidence"] = round(min(0.95, max(m.confidence for m in mentions) + 0.05 * (len(report_ids) - 1)), 2)
    merged = Event(event_id_cnty=event_id, claims=claims, evidence=evidence, weapons=weapons,
                   report_ids=report_ids, **{**fields, "health": None})
    records = [m.health for m in ranked if m.health is not None]
    if records:
        from .health import (
            refresh,  # health codes figures with merge's rules: import late
        )

        facility_types = sorted({t for r in records for t in r.facility_types})
        resources = list(dict.fromkeys(x for r in records for x in r.resources_affected))
        damage = "destroyed" if any(r.facility_damage == "destroyed" for r in records) else records[0].facility_damage
        first = records[0].model_copy(update={"facility_types": facility_types, "resources_affected": resources,
                                              "facility_damage": damage})
        merged.health = refresh(first, merged)
    return merged
