"""Typed records that flow between the stages and over the wire.

`Report` is what ingest produces; `Event` is what the pipeline produces and the
store, exports and API carry. Every text-derived field of an `Event` is backed
by `Span`s: character offsets into the report text (the evidence).
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

# The ACLED columns, in the order of ACLED's own CSV export.
ACLED_COLUMNS: tuple[str, ...] = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type",
    "event_type", "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2",
    "assoc_actor_2", "inter2", "interaction", "civilian_targeting", "iso", "region",
    "country", "admin1", "admin2", "admin3", "location", "latitude", "longitude",
    "geo_precision", "source", "source_scale", "notes", "fatalities", "tags",
)

# Fields filled from the report's metadata (outlet, ids), not from its text:
# they carry no evidence span.
METADATA_FIELDS: frozenset[str] = frozenset(
    {"event_id_cnty", "source", "source_scale", "tags", "report_ids", "confidence"}
)


def normalise_text(text: str) -> str:
    """Unicode NFC and collapsed whitespace: the form a report's id is computed on."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


class Span(BaseModel):
    """A stretch of a report's text: `text == report.text[start:end]`."""

    report_id: str
    start: int
    end: int
    text: str


_validate_span = Span.__pydantic_validator__.validate_python


class Report(BaseModel):
    """One news report, as ingested."""

    id: str
    text: str
    title: str | None = None
    url: str | None = None
    outlet: str | None = None
    language: str = "en"
    published: date | None = None
    published_inferred: bool = False
    origin: str | None = Field(default=None, description="file path or feed the report came from")

    @staticmethod
    def make_id(text: str, url: str | None = None) -> str:
        """Stable id: the same text from the same address is the same report."""
        key = normalise_text(text) + "\x00" + (url or "")
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]

    @classmethod
    def create(cls, text: str, **fields: Any) -> "Report":
        return cls(id=cls.make_id(text, fields.get("url")), text=text, **fields)

    def span(self, start: int, end: int) -> Span:
        # The validator itself: `Span(...)` adds a Python frame to each of the thousands
        # of spans a batch of reports cites (the same validation, the same model).
        return _validate_span({"report_id": self.id, "start": start, "end": end, "text": self.text[start:end]})


class Claim(BaseModel):
    """One figure as one source gives it: "three doctors", said "pro-opposition media"."""

    kind: str  # "fatalities" | "injuries"
    value: int
    victims: str | None = None
    source: str | None = None
    approximate: bool = False
    evidence: list[Span] = Field(default_factory=list)


class Tally(BaseModel):
    """A running count over a period ("more than a dozen medical facilities attacked since
    February 1"): a claim the report makes, kept as such, never an event."""

    value: int
    unit: str  # what is counted, as written: "medical facilities", "field hospitals"
    approximate: bool = False  # "more than", "at least", "dozens"
    verb: str = ""  # what happened to them: "attacked", "destroyed"
    since: date | None = None  # the period's first day, when the text dates it
    period: str = ""  # as written: "Since February 1", "over the past month"
    places: list[str] = Field(default_factory=list)  # provinces or countries it covers
    source: str | None = None  # who says so
    evidence: list[Span] = Field(default_factory=list)


class HealthAttack(BaseModel):
    """An attack on health care, in the terms of WHO's Surveillance System for Attacks on
    Health Care (SSA)."""

    attack_type: str  # "heavy weapons", "individual weapons", "chemical agent", "setting fire", ...
    facility_types: list[str] = Field(default_factory=list)  # hospital, clinic, ambulance, ...
    resources_affected: list[str] = Field(default_factory=list)  # facility, transport, personnel, patients
    facility_damage: str = ""  # "destroyed" | "damaged" | ""
    health_workers_killed: int | None = None
    health_workers_injured: int | None = None
    patients_killed: int | None = None
    patients_injured: int | None = None
    independent_sources: int = 1
    perpetrator_named: bool = False
    certainty: str = "possible"  # SSA: confirmed | probable | possible
    evidence: dict[str, list[Span]] = Field(default_factory=dict)


class Event(BaseModel):
    """An ACLED-compatible event with the claims and evidence behind it."""

    event_id_cnty: str = ""
    event_date: date
    year: int
    time_precision: int
    disorder_type: str
    event_type: str
    sub_event_type: str
    actor1: str = ""
    assoc_actor_1: str = ""
    inter1: int | None = None
    actor2: str = ""
    assoc_actor_2: str = ""
    inter2: int | None = None
    interaction: int | None = None
    civilian_targeting: str = ""
    iso: int | None = None
    region: str = ""
    country: str = ""
    admin1: str = ""
    admin2: str = ""
    admin3: str = ""
    location: str = ""
    latitude: float | None = None
    longitude: float | None = None
    geo_precision: int | None = None
    source: str = ""
    source_scale: str = ""
    notes: str = ""
    fatalities: int = 0
    tags: str = ""
    # Beyond ACLED's columns.
    side1: str = ""  # the side actor1 fights on in this conflict: government, opposition, ...
    side2: str = ""
    date_source: str = "text"  # "text", "published" (the report's date) or "ingested" (none known)
    geonames_id: int | None = None
    weapons: list[str] = Field(default_factory=list)
    injuries: int | None = None
    plover_event: str = ""
    plover_mode: str = ""
    claims: list[Claim] = Field(default_factory=list)
    health: HealthAttack | None = None
    confidence: float = 0.5
    report_ids: list[str] = Field(default_factory=list)
    evidence: dict[str, list[Span]] = Field(default_factory=dict)

    def acled_row(self) -> dict[str, Any]:
        """The event as one row of an ACLED CSV."""
        row = self.model_dump(include=set(ACLED_COLUMNS))
        row["event_date"] = self.event_date.isoformat()
        return {column: row[column] for column in ACLED_COLUMNS}

    def filled_fields(self) -> list[str]:
        """Fields holding a value other than their empty default (0 fatalities is ACLED's 'no figure').

        Claims and the health record carry their own evidence and are not listed."""
        data = self.model_dump(exclude={"evidence", "claims", "health"} | METADATA_FIELDS)
        return [k for k, v in data.items() if v not in (None, "", [], 0)]
