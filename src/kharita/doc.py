"""The document the pipeline stages annotate, in the manner of spaCy's `Doc`.

Each stage reads the report text and earlier annotations and appends its own
mentions. Every mention is a character span `[start, end)` of `doc.text`, so any
field built from mentions can cite its evidence exactly.

Mentions are plain slotted dataclasses rather than pydantic models: thousands of
them are made per second on the hot path, and they never cross a process or the
wire (the `Event` built from them does).
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date

from .models import Event, Report, Span


@dataclass(slots=True)
class Mention:
    start: int
    end: int
    text: str


@dataclass(slots=True, frozen=True)
class Place:
    """A gazetteer entry."""

    geonameid: int
    name: str
    latitude: float
    longitude: float
    country_code: str  # ISO 3166-1 alpha-2
    feature: str  # "country" | "admin1" | "admin2" | "populated" | "site"
    admin1: str = ""
    admin2: str = ""
    population: int = 0


@dataclass(slots=True)
class PlaceMention(Mention):
    """A place name in the text, resolved (`place`) or not.

    `relation` describes a relative expression: "about 10 km west of X" gives
    direction "west", distance_km 10 and `anchor` the mention of X.
    `role` says how the name is used: "location" where something can happen,
    "affiliation" inside an organisation's name, "route" in a road name,
    "region" for "northern Hama Province"-style areas.
    """

    place: Place | None = None
    candidates: list[Place] = field(default_factory=list)
    role: str = "location"
    direction: str | None = None
    distance_km: float | None = None
    anchor: "PlaceMention | None" = None
    geo_precision: int = 1


@dataclass(slots=True)
class Actor:
    """An entry of the actor dictionary."""

    name: str  # ACLED-style actor name, e.g. "Military Forces of Syria (2000-)"
    inter: int  # ACLED inter code 1-8
    side: str  # "government" | "opposition" | "jihadist" | "kurdish" | "civilian" | ...
    country: str = ""  # ISO alpha-2 where national
    associated_with: str = ""  # e.g. Iranian-backed militias fight with the government side
    kind: str = ""  # "air" for air forces/warplanes; "civilian_responder"; ...


@dataclass(slots=True)
class ActorMention(Mention):
    actor: Actor


@dataclass(slots=True)
class DateMention(Mention):
    """A date expression resolved against the publication date.

    `first`..`last` is the period it denotes; `value` the date ACLED would code
    (the period's midpoint when it spans more than a day); `precision` is ACLED's
    time_precision: 1 day, 2 week or a few days, 3 month or longer.
    """

    value: date
    precision: int
    first: date
    last: date
    ongoing: bool = False  # "since February 1", "for months", "over the past month"


@dataclass(slots=True)
class TriggerMention(Mention):
    """A word or phrase that signals an event of a given ACLED sub-event type."""

    event_type: str
    sub_event_type: str
    cue: str = ""  # a class resolved from context ("territory", "remote", "remote_air", "attack"), if any
    fallback: str = ""  # the sub-event type a "remote" trigger takes without an air cue


@dataclass(slots=True)
class WeaponMention(Mention):
    weapon: str  # canonical name: "incendiary", "barrel bomb", "chlorine" ...
    category: str  # "chemical" | "air" | "artillery" | "explosive" | "small_arms" | ...


@dataclass(slots=True)
class CasualtyMention(Mention):
    """A casualty figure: "killed three doctors", "at least 16 dead"."""

    kind: str  # "fatalities" | "injuries"
    value: int
    victims: str | None = None  # "doctors", "civilians", "children" ...
    approximate: bool = False
    source: "SourceMention | None" = None


@dataclass(slots=True)
class SourceMention(Mention):
    """Who a claim is attributed to: "Pro-opposition media said"."""

    source: str


@dataclass(slots=True)
class Sentence:
    start: int
    end: int
    paragraph: int = 0


@dataclass
class Doc:
    report: Report
    sentences: list[Sentence] = field(default_factory=list)
    places: list[PlaceMention] = field(default_factory=list)
    actors: list[ActorMention] = field(default_factory=list)
    dates: list[DateMention] = field(default_factory=list)
    triggers: list[TriggerMention] = field(default_factory=list)
    weapons: list[WeaponMention] = field(default_factory=list)
    casualties: list[CasualtyMention] = field(default_factory=list)
    sources: list[SourceMention] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    control: list = field(default_factory=list)  # control.ControlClaim: who holds which place from when
    tallies: list = field(default_factory=list)  # models.Tally: running counts, not events
    # The report's text, as a plain attribute: the stages read it some 150 times per report.
    text: str = field(init=False, repr=False, compare=False)
    # background.origin_spans, found on first use: the casualties and events stages both read it.
    origin: list[tuple[int, int]] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.text = self.report.text

    def span(self, mention: Mention | Sentence) -> Span:
        return self.report.span(mention.start, mention.end)

    def within(self, mentions: list, sentence: Sentence) -> list:
        """The mentions lying inside a sentence, in text order."""
        return [m for m in mentions if m.start >= sentence.start and m.end <= sentence.end]

    def by_sentence(self, mentions: list) -> list[list]:
        """`within(mentions, s)` for every sentence s of `self.sentences`, in one pass
        (a stage looping over sentences would otherwise scan every mention per sentence)."""
        starts = [s.start for s in self.sentences]
        buckets: list[list] = [[] for _ in self.sentences]
        for m in mentions:
            i = bisect_right(starts, m.start) - 1
            if i >= 0 and m.end <= self.sentences[i].end:
                buckets[i].append(m)
        return buckets
