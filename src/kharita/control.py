"""The `control` stage: who holds which place when, and which reports say so.

Claims of control come from two kinds of evidence:

- territorial events: *Government regains territory* and *Non-state actor overtakes
  territory* give the place to actor1's side from the event's date;
- statements: "controlled by rebels since August 2016", "under the control of X",
  "rebel-held Y", "X withdrew from Y".

`timeline()` turns the claims about one place into periods, each with its side, start
date and precision and the evidence behind it; a period where reports disagree is
"contested". Phrases are in `data/control.yaml`.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date
from functools import cache

from pydantic import BaseModel, Field

from . import actors as actor_rules
from .doc import ActorMention, Doc, PlaceMention
from .events import ascii_name, location_name
from .lexicon import PhraseMatcher, load_data, preload
from .models import Span

CONTESTED = "contested"


class ControlClaim(BaseModel):
    """One report's word on who held a place from when."""

    claim_id: str
    place_key: str  # "geonames:<id>" or "name:<normalised name>"
    place: str
    latitude: float | None = None
    longitude: float | None = None
    country: str = ""
    admin1: str = ""
    side: str  # government, opposition, ... ; "" when a side only lost the place
    actor: str = ""
    lost_by: str = ""  # the side that withdrew, for withdrawals
    start: date
    precision: int  # ACLED time precision of `start`
    as_of: date  # the report's date: the claim holds at least until then
    kind: str  # "event" | "since" | "held" | "withdrawal"
    report_id: str
    evidence: list[Span] = Field(default_factory=list)


class Period(BaseModel):
    """A stretch of time in which a place was held by one side (or contested)."""

    side: str
    start: date
    precision: int
    end: date | None = None  # the start of the next period; None while it lasts
    claims: list[ControlClaim] = Field(default_factory=list)


@cache
def _data() -> dict:
    return load_data("control.yaml")


@preload
@cache
def _held_by_matcher() -> PhraseMatcher[str]:
    return PhraseMatcher((p, kind) for kind, phrases in _data()["statements"].items() for p in phrases)


_HELD_SUFFIXES = ("held", "controlled", "run", "besieged")
_ADJECTIVE = re.compile(r"\b([A-Za-z][\w'’]*(?:\s[A-Z][\w'’]*)?)-(" + "|".join(_HELD_SUFFIXES) + r")\b")


def place_key(mention: PlaceMention) -> str:
    if mention.place is not None and mention.place.geonameid:
        return f"geonames:{mention.place.geonameid}"
    return "name:" + ascii_name(location_name(mention)).lower()


def _claim(doc: Doc, mention: PlaceMention, side: str, actor: str, start: date, precision: int, kind: str,
           locate, spans: list[Span], lost_by: str = "") -> ControlClaim:
    lat, lon, _, entry = locate(mention, [])
    report = doc.report
    key = place_key(mention)
    claim_id = hashlib.sha256(f"{report.id}|{key}|{side}|{lost_by}|{start}|{kind}".encode()).hexdigest()[:16]
    country = ""
    if entry is not None:
        country = actor_rules.country_names().get(entry.country_code, "")
    return ControlClaim(
        claim_id=claim_id, place_key=key, place=location_name(mention), latitude=lat, longitude=lon,
        country=country, admin1=entry.admin1 if entry is not None else "", side=side, actor=actor,
        lost_by=lost_by, start=start, precision=precision, as_of=report.published or start, kind=kind,
        report_id=report.id, evidence=spans,
    )


def _holdable(mention: PlaceMention) -> bool:
    """Towns and villages change hands; countries, provinces and "north of X" do not."""
    if mention.role != "location":
        return False
    if mention.place is not None:
        return mention.place.feature in ("populated", "site")
    return mention.anchor is None or mention.end != mention.anchor.end  # not a bare "north of X"


def _from_events(doc: Doc, locate) -> list[ControlClaim]:
    claims = []
    gains = set(_data()["gain_types"])
    for event in doc.events:
        if event.sub_event_type not in gains or not event.side1:
            continue
        spans = event.evidence.get("location", [])
        mention = next((p for p in doc.places if spans and p.start == spans[0].start), None)
        if mention is None or not _holdable(mention) or (event.geo_precision or 3) > 2:
            continue
        evidence = spans + event.evidence.get("sub_event_type", []) + event.evidence.get("actor1", [])
        claims.append(_claim(doc, mention, event.side1, event.actor1, event.event_date, event.time_precision,
                             "event", locate, evidence))
    return claims


def _side_of(actor: ActorMention, country: str | None) -> str:
    return actor_rules.side(actor.actor, country)


def _from_statements(doc: Doc, folded: str, locate, country: str | None) -> list[ControlClaim]:
    claims: list[ControlClaim] = []
    published = doc.report.published
    adjectives = _data()["adjectives"]
    statements_in = _held_by_matcher().find_in_spans(doc.text, [(s.start, s.end) for s in doc.sentences], folded)
    # "<word>-held": only where the text has one of the suffixes at all.
    adjective_here = any("-" + suffix in doc.text for suffix in _HELD_SUFFIXES)
    if not adjective_here and not any(statements_in):
        return claims  # most reports: no statement of control
    # Each sentence's mentions, from one pass over the document each.
    places_in = doc.by_sentence([p for p in doc.places if _holdable(p)])
    dates_in = doc.by_sentence(doc.dates)
    actors_in = doc.by_sentence([a for a in doc.actors if a.actor.inter not in (5, 6, 7)])
    for sentence, places, dates, actors_here, statements in zip(doc.sentences, places_in, dates_in, actors_in,
                                                                 statements_in):
        if not places:
            continue
        segment = folded[sentence.start:sentence.end]
        for m in statements:
            start, end = m.start, m.end
            if m.value == "withdrawal":  # "rebels withdrew from X"; "moved into X after rebels withdrew"
                actor = next((a for a in reversed(actors_here) if a.end <= start), None)
                tail = end - sentence.start  # of the statement, in the sentence
                after = next((p for p in places if p.start >= end), None) if segment[tail - 4:tail] in (
                    "from", " of") else None
                place = after or next((p for p in reversed(places) if p.end <= start), None)
            else:  # "X has been controlled by Y": the holder follows, the place precedes
                actor = next((a for a in actors_here if a.start >= end), None)
                place = next((p for p in reversed(places) if p.end <= start), None)
            if actor is None or place is None:
                continue
            since = next((d for d in dates if d.ongoing and d.start >= end), None)
            dated = min(dates, key=lambda d: abs(d.start - start), default=None)
            if since is not None:
                when, precision, kind, cited = since.first, since.precision, "since", [since]
            elif dated is not None:  # "Earlier this week ... after rebels withdrew"
                when, precision, kind, cited = dated.value, dated.precision, "held", [dated]
            elif published is not None:
                when, precision, kind, cited = published, 1, "held", []
            else:
                continue
            spans = [doc.span(place), doc.report.span(start, end), doc.span(actor)] + [doc.span(d) for d in cited]
            side = _side_of(actor, country)
            if m.value == "withdrawal":
                claims.append(_claim(doc, place, "", "", when, precision, "withdrawal", locate, spans, lost_by=side))
            else:
                claims.append(_claim(doc, place, side, actor_rules.resolve_name(actor.actor, country), when,
                                     precision, kind, locate, spans))
        for m in _ADJECTIVE.finditer(doc.text, sentence.start, sentence.end) if adjective_here else ():
            place = next((p for p in places if 0 <= p.start - m.end() <= 25), None)
            if place is None or published is None:
                continue
            side, name = _adjective_side(m.group(1), country, adjectives)
            if side:
                spans = [doc.report.span(m.start(), m.end()), doc.span(place)]
                claims.append(_claim(doc, place, side, name, published, 1, "held", locate, spans))
    return claims


def _adjective_side(word: str, country: str | None, adjectives: dict[str, str]) -> tuple[str, str]:
    """The side (and actor name) a "<word>-held" adjective names: an actor ("ISIS-held",
    "Houthi-held") or a generic adjective ("rebel-held", "government-controlled")."""
    found = actor_rules.find_actors(word, country)
    if found:
        actor = found[0].value
        return actor_rules.side(actor, country), actor_rules.resolve_name(actor, country)
    return adjectives.get(word.lower(), ""), ""


def annotate(doc: Doc, folded: str, locate) -> list[ControlClaim]:
    """Claims of control made by one report."""
    country = actor_rules.focus_country(doc)
    claims = _from_events(doc, locate) + _from_statements(doc, folded, locate, country)
    unique = {c.claim_id: c for c in claims}
    return list(unique.values())


def timeline(claims: Iterable[ControlClaim]) -> list[Period]:
    """Periods of control of one place, oldest first.

    Each claim with a side opens a period at its start date; claims that start on the
    same day with different sides, or an observation ("rebel-held", as of a report's
    date) that contradicts the period it falls in, make that period contested. A
    withdrawal ends its side's period; the next holder is unknown until a claim says.
    """
    ordered = sorted(claims, key=lambda c: (c.start, c.precision, c.kind != "since"))
    periods: list[Period] = []
    for claim in ordered:
        if claim.kind == "held" and periods and periods[-1].start <= claim.start:
            current = periods[-1]
            current.claims.append(claim)
            if current.side not in (claim.side, CONTESTED):
                current.side = CONTESTED
            continue
        side = claim.side or "unknown"
        if periods and periods[-1].start == claim.start:
            last = periods[-1]
            last.claims.append(claim)
            if last.side != side:
                last.side = CONTESTED if "unknown" not in (last.side, side) else (side if last.side == "unknown"
                                                                                   else last.side)
            continue
        if periods and periods[-1].side == side:
            periods[-1].claims.append(claim)
            continue
        periods.append(Period(side=side, start=claim.start, precision=claim.precision, claims=[claim]))
    for earlier, later in zip(periods, periods[1:]):
        earlier.end = later.start
    return periods


def holder_on(periods: list[Period], day: date) -> Period | None:
    """The period covering a day, if any."""
    current = None
    for period in periods:
        if period.start <= day:
            current = period
    return current


def timelines(claims: Iterable[ControlClaim]) -> dict[str, list[Period]]:
    """Claims grouped by place, each place's as its timeline."""
    by_place: dict[str, list[ControlClaim]] = {}
    for claim in claims:
        by_place.setdefault(claim.place_key, []).append(claim)
    return {key: timeline(group) for key, group in by_place.items()}


def holders_on(timelines_by_place: dict[str, list[Period]], day: date) -> list[tuple[str, Period]]:
    """Every place with a known holder on `day`: (place key, the period that day falls in)."""
    held = ((key, holder_on(periods, day)) for key, periods in timelines_by_place.items())
    return [(key, period) for key, period in held if period is not None]
