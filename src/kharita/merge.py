"""The `merge` stage: reports about the same happening become one event.

Each report's events are *mentions*. A new mention joins an existing event when the
two are the same happening by ACLED's lights, or starts a new one. Precision comes
first: a wrong merge destroys an event, a missed one only leaves a duplicate.

- event types equal and sub-event types compatible (`COMPATIBLE_SUB_EVENTS`: one raid is
  an air strike to one outlet and shelling to another; a chemical attack is not a shelling);
- dates within a window that widens with the coarser time precision (same day for exact
  days, a week for p2, a month for p3);
- places compatible: the same country; within a radius that widens with the coarser geo
  precision; a region (admin1 or country, geo precision 3) only holds places inside it;
  a place the gazetteer does not know (placed at its region's centroid) is only the same
  as a place of the same name; without coordinates, the same place name;
- weak evidence needs corroboration: when the place is only a region or the date only a
  week or month, the sub-event types must be the same and the casualty figures within a
  factor of `FIGURE_RATIO` (tolls rise and sources differ, but not tenfold); a region
  *and* a coarse date together are too little to merge on;
- actors that do not contradict each other (actor1 on the same side when both name one;
  in a battle either side may be named first);
- never two events of one report (the events stage told them apart). Within one report,
  `collapse_nested` joins an event placed only at a region with the one event of the same
  kind and day at a place inside it ("Idlib province" / "Khan Sheikhoun, Idlib").

Candidates come from the store by blocking (event type, date window, bounding box, and
what these rules would reject anyway: `candidate_reach`), never all pairs, so merging is
incremental and near-linear; the closest is tried first. Every decision is kept with its
reason, and a user's split is a cannot-link that later merges respect.

Conflicting figures are kept side by side as claims; the merged figure follows ACLED:
within one source distinct victim groups add up, between sources the lowest total wins.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from .lexicon import load_data
from .models import Claim, Event, Span
from .names import name_key, names_match

# Date windows (days) and radii (km) by the coarser precision of the two mentions.
# ACLED codes one event per day and place: exact days must agree, except that a date
# taken from the publication date (the text gives none) may be a day late.
DATE_WINDOW_DAYS = {1: 0, 2: 7, 3: 31}
PUBLICATION_DATE_SLACK_DAYS = 1
MONTH_DAYS = DATE_WINDOW_DAYS[3]
RADIUS_KM = {1: 10.0, 2: 30.0, 3: 120.0}
NO_PRECISION_RADIUS_KM = 30.0
REGION_LEVEL = 3  # ACLED geo precision 3: only the region (admin1, or the country) is known

# Sub-event types (ACLED Codebook) that reports of one happening may be given. Outlets call
# one raid an air strike or shelling, one car bomb a suicide bombing or an IED; fighting
# that takes a place is a clash to one report and a change of territory to another; a
# report may leave out the police's intervention in a protest. Any other pair of distinct
# sub-event types is two happenings: a chemical attack is its own event beside the strike
# that delivered it (as the events stage codes it), a grenade is not a landmine.
COMPATIBLE_SUB_EVENTS: tuple[frozenset[str], ...] = (
    frozenset({"Air/drone strike", "Shelling/artillery/missile attack"}),
    frozenset({"Remote explosive/landmine/IED", "Suicide bomb"}),
    frozenset({"Armed clash", "Government regains territory"}),
    frozenset({"Armed clash", "Non-state actor overtakes territory"}),
    frozenset({"Peaceful protest", "Protest with intervention", "Excessive force against protesters"}),
    frozenset({"Violent demonstration", "Mob violence"}),
)

# Two death tolls of one happening differ (early and late counts, sources that count
# differently: 58 / 86 / 100 for one gas attack within two days), but rarely by more
# than this factor. Used only where the place or date alone cannot tell happenings apart.
FIGURE_RATIO = 3.0

# Columns of the store's events table that `EventKey` holds, in its field order: the
# store's candidate query selects exactly these (`EventKey(*row)`).
KEY_COLUMNS = ("event_id", "event_type", "sub_event_type", "event_date", "time_precision", "latitude",
               "longitude", "geo_precision", "location", "side1", "date_source",
               "admin1", "country", "fatalities", "actor1", "actor2")

_REPORT_COUNT = re.compile(r" \[\d+ reports\]$")


@dataclass(frozen=True, slots=True)
class EventKey:
    """What merging looks at in a stored event (read without parsing the whole record).

    The fields after `date_source` refine decisions (regions, countries, figures, battle
    sides); left at their defaults they are unknown and the rules using them stand aside."""

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
    admin1: str | None = ""
    country: str | None = ""
    fatalities: int | None = 0
    actor1: str | None = ""
    actor2: str | None = ""
    fatalities_high: int | None = None  # the highest toll a source gives (not a column yet)


@dataclass(frozen=True)
class Decision:
    same: bool
    reason: str


def date_window(precision: int | None) -> timedelta:
    return timedelta(days=DATE_WINDOW_DAYS.get(precision or 3, 31))


def date_reach(event: Event | EventKey) -> int:
    """Days either side of an event's date its happening may lie: none for an exact day
    the text gives, a week or a month for coarser ones; a date taken from the publication
    (the text gives none) is the day of the news or the day before, whatever precision
    it was given."""
    if event.date_source == "published":
        return PUBLICATION_DATE_SLACK_DAYS
    return date_window(event.time_precision).days


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


def sub_events_compatible(a: str, b: str) -> bool:
    """Whether two sub-event types can code one happening (`COMPATIBLE_SUB_EVENTS`)."""
    return a == b or any(a in group and b in group for group in COMPATIBLE_SUB_EVENTS)


def toll_range(event: Event | EventKey) -> tuple[float, float] | None:
    """The lowest and highest death toll an event's sources give; None when none gives
    one. A stored key knows its ACLED figure (the lowest) and, when the store keeps it,
    the highest; without that its sources may have said anything higher."""
    if isinstance(event, EventKey):
        if not event.fatalities:
            return None
        return event.fatalities, event.fatalities_high or math.inf
    claimed = [c.value for c in event.claims if c.kind == "fatalities" and c.value > 0]
    if event.fatalities:
        claimed.append(event.fatalities)
    return (min(claimed), max(claimed)) if claimed else None


def figures_compatible(a: Event | EventKey, b: Event | EventKey) -> bool:
    """Whether two events' death tolls can be one happening's: some figure of each within
    `FIGURE_RATIO` of some figure of the other ("dozens" and "58" in one report, "58" in
    another, fit). No figure fits anything."""
    range_a, range_b = toll_range(a), toll_range(b)
    if range_a is None or range_b is None:
        return True
    return range_a[0] <= FIGURE_RATIO * range_b[1] and range_b[0] <= FIGURE_RATIO * range_a[1]


def _text(value: str | None) -> str:
    return value or ""


def _level(event: Event | EventKey) -> int:
    return event.geo_precision or REGION_LEVEL


def region_of(event: Event | EventKey) -> str | None:
    """What a region-level event is placed at: "admin1" when its place is its admin1
    ("Idlib", "southern Idlib", "Syria's Idlib"), "country" when it is the country,
    "unresolved" when it names a place the gazetteer does not know (placed at its region's
    centroid), None for a precise place or when the event's admin1 is not known."""
    if _level(event) < REGION_LEVEL:
        return None
    location = name_key(_text(event.location))
    if _text(event.country) and location == name_key(event.country):
        return "country"
    admin1 = name_key(_text(event.admin1))
    if not admin1:
        return None
    if location == admin1 or location.endswith(" " + admin1) or location.startswith(admin1 + " "):
        return "admin1"
    return "unresolved"


def _same_name(a: Event | EventKey, b: Event | EventKey) -> bool:
    return bool(a.location and b.location) and names_match(a.location, b.location)


def places_compatible(new: Event | EventKey, old: Event | EventKey) -> tuple[bool, bool, str]:
    """(compatible, precise, why): whether two events' places can be one place, and
    whether that rests on precise places (both located better than a region)."""
    if _text(new.country) and _text(old.country) and new.country != old.country:
        return False, False, f"different countries ({old.country} / {new.country})"
    if None in (new.latitude, new.longitude, old.latitude, old.longitude):
        if new.location and old.location and new.location.lower() == old.location.lower():
            return True, False, f"same place name ({new.location})"
        return False, False, "no coordinates or common place name"
    distance = km_between(new.latitude, new.longitude, old.latitude, old.longitude)
    limit = radius_km(max(_level(new), _level(old)))
    if distance > limit:
        return False, False, f"places {distance:.0f} km apart (radius {limit:.0f})"
    where = f"{distance:.1f} km apart ({old.location or '?'} / {new.location or '?'})"
    if _level(new) < REGION_LEVEL and _level(old) < REGION_LEVEL:
        return True, True, where
    kinds = (region_of(new), region_of(old))
    if "unresolved" in kinds and not _same_name(new, old):
        # A place the gazetteer does not know is one precise place, not its whole region.
        return False, False, f"different places ({old.location} / {new.location})"
    if "admin1" in kinds and _text(new.admin1) and _text(old.admin1) and new.admin1 != old.admin1:
        region, place = (new, old) if kinds[0] == "admin1" else (old, new)
        return False, False, f"{region.location} does not hold {place.location}"
    return True, False, where


def _same_report(new: Event | EventKey, old: Event | EventKey) -> bool:
    return bool(set(getattr(new, "report_ids", ())) & set(getattr(old, "report_ids", ())))


def _sides_compatible(new: Event | EventKey, old: Event | EventKey) -> bool:
    if not (new.side1 and old.side1) or new.side1 == old.side1:
        return True
    if new.event_type == "Battles":
        # Either side of a battle may be named first: "rebels attacked the army" / "the army
        # repelled rebels" are one clash.
        swapped_sides = getattr(new, "side2", "") and new.side2 == old.side1
        swapped_actors = _text(new.actor1) and _text(new.actor1) == _text(old.actor2)
        return bool(swapped_sides or swapped_actors)
    return False


def same_happening(new: Event | EventKey, old: Event | EventKey) -> Decision:
    """Whether two events (mentions) are reports of one happening, and why."""
    if new.event_type != old.event_type:
        return Decision(False, f"different event types ({new.event_type} / {old.event_type})")
    if not sub_events_compatible(new.sub_event_type, old.sub_event_type):
        return Decision(False, f"incompatible sub-event types ({old.sub_event_type} / {new.sub_event_type})")
    if _same_report(new, old):
        return Decision(False, "events of one report (the events stage told them apart)")
    if "ingested" in (new.date_source, old.date_source):
        return Decision(False, "date unknown")
    window = max(date_reach(new), date_reach(old))
    gap = abs((new.event_date - old.event_date).days)
    if gap > window:
        return Decision(False, f"dates {gap} days apart (window {window})")
    compatible, precise_place, where = places_compatible(new, old)
    if not compatible:
        return Decision(False, where)
    if not _sides_compatible(new, old):
        return Decision(False, f"actor1 on different sides ({old.side1} / {new.side1})")
    coarse_date = window > PUBLICATION_DATE_SLACK_DAYS
    if coarse_date or not precise_place:
        weak = "a region" if not precise_place else f"a {'month' if window >= MONTH_DAYS else 'week'}"
        if coarse_date and not precise_place:
            return Decision(False, "only a region and a coarse date in common")
        if new.sub_event_type != old.sub_event_type:
            return Decision(False, f"only {weak} in common and sub-event types differ "
                                   f"({old.sub_event_type} / {new.sub_event_type})")
        if not figures_compatible(new, old):
            return Decision(False, f"only {weak} in common and death tolls far apart "
                                   f"({old.fatalities} / {new.fatalities})")
        if window >= MONTH_DAYS and (toll_range(new) is None or toll_range(old) is None):
            # A town sees many strikes of one kind in a month: only matching tolls tie them.
            return Decision(False, "only a month in common and no death tolls to compare")
    return Decision(True, f"same event type ({new.event_type}); dates {gap} day(s) apart (window "
                          f"{window}); {where}; actors compatible")


def compatible_sub_events(sub_event_type: str) -> tuple[str, ...]:
    """The sub-event types a happening coded `sub_event_type` may be given by another
    report (`COMPATIBLE_SUB_EVENTS`), itself first."""
    partners = {t for group in COMPATIBLE_SUB_EVENTS if sub_event_type in group for t in group}
    return (sub_event_type, *sorted(partners - {sub_event_type}))


@dataclass(frozen=True, slots=True)
class Reach:
    """Which stored events of one time precision, dated from the text or from the
    publication, `same_happening` could take for one mention: its rules read forwards, so
    that the store's candidate query leaves out what they would reject anyway."""

    days: int  # dates at most this many days apart
    precise_only: bool  # only events placed better than a region, of the mention's own sub-event type
    toll_only: bool  # only events with a death toll


def reach_of(mention: Event | EventKey) -> tuple[int, bool, bool]:
    """What `candidate_reach` needs of a mention: how far its date reaches (`date_reach`),
    whether it is placed better than a region (with coordinates), whether it gives a toll."""
    precise = _level(mention) < REGION_LEVEL and None not in (mention.latitude, mention.longitude)
    return date_reach(mention), precise, toll_range(mention) is not None


def candidate_reach(mention_reach: int, precise_place: bool, toll: bool, time_precision: int,
                    published: bool) -> Reach | None:
    """What a stored event of `time_precision` (its date from the publication when
    `published`) needs to be the same happening as a mention (`reach_of`: its date's
    reach, whether it is placed precisely, whether it gives a toll); None when no such
    event can be. `same_happening`'s date window and weak-evidence rules, read forwards."""
    window = max(mention_reach, PUBLICATION_DATE_SLACK_DAYS if published else date_window(time_precision).days)
    coarse_date = window > PUBLICATION_DATE_SLACK_DAYS
    if coarse_date and not precise_place:
        return None  # only a region (or a place name) and a coarse date in common
    toll_only = window >= MONTH_DAYS
    if toll_only and not toll:
        return None  # only a month in common and no death toll to compare
    return Reach(window, coarse_date, toll_only)


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
# A count of civilians covers the civilian groups counted apart ("39 civilians ... among
# them 6 children"): children, women, doctors, patients are civilians too.
CIVILIAN_VICTIMS = frozenset({"civilians", "civilian"})


@cache
def _civilian_groups() -> frozenset[str]:
    """Victim groups that are civilians (data/quantities.yaml)."""
    return frozenset(name for name, about in load_data("quantities.yaml")["victims"].items() if about.get("civilian"))


def _source_total(groups: dict[str | None, int]) -> int:
    """One source's figure: a count of everyone covers its groups; a count of civilians
    covers its civilian groups; other distinct groups add up."""
    everyone = max((v for g, v in groups.items() if g in GENERIC_VICTIMS), default=0)
    civilians = max((v for g, v in groups.items() if g in CIVILIAN_VICTIMS), default=0)
    civilian_groups = sum(v for g, v in groups.items() if g in _civilian_groups() and g not in CIVILIAN_VICTIMS)
    others = sum(v for g, v in groups.items()
                 if g not in GENERIC_VICTIMS and g not in CIVILIAN_VICTIMS and g not in _civilian_groups())
    return max(everyone, max(civilians, civilian_groups) + others)


def acled_figure(claims: list[Claim], kind: str) -> int | None:
    """ACLED's figure from several claims: within one source, distinct specific victim
    groups add up, a count of everyone (or of civilians) covers them (its civilian ones);
    between sources that disagree, the lowest total is kept. None without a claim."""
    by_source: dict[str, dict[str | None, int]] = {}
    for claim in claims:
        if claim.kind == kind:
            groups = by_source.setdefault(claim_key(claim), {})
            groups[claim.victims] = max(groups.get(claim.victims, 0), claim.value)
    if not by_source:
        return None
    return min(_source_total(groups) for groups in by_source.values())


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


# -- one report's nested duplicates ------------------------------------------------------

_BREADTH = {"country": 2, "admin1": 1}


def _breadth(event: Event) -> int:
    """2 for an event placed at a country, 1 at an admin1 region, 0 at anything finer."""
    return _BREADTH.get(region_of(event) or "", 0)


def _inside(inner: Event, outer: Event) -> bool:
    if _breadth(inner) >= _breadth(outer) or not outer.country or inner.country != outer.country:
        return False
    return _breadth(outer) == 2 or (bool(outer.admin1) and inner.admin1 == outer.admin1)


def nests_in(outer: Event, inner: Event) -> bool:
    """Whether `outer`, one report's event placed only at a region ("Idlib province"),
    tells the happening that the report's `inner` places inside it ("Khan Sheikhoun").

    Same event type, compatible sub-event types, dates within the coarser precision's
    window, sides that do not contradict; and the region's toll no larger than the
    place's (a larger one sums several places: "strikes across Idlib killed 40, 12 of
    them in Khan Sheikhoun")."""
    if outer.event_type != inner.event_type or not sub_events_compatible(outer.sub_event_type, inner.sub_event_type):
        return False
    if not _inside(inner, outer) or not _sides_compatible(inner, outer):
        return False
    window = date_window(max(outer.time_precision, inner.time_precision)).days
    if "published" in (outer.date_source, inner.date_source):
        window = max(window, PUBLICATION_DATE_SLACK_DAYS)
    if abs((outer.event_date - inner.event_date).days) > window:
        return False
    return not inner.fatalities or outer.fatalities <= inner.fatalities


def collapse_nested(events: list[Event]) -> list[Event]:
    """One report's events with each region-level duplicate joined to the one event it
    nests in (`nests_in`), keeping that event's id and place; a region event that could
    nest in several of the report's events stays as it is (it may sum them)."""
    events = list(events)
    while True:
        for outer in sorted((e for e in events if _breadth(e)), key=_breadth, reverse=True):
            hosts = [e for e in events if e is not outer and nests_in(outer, e)]
            if len(hosts) == 1:
                [inner] = hosts
                joined = combine(inner.event_id_cnty, [inner, outer])
                events = [joined if e is inner else e for e in events if e is not outer]
                break
        else:
            return events
