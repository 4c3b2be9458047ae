"""The store: reports and events in SQLite (default) through SQLAlchemy Core.

Each report is written with its events in one transaction, so a crash mid-batch
loses nothing already committed and leaves no half-written report. Writing the
same report twice changes nothing (report ids are content hashes).

The schema is versioned from day one (`kharita_meta.schema_version`); opening a
database written by a newer Kharita fails with a clear message instead of
silently misreading it.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    create_engine,
    event,
    func,
    or_,
    select,
)
from sqlalchemy.engine import Connection, Engine

from . import merge
from .control import ControlClaim
from .models import Event, Report

SCHEMA_VERSION = 1
# Above this many mentions, a joining mention is folded into the event instead of the
# event being recomputed from every mention.
FOLD_AFTER_MENTIONS = 20
DEFAULT_DB = "kharita.db"

metadata = MetaData()

meta_table = Table(
    "kharita_meta", metadata,
    Column("key", String, primary_key=True),
    Column("value", String, nullable=False),
)

reports_table = Table(
    "reports", metadata,
    Column("id", String(32), primary_key=True),
    Column("title", Text),
    Column("text", Text, nullable=False),
    Column("url", Text),
    Column("outlet", Text),
    Column("language", String(8)),
    Column("published", Date),
    Column("published_inferred", Boolean, nullable=False, default=False),
    Column("origin", Text),
    Column("ingested_at", String(32), nullable=False),
)

# Queryable columns are real columns; the whole event (claims, evidence) is kept
# as JSON in `record`, the pydantic model being the single source of truth.
events_table = Table(
    "events", metadata,
    Column("event_id", String(40), primary_key=True),
    Column("event_date", Date, nullable=False),
    Column("time_precision", Integer, nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("sub_event_type", String(64), nullable=False),
    Column("actor1", Text),
    Column("actor2", Text),
    Column("assoc_actors", Text),
    Column("country", String(64)),
    Column("admin1", String(128)),
    Column("location", String(256)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("geo_precision", Integer),
    Column("side1", String(32)),
    Column("date_source", String(16)),
    Column("fatalities", Integer, nullable=False, default=0),
    Column("health_attack", Boolean, nullable=False, default=False),
    Column("record", Text, nullable=False),
    Index("ix_events_date", "event_date"),
    Index("ix_events_block", "event_type", "event_date"),
    Index("ix_events_type", "event_type", "sub_event_type"),
    Index("ix_events_place", "latitude", "longitude"),
)

# One row per event as one report tells it (the pipeline's output for that report);
# `event_id` is the merged event it belongs to.
mentions_table = Table(
    "mentions", metadata,
    Column("mention_id", String(40), primary_key=True),
    Column("report_id", String(32), ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", String(40), nullable=False),
    Column("reason", Text, nullable=False),  # why it joined its event, or that it started it
    Column("record", Text, nullable=False),
    Index("ix_mentions_event", "event_id"),
    Index("ix_mentions_report", "report_id"),
)

# A user's split: these two mentions are not the same happening, whatever the rules say.
cannot_link_table = Table(
    "cannot_link", metadata,
    Column("mention_a", String(40), primary_key=True),
    Column("mention_b", String(40), primary_key=True),
)

# Claims of territorial control (see `control`): who held a place from when, per report.
control_table = Table(
    "control_claims", metadata,
    Column("claim_id", String(32), primary_key=True),
    Column("report_id", String(32), ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
    Column("place_key", String(200), nullable=False),
    Column("place", String(256), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("record", Text, nullable=False),
    Index("ix_control_place", "place_key"),
    Index("ix_control_name", "place"),
)

event_reports_table = Table(
    "event_reports", metadata,
    Column("event_id", String(40), ForeignKey("events.event_id", ondelete="CASCADE"), primary_key=True),
    Column("report_id", String(32), ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_event_reports_report", "report_id"),
)


# Statements of the write path, built once: SQLAlchemy caches their compiled form, and
# ingest runs them thousands of times.
_REPORT_EXISTS = select(reports_table.c.id).where(reports_table.c.id == bindparam("id"))
_INSERT_REPORT = reports_table.insert()
_INSERT_CLAIM = control_table.insert()
_MENTION_EXISTS = select(mentions_table.c.mention_id).where(mentions_table.c.mention_id == bindparam("id"))
_INSERT_MENTION = mentions_table.insert()
_MENTIONS_OF_EVENT = select(mentions_table.c.record).where(
    mentions_table.c.event_id == bindparam("event_id")).order_by(mentions_table.c.mention_id)
_CANNOT_LINK_EVENTS = select(mentions_table.c.event_id).where(mentions_table.c.mention_id.in_(
    select(cannot_link_table.c.mention_b).where(cannot_link_table.c.mention_a == bindparam("id")).union(
        select(cannot_link_table.c.mention_a).where(cannot_link_table.c.mention_b == bindparam("id")))))
# Blocking: only events whose date and place could match, by their own precision and
# the new event's (see merge.date_window and merge.radius_km): one OR-branch per level.
_t = events_table
_CANDIDATES = select(
    _t.c.event_id, _t.c.event_type, _t.c.sub_event_type, _t.c.event_date, _t.c.time_precision, _t.c.latitude,
    _t.c.longitude, _t.c.geo_precision, _t.c.location, _t.c.side1, _t.c.date_source,
).where(
    _t.c.event_type == bindparam("event_type"),
    _t.c.event_date.between(bindparam("first3"), bindparam("last3")),  # the widest window: the index's range
    or_(*[and_(_t.c.time_precision == level, _t.c.event_date.between(bindparam(f"first{level}"), bindparam(f"last{level}")))
          for level in (1, 2, 3)]),
    _t.c.event_id.not_in(select(event_reports_table.c.event_id).where(event_reports_table.c.report_id == bindparam("report"))),
)
_CANDIDATES_IN_BOX = _CANDIDATES.where(or_(*[
    and_(func.coalesce(_t.c.geo_precision, 3) == level,
         _t.c.latitude.between(bindparam(f"lat0_{level}"), bindparam(f"lat1_{level}")),
         _t.c.longitude.between(bindparam(f"lon0_{level}"), bindparam(f"lon1_{level}")))
    for level in (1, 2, 3)])).limit(500)
_CANDIDATES_BY_NAME = _CANDIDATES.where(func.lower(_t.c.location) == bindparam("location")).limit(500)
_EVENT_RECORD = select(_t.c.record).where(_t.c.event_id == bindparam("event_id"))
_MENTION_COUNT = select(func.count()).select_from(mentions_table).where(mentions_table.c.event_id == bindparam("event_id"))
_EVENT_EXISTS = select(events_table.c.event_id).where(events_table.c.event_id == bindparam("event_id"))
_INSERT_EVENT = events_table.insert()
_UPDATE_EVENT = events_table.update().where(events_table.c.event_id == bindparam("key"))
_DELETE_EVENT = events_table.delete().where(events_table.c.event_id == bindparam("event_id"))
_INSERT_EVENT_REPORT = event_reports_table.insert()
_DELETE_EVENT_REPORTS = event_reports_table.delete().where(event_reports_table.c.event_id == bindparam("event_id"))


class SchemaError(RuntimeError):
    """The database was written by an incompatible version of Kharita."""


@dataclass
class EventFilter:
    """What `Store.events` can filter on; every field optional."""

    date_from: date | None = None
    date_to: date | None = None
    event_type: str | None = None  # matches event type or sub-event type, case-insensitive
    place: str | None = None  # substring of location, admin1, admin2 or country
    actor: str | None = None  # substring of actor1, actor2 or associated actors
    health_attacks: bool = False  # only events that hit health care
    limit: int | None = None
    offset: int = 0


def default_db_path() -> str:
    return os.environ.get("KHARITA_DB", DEFAULT_DB)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (the map) don't block the ingesting writer
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Store:
    """Reports and events, in one database."""

    def __init__(self, url_or_path: str | Path | None = None) -> None:
        target = str(url_or_path or default_db_path())
        url = target if "://" in target else f"sqlite:///{target}"
        self.url = url
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._migrate()

    # -- schema -------------------------------------------------------------
    def _migrate(self) -> None:
        with self.engine.begin() as conn:
            metadata.create_all(conn)
            row = conn.execute(
                select(meta_table.c.value).where(meta_table.c.key == "schema_version")
            ).first()
            if row is None:
                conn.execute(meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
            elif int(row.value) > SCHEMA_VERSION:
                raise SchemaError(
                    f"{self.url}: schema version {row.value} is newer than this Kharita "
                    f"understands ({SCHEMA_VERSION}); upgrade Kharita"
                )

    @property
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(
                select(meta_table.c.value).where(meta_table.c.key == "schema_version")
            ).scalar_one())

    def close(self) -> None:
        self.engine.dispose()

    # -- writes -------------------------------------------------------------
    def has_report(self, report_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(
                select(reports_table.c.id).where(reports_table.c.id == report_id)
            ).first() is not None

    def add(self, report: Report, events: Iterable[Event], control: Iterable[ControlClaim] = (),
            conn: Connection | None = None) -> bool:
        """Store a report with its events and control claims in one transaction, merging
        each event into the stored event of the same happening, if any (see `merge`).

        With `conn`, the writes join that open transaction (the caller commits it, with
        whatever else it wrote there); otherwise they are committed before returning.
        Returns False, changing nothing, when the report is already stored.
        """
        if conn is None:
            with self.engine.begin() as own:
                return self.add(report, events, control, own)
        if conn.execute(_REPORT_EXISTS, {"id": report.id}).first():
            return False
        conn.execute(_INSERT_REPORT, {
            **report.model_dump(), "ingested_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        for mention in events:
            self._merge_mention(conn, mention)
        claims = [{"claim_id": c.claim_id, "report_id": report.id, "place_key": c.place_key, "place": c.place,
                   "start_date": c.start, "record": c.model_dump_json()} for c in control]
        if claims:
            conn.execute(_INSERT_CLAIM, claims)
        return True

    def _merge_mention(self, conn, mention: Event) -> None:
        mention_id = mention.event_id_cnty
        if conn.execute(_MENTION_EXISTS, {"id": mention_id}).first():
            return
        forbidden = self._cannot_link_events(conn, mention_id)
        best: tuple[tuple, str, str] | None = None
        for candidate in self._candidates(conn, mention):
            # (The query leaves out events of the same report: the pipeline told those apart.)
            if candidate.event_id_cnty in forbidden:
                continue
            decision = merge.same_happening(mention, candidate)
            if decision.same:
                closeness = merge.closeness(mention, candidate)
                if best is None or closeness < best[0]:
                    best = (closeness, candidate.event_id_cnty, decision.reason)
        event_id, reason = (best[1], best[2]) if best else (mention_id, "started this event")
        record = mention.model_dump_json()
        conn.execute(_INSERT_MENTION, {"mention_id": mention_id, "report_id": mention.report_ids[0],
                                       "event_id": event_id, "reason": reason, "record": record})
        if best is None:  # a new event: itself, nothing to recompute
            self._write_event(conn, mention, record, new=True)
        else:
            self._rebuild_event(conn, event_id, joining=mention)

    def _candidates(self, conn, mention: Event) -> list[merge.EventKey]:
        """Stored events that could be the same happening (blocking), as merge keys."""
        params: dict = {"event_type": mention.event_type, "report": mention.report_ids[0]}
        for level in (1, 2, 3):
            # The slack for publication dates applies whichever side has one: fetch with it,
            # `same_happening` decides.
            window = max(merge.date_window(max(level, mention.time_precision)),
                         timedelta(days=merge.PUBLICATION_DATE_SLACK_DAYS))
            params[f"first{level}"], params[f"last{level}"] = mention.event_date - window, mention.event_date + window
        if mention.latitude is not None and mention.longitude is not None:
            for level in (1, 2, 3):
                reach = merge.radius_km(max(level, mention.geo_precision or 3))
                box = merge.bounding_box(mention.latitude, mention.longitude, reach)
                for name, value in zip(("lat0", "lat1", "lon0", "lon1"), box):
                    params[f"{name}_{level}"] = value
            rows = conn.execute(_CANDIDATES_IN_BOX, params)
        else:
            rows = conn.execute(_CANDIDATES_BY_NAME, {**params, "location": mention.location.lower()})
        return [merge.EventKey(*row) for row in rows]

    def _cannot_link_events(self, conn, mention_id: str) -> set[str]:
        return set(conn.execute(_CANNOT_LINK_EVENTS, {"id": mention_id}).scalars())

    def _rebuild_event(self, conn, event_id: str, joining: Event | None = None) -> None:
        """Recompute a merged event from its mentions (or delete it when none is left).

        When one mention joins a large event, the event is folded with it rather than
        recomputed from all its mentions, so a happening told by thousands of reports
        does not make each new report slower."""
        count = conn.execute(_MENTION_COUNT, {"event_id": event_id}).scalar_one()
        if joining is not None and count > FOLD_AFTER_MENTIONS:
            current = Event.model_validate_json(conn.execute(_EVENT_RECORD, {"event_id": event_id}).scalar_one())
            event = merge.combine(event_id, [current, joining])
            self._write_event(conn, event, event.model_dump_json(), new=False)
            return
        records = conn.execute(_MENTIONS_OF_EVENT, {"event_id": event_id}).scalars().all()
        if not records:
            conn.execute(_DELETE_EVENT_REPORTS, {"event_id": event_id})
            conn.execute(_DELETE_EVENT, {"event_id": event_id})
            return
        event = merge.combine(event_id, [Event.model_validate_json(r) for r in records])
        exists = conn.execute(_EVENT_EXISTS, {"event_id": event_id}).first() is not None
        self._write_event(conn, event, event.model_dump_json(), new=not exists)

    def _write_event(self, conn, ev: Event, record: str, new: bool) -> None:
        values = {
            "event_id": ev.event_id_cnty,
            "event_date": ev.event_date,
            "time_precision": ev.time_precision,
            "event_type": ev.event_type,
            "sub_event_type": ev.sub_event_type,
            "actor1": ev.actor1,
            "actor2": ev.actor2,
            "assoc_actors": "; ".join(a for a in (ev.assoc_actor_1, ev.assoc_actor_2) if a),
            "country": ev.country,
            "admin1": ev.admin1,
            "location": ev.location,
            "latitude": ev.latitude,
            "longitude": ev.longitude,
            "geo_precision": ev.geo_precision,
            "side1": ev.side1,
            "date_source": ev.date_source,
            "fatalities": ev.fatalities,
            "health_attack": ev.health is not None,
            "record": record,
        }
        if new:
            conn.execute(_INSERT_EVENT, values)
        else:
            conn.execute(_UPDATE_EVENT, {**values, "key": ev.event_id_cnty})
            conn.execute(_DELETE_EVENT_REPORTS, {"event_id": ev.event_id_cnty})
        conn.execute(_INSERT_EVENT_REPORT, [{"event_id": ev.event_id_cnty, "report_id": r} for r in ev.report_ids])

    # -- reads --------------------------------------------------------------
    def report(self, report_id: str) -> Report | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(reports_table).where(reports_table.c.id == report_id)).mappings().first()
        if row is None:
            return None
        return Report(**{k: v for k, v in row.items() if k != "ingested_at"})

    def reports(self) -> Iterator[Report]:
        with self.engine.connect() as conn:
            for row in conn.execute(select(reports_table).order_by(reports_table.c.id)).mappings():
                yield Report(**{k: v for k, v in row.items() if k != "ingested_at"})

    def event(self, event_id: str) -> Event | None:
        with self.engine.connect() as conn:
            record = conn.execute(
                select(events_table.c.record).where(events_table.c.event_id == event_id)
            ).scalar_one_or_none()
        return Event.model_validate_json(record) if record else None

    def events(self, flt: EventFilter | None = None) -> list[Event]:
        flt = flt or EventFilter()
        t = events_table
        query = select(t.c.record).order_by(t.c.event_date, t.c.event_id)
        if flt.date_from:
            query = query.where(t.c.event_date >= flt.date_from)
        if flt.date_to:
            query = query.where(t.c.event_date <= flt.date_to)
        if flt.event_type:
            wanted = flt.event_type.lower()
            query = query.where(or_(func.lower(t.c.event_type) == wanted, func.lower(t.c.sub_event_type) == wanted))
        if flt.place:
            like = f"%{flt.place.lower()}%"
            query = query.where(or_(
                func.lower(t.c.location).like(like), func.lower(t.c.admin1).like(like),
                func.lower(t.c.country).like(like),
            ))
        if flt.actor:
            like = f"%{flt.actor.lower()}%"
            query = query.where(or_(
                func.lower(t.c.actor1).like(like), func.lower(t.c.actor2).like(like),
                func.lower(t.c.assoc_actors).like(like),
            ))
        if flt.health_attacks:
            query = query.where(t.c.health_attack.is_(True))
        if flt.limit is not None:
            query = query.limit(flt.limit)
        if flt.offset:
            query = query.offset(flt.offset)
        with self.engine.connect() as conn:
            return [Event.model_validate_json(r) for r in conn.execute(query).scalars()]

    def mentions(self, event_id: str) -> list[tuple[Event, str]]:
        """The per-report mentions of an event, each with the reason it joined."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(mentions_table.c.record, mentions_table.c.reason).where(
                mentions_table.c.event_id == event_id).order_by(mentions_table.c.mention_id)).all()
        return [(Event.model_validate_json(r.record), r.reason) for r in rows]

    def event_of_mention(self, mention_id: str) -> str | None:
        """The merged event a mention (one report's event) belongs to."""
        with self.engine.connect() as conn:
            return conn.execute(select(mentions_table.c.event_id).where(
                mentions_table.c.mention_id == mention_id)).scalar_one_or_none()

    def split(self, event_id: str, report_id: str) -> str:
        """Take one report's mentions out of a merged event into an event of their own,
        and remember that they are not the same happening as the rest (this survives
        re-ingest: mention ids are stable). Returns the id of the event now holding the
        report."""
        with self.engine.begin() as conn:
            rows = conn.execute(select(mentions_table.c.mention_id, mentions_table.c.report_id).where(
                mentions_table.c.event_id == event_id)).all()
            moving = [r.mention_id for r in rows if r.report_id == report_id]
            staying = [r.mention_id for r in rows if r.report_id != report_id]
            if not moving:
                raise KeyError(f"event {event_id} has no mention from report {report_id}")
            if not staying:
                raise ValueError(f"event {event_id} holds only report {report_id}: nothing to split")
            for a in moving:
                for b in staying:
                    conn.execute(cannot_link_table.insert().values(mention_a=min(a, b), mention_b=max(a, b)))
            # The group holding the mention the event is named after keeps the id; the other
            # group becomes an event named after its own first mention.
            keep, move = (moving, staying) if event_id in moving else (staying, moving)
            new_id = move[0]
            conn.execute(mentions_table.update().where(mentions_table.c.mention_id.in_(move)).values(
                event_id=new_id, reason=f"split from {event_id} by the user"))
            self._rebuild_event(conn, event_id)
            self._rebuild_event(conn, new_id)
        return event_id if keep is moving else new_id

    def control_claims(self, place: str | None = None) -> list[ControlClaim]:
        """Claims of control, for places whose name contains `place` (all when None)."""
        query = select(control_table.c.record).order_by(control_table.c.place_key, control_table.c.start_date)
        if place:
            query = query.where(func.lower(control_table.c.place).like(f"%{place.lower()}%"))
        with self.engine.connect() as conn:
            return [ControlClaim.model_validate_json(r) for r in conn.execute(query).scalars()]

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                "reports": conn.execute(select(func.count()).select_from(reports_table)).scalar_one(),
                "events": conn.execute(select(func.count()).select_from(events_table)).scalar_one(),
                "mentions": conn.execute(select(func.count()).select_from(mentions_table)).scalar_one(),
            }


def dumps_events(events: Iterable[Event]) -> str:
    return json.dumps([e.model_dump(mode="json") for e in events], ensure_ascii=False, indent=2)
