"""The store: reports and events in SQLite (default) or PostgreSQL, through SQLAlchemy Core.

Each report is written with its events in one transaction (or several reports in one,
with `add_many`), so a crash loses nothing already committed and leaves no half-written
report. Writing the same report twice changes nothing (report ids are content hashes;
the insert is ON CONFLICT DO NOTHING, so two writers racing on one report on PostgreSQL
store it once).

The schema is kept by Alembic migrations (`kharita.migrations`): opening a database
upgrades it to the newest revision; databases written before migrations existed
(`kharita_meta.schema_version` 1) are stamped and upgraded. Opening a database written
by a newer Kharita fails with a clear message instead of silently misreading it.

Bounding boxes are checked on the latitude/longitude columns, inside the date index. On
PostgreSQL with PostGIS, events carry a point column and radius queries use ST_DWithin on
its GiST index; elsewhere a latitude/longitude box and an exact great-circle distance.

The hot paths (merging mentions in, event pages) run statements SQLAlchemy compiled once
on the driver's cursor (`_Prepared`); everything else goes through SQLAlchemy Core.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import operator
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from dataclasses import fields as dataclass_fields
from datetime import date, datetime, timedelta, timezone
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Generic, Literal, NamedTuple, TypeVar

from sqlalchemy import (
    BigInteger,
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
    cast,
    create_engine,
    event,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.exc import DBAPIError

from . import merge
from .control import ControlClaim
from .migrations.postgis import ensure_point_column, has_point_column
from .models import Event, Report, Tally

SCHEMA_VERSION = 7
# Databases from before migrations carry only `kharita_meta.schema_version`: the
# revision each such version equals.
REVISION_OF_SCHEMA_VERSION = {1: "0001", 2: "0002", 3: "0003", 4: "0004", 5: "0005", 6: "0006", 7: "0007"}
# Above this many mentions, a joining mention is folded into the event instead of the
# event being recomputed from every mention.
FOLD_AFTER_MENTIONS = 20
DEFAULT_DB = "kharita.db"
# Reports per transaction in `add_many`: large enough that commits stop mattering,
# small enough that a crash loses little work and the write lock is held briefly.
BATCH_SIZE = 100
# The mean Earth radius (IUGG), which PostGIS uses for sphere distances too: both
# query paths give the same answer.
EARTH_RADIUS_KM = 6371.0088
SORTS = ("event_date", "-event_date", "fatalities", "-fatalities")
INTERVALS = ("day", "week", "month")
# PostgreSQL advisory locks (the first key of the two-key form, "kh").
_LOCK_CLASS = 0x6B68
_MIGRATION_LOCK = 0

metadata = MetaData()


def _free_text(length: int):
    """A column of text from reports: bounded as it always was on SQLite (which never
    enforced it), unbounded on PostgreSQL (which would)."""
    return String(length).with_variant(Text(), "postgresql")


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
    Column("language", _free_text(8)),
    Column("published", Date),
    Column("published_inferred", Boolean, nullable=False, default=False),
    Column("origin", Text),
    Column("ingested_at", String(32), nullable=False),
)

# Queryable columns are real columns; the whole event (claims, evidence) is kept
# as JSON in `record`, the pydantic model being the single source of truth. `summary` is
# that record without its evidence spans (`event_summary`): what event lists return by
# default, a quarter of the size, so pages read, send and parse far less.
# (On PostGIS databases a generated `geom` point column follows; see migrations/postgis.py.)
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
    Column("country", _free_text(64)),
    Column("admin1", _free_text(128)),
    Column("location", _free_text(256)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("geo_precision", Integer),
    Column("side1", String(32)),
    Column("date_source", String(16)),
    Column("fatalities", Integer, nullable=False, default=0),
    Column("health_attack", Boolean, nullable=False, default=False),
    Column("record", Text, nullable=False),
    Column("side2", String(32)),
    Column("admin2", Text),
    Column("notes", Text),
    Column("summary", Text),  # filled on every write (and by migration 0006 for events stored before)
    # The seek index of date-sorted pages; with the place, a box and date range is checked in the index.
    Index("ix_events_date", "event_date", "event_id", "latitude", "longitude"),
    # Merge candidates (`_candidate_query`): each time precision's date range, the rest tested in the index.
    Index("ix_events_candidates", "event_type", "time_precision", "event_date", "latitude", "longitude",
          "geo_precision", "sub_event_type", "date_source", "fatalities"),
    Index("ix_events_place", "latitude", "longitude"),
    Index("ix_events_fatalities", "fatalities", "event_id"),
)
_t = events_table
Index("ix_events_country", func.lower(_t.c.country))
Index("ix_events_admin1", func.lower(_t.c.admin1))
Index("ix_events_side1", func.lower(_t.c.side1))
Index("ix_events_side2", func.lower(_t.c.side2))

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
    Column("place_key", _free_text(200), nullable=False),
    Column("place", _free_text(256), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("record", Text, nullable=False),
    Index("ix_control_place", "place_key"),
    Index("ix_control_name", "place"),
)

tallies_table = Table(
    "tallies", metadata,
    Column("report_id", String(32), ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("since", Date),
    Column("record", Text, nullable=False),
    Index("ix_tallies_since", "since"),
)

event_reports_table = Table(
    "event_reports", metadata,
    Column("event_id", String(40), ForeignKey("events.event_id", ondelete="CASCADE"), primary_key=True),
    Column("report_id", String(32), ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_event_reports_report", "report_id"),
)


# `kharita watch`'s bookkeeping: what it has seen of each feed and folder (watch.py).
watch_feeds_table = Table(
    "watch_feeds", metadata,
    Column("url", Text, primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("checked_at", String(32), nullable=False),
)

watch_items_table = Table(
    "watch_items", metadata,
    Column("source", Text, primary_key=True),  # the feed URL
    Column("item_key", Text, primary_key=True),  # entry id, else link, else "sha256:" + content digest
    Column("digest", String(64), nullable=False),
    Column("report_id", String(32)),
    Column("rejected", Text),  # why the entry gave no report
    Column("seen_at", String(32), nullable=False),
)

watch_files_table = Table(
    "watch_files", metadata,
    Column("path", Text, primary_key=True),
    Column("folder", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("sha256", String(64)),  # None: rejected unread (too large)
    Column("reports", Integer, nullable=False, default=0),
    Column("rejected", Text),  # why (part of) the file gave no report
    Column("seen_at", String(32), nullable=False),
    Index("ix_watch_files_folder", "folder"),
)


# Statements of the write path, built once: SQLAlchemy caches their compiled form, and
# ingest runs them thousands of times.
_INSERT_REPORT = {  # idempotent under concurrent writers: the loser of a race inserts nothing
    "sqlite": sqlite.insert(reports_table).on_conflict_do_nothing(index_elements=["id"]).returning(reports_table.c.id),
    "postgresql": postgresql.insert(reports_table).on_conflict_do_nothing(index_elements=["id"]).returning(
        reports_table.c.id),
}
_INSERT_CLAIM = control_table.insert()
_INSERT_MENTION = mentions_table.insert()
_MENTIONS_OF_EVENT = select(mentions_table.c.mention_id, mentions_table.c.record).where(
    mentions_table.c.event_id == bindparam("event_id"))
_CANNOT_LINK_EVENTS = select(mentions_table.c.event_id).where(mentions_table.c.mention_id.in_(
    select(cannot_link_table.c.mention_b).where(cannot_link_table.c.mention_a == bindparam("id")).union(
        select(cannot_link_table.c.mention_a).where(cannot_link_table.c.mention_b == bindparam("id")))))
# Blocking: only events whose date and place could match, and that `merge.same_happening`
# would not reject anyway (`merge.candidate_reach`): of the mention's event type and a
# compatible sub-event type, dated (not "ingested"), within the date window of their own
# time precision and date source, placed better than a region and of the same sub-event
# type where only a week or month is in common, with a death toll where only a month is;
# never events of the same report. One branch per time precision of the stored event, so
# each is one short range of the candidate index (migration 0007), which holds every
# column tested. What a mention may match depends on three facts of it (`merge.reach_of`),
# so there is one statement per combination of them (`_candidate_query`), its limits
# written into it. The columns are merge's `EventKey` fields, in order (`merge.KEY_COLUMNS`).
_TIME_PRECISIONS = (1, 2, 3)
_GEO_PRECISIONS = (1, 2, 3)
# A mention's compatible sub-event types, padded to this many parameters with its own.
_SUB_EVENT_PARAMS = max(len(merge.compatible_sub_events(t)) for group in merge.COMPATIBLE_SUB_EVENTS for t in group)
_CANDIDATE_LIMIT = 500  # a bound on pathological density: a mention is compared with at most this many events


_PLAIN_WORD = re.compile(r"[A-Za-z_]*")


def _constant(value: int | str):
    """A constant of the code written into the SQL, so that the planner sees it (a bound
    parameter hides it). Never a user's value: only integers and plain words are taken,
    so nothing here can need quoting."""
    if isinstance(value, int):
        return literal_column(str(int(value)))
    if not _PLAIN_WORD.fullmatch(value):
        raise ValueError(f"not a plain-word SQL constant: {value!r}")
    return literal_column(f"'{value}'")


def _day_param(offset: int) -> str:
    """The parameter of the mention's day shifted by `offset` days."""
    return f"day_{'minus' if offset < 0 else 'plus'}_{abs(offset)}"


# Inside the box of the stored event's own geo precision (`_candidate_reaches`); not an
# event holding a mention of the mention's own report (the pipeline told those apart).
_IN_BOX = or_(*[
    and_(func.coalesce(_t.c.geo_precision, _constant(merge.REGION_LEVEL)) == _constant(level),
         _t.c.latitude.between(bindparam(f"lat0_{level}"), bindparam(f"lat1_{level}")),
         _t.c.longitude.between(bindparam(f"lon0_{level}"), bindparam(f"lon1_{level}")))
    for level in _GEO_PRECISIONS])
_NAMED_ALIKE = func.lower(_t.c.location) == bindparam("location")
_NOT_OF_THE_REPORT = _t.c.event_id.not_in(select(event_reports_table.c.event_id).where(
    event_reports_table.c.report_id == bindparam("report")))


def _candidate_query(reach: tuple[int, bool, bool], by_name: bool) -> tuple[object, tuple[int, ...]] | None:
    """The candidate query for mentions of this `merge.reach_of`, inside the box
    (`lat0_1` ...) or, for a mention without coordinates, at a place of the same name
    (`location`), and the day offsets its parameters `_day_param` stand for; None when no
    stored event can be the same happening. Other parameters: event_type, report (the
    mention's), sub0... (its compatible sub-event types)."""
    precise = reach[1]
    source = func.coalesce(_t.c.date_source, _constant(""))
    geo = func.coalesce(_t.c.geo_precision, _constant(merge.REGION_LEVEL))
    sub = _t.c.sub_event_type == bindparam("sub0")
    offsets: set[int] = set()

    def days(window: int):
        offsets.update((-window, window))
        return _t.c.event_date.between(bindparam(_day_param(-window), type_=Date),
                                       bindparam(_day_param(window), type_=Date))

    branches = []
    for level in _TIME_PRECISIONS:
        kinds = {published: merge.candidate_reach(*reach, level, published) for published in (True, False)}
        kinds = {published: limits for published, limits in kinds.items() if limits is not None}
        if not kinds:
            continue
        widest = max(limits.days for limits in kinds.values())
        tests = []
        for published, limits in kinds.items():
            test = [source == _constant("published") if published else source != _constant("published")]
            if limits.days != widest:
                test.append(days(limits.days))
            if limits.precise_only:  # only a week or a month in common
                test += [geo < _constant(merge.REGION_LEVEL), sub]
            elif precise:  # a region on the stored side needs the same sub-event type
                test.append(or_(sub, geo < _constant(merge.REGION_LEVEL)))
            if limits.toll_only:
                test.append(_t.c.fatalities > _constant(0))
            tests.append(and_(*test))
        branches.append(select(*[_t.c[name] for name in merge.KEY_COLUMNS]).where(
            _t.c.event_type == bindparam("event_type"),
            _t.c.time_precision == _constant(level),
            days(widest),
            _t.c.sub_event_type.in_([bindparam(f"sub{i}") for i in range(_SUB_EVENT_PARAMS)]) if precise else sub,
            source != _constant("ingested"),
            or_(*tests),
            _NAMED_ALIKE if by_name else _IN_BOX,
            _NOT_OF_THE_REPORT,
        ))
    if not branches:
        return None
    query = union_all(*branches) if len(branches) > 1 else branches[0]
    return query.limit(_CANDIDATE_LIMIT), tuple(sorted(offsets))


_EVENT_RECORD = select(_t.c.record).where(_t.c.event_id == bindparam("event_id"))
_EVENT_TYPE = select(_t.c.event_type).where(_t.c.event_id == bindparam("event_id"))
_MENTION_COUNT = select(func.count()).select_from(mentions_table).where(mentions_table.c.event_id == bindparam("event_id"))
_EVENT_EXISTS = select(events_table.c.event_id).where(events_table.c.event_id == bindparam("event_id"))
_INSERT_EVENT = events_table.insert()
# Every column but the key: setting the primary key, even to itself, rewrites its index entry.
_UPDATE_EVENT = events_table.update().where(events_table.c.event_id == bindparam("key")).values(
    {c.name: bindparam(c.name) for c in events_table.c if c.name != "event_id"})
_DELETE_EVENT = events_table.delete().where(events_table.c.event_id == bindparam("event_id"))
_INSERT_EVENT_REPORT = event_reports_table.insert()
_DELETE_EVENT_REPORTS = event_reports_table.delete().where(event_reports_table.c.event_id == bindparam("event_id"))
_TYPE_LOCK = text("SELECT pg_advisory_xact_lock(:cls, :key)")
# Whether these mentions are stored already, and which of them a user split apart: asked
# once per transaction for all its mentions (chunks of this many ids), not once per mention.
_ID_CHUNK = 500
# Events per page when `Store.iter_events` walks a whole result (exports).
ITER_PAGE = 1000
# Page statements kept compiled, per store: one per shape of filter in use.
_PAGE_STATEMENTS = 256
_STORED_MENTIONS = select(mentions_table.c.mention_id).where(
    mentions_table.c.mention_id.in_(bindparam("ids", expanding=True)))
_SPLIT_MENTIONS = select(cannot_link_table.c.mention_a, cannot_link_table.c.mention_b).where(or_(
    cannot_link_table.c.mention_a.in_(bindparam("ids", expanding=True)),
    cannot_link_table.c.mention_b.in_(bindparam("ids", expanding=True))))


# What an event's summary leaves out: the evidence spans of the event, of its claims and of
# its health record. Everything else (every ACLED column, ids, claims, health) stays.
SUMMARY_EXCLUDE = {"evidence": True, "claims": {"__all__": {"evidence"}}, "health": {"evidence"}}


def event_summary(event: Event) -> str:
    """The event as JSON without its evidence spans (`SUMMARY_EXCLUDE`): what the `summary`
    column holds. It parses as an `Event` whose evidence is empty."""
    return event.model_dump_json(exclude=SUMMARY_EXCLUDE)


class _Prepared:
    """A statement compiled once for one dialect and run on the driver's own cursor.

    The write path runs a few statements per mention, thousands per ingest, and most are
    answered in microseconds: SQLAlchemy's per-execution work (cache key, parameters,
    result set-up) cost ten times the query itself on SQLite. The SQL is still SQLAlchemy's
    (the same text, bind casts and type conversions); only the per-call bookkeeping goes.
    Errors come out as SQLAlchemy's (`IntegrityError`, ...), as from `Connection.execute`."""

    __slots__ = ("converters", "defaults", "dialect", "given", "names", "options", "pick", "positional",
                 "row_processors", "sql", "template", "types")

    def __init__(self, statement, dialect: Dialect, server_prepare: bool = True) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("expanding or literal-execute parameters cannot be prepared once")
        self.sql: str = compiled.string
        self.dialect = dialect
        self.positional: bool = compiled.positional
        bind_of = {name: bind for bind, name in compiled.bind_names.items()}
        self.names: tuple[str, ...] = tuple(compiled.positiontup if compiled.positional
                                            else dict.fromkeys(compiled.bind_names.values()))
        # Values the statement fixes (literals: `time_precision = 1`, `LIMIT 500`) are converted
        # once into the template; the others come from each call, as (position, name, converter).
        self.template: list = []
        given = []
        for position, name in enumerate(self.names):
            bind = bind_of[name]
            convert = _bind_converter(bind.type, dialect)
            if not bind.required and bind.effective_value is not None:
                value = bind.effective_value
                self.template.append(convert(value) if convert is not None else value)
            else:
                self.template.append(None)
                given.append((position, name, convert, bind.required))
        self.given: tuple = tuple(given)
        # The fast road of `parameters`: the values of the statement's fixed and optional
        # parameters (None unless given), the converters of the given ones (once per name,
        # however often it is used), and every position's value picked in one C call.
        self.defaults: dict = {name: value for name, value in zip(self.names, self.template) if value is not None}
        self.defaults.update({name: None for _, name, _, required in given if not required})
        self.converters: tuple = tuple({name: convert for _, name, convert, _ in given if convert is not None}.items())
        self.pick = operator.itemgetter(*self.names) if len(self.names) > 1 else (
            (lambda values, name=self.names[0]: (values[name],)) if self.names else (lambda values: ()))
        # psycopg prepares a statement on the server after a few runs, and PostgreSQL may then
        # plan it once for any parameters: for range queries (dates, boxes) that generic plan
        # can be a hundred times slower than one made for the values at hand.
        self.options: dict = {"prepare": False} if not server_prepare and dialect.name == "postgresql" else {}
        self.types = [c.type.dialect_impl(dialect) for c in getattr(statement, "selected_columns", ())]
        self.row_processors: tuple | None = None  # set from the first result's description

    def parameters(self, values: dict):
        """The driver's parameters from `values` (by name); a required one missing raises KeyError."""
        merged = {**self.defaults, **values} if self.defaults else dict(values)
        for name, convert in self.converters:
            merged[name] = convert(merged[name])
        picked = self.pick(merged)
        return picked if self.positional else dict(zip(self.names, picked))

    def _run(self, cursor, method: str, parameters) -> None:
        try:
            if method == "execute":
                cursor.execute(self.sql, parameters, **self.options)
            else:
                cursor.executemany(self.sql, parameters)
        except self.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(self.sql, parameters, exc, self.dialect.loaded_dbapi.Error,
                                      dialect=self.dialect) from exc

    def execute(self, cursor, values: dict) -> None:
        self._run(cursor, "execute", self.parameters(values))

    def executemany(self, cursor, rows: list[dict]) -> None:
        if rows:
            self._run(cursor, "executemany", [self.parameters(row) for row in rows])

    def rows(self, cursor, values: dict) -> list[tuple]:
        self.execute(cursor, values)
        rows = cursor.fetchall()
        if self.row_processors is None:  # what SQLAlchemy would convert (dates on SQLite, ...): (column, converter)
            self.row_processors = tuple(
                (i, convert) for i, convert in enumerate(
                    kind.result_processor(self.dialect, column[1]) for kind, column in zip(self.types, cursor.description))
                if convert is not None)
        processors = self.row_processors
        if not processors:
            return [tuple(row) for row in rows]
        if len(processors) == 1:  # the common case (a date on SQLite): one slice per row
            [(i, convert)] = processors
            return [(*row[:i], convert(row[i]), *row[i + 1:]) for row in rows]
        converted = []
        for row in rows:
            row = list(row)
            for i, convert in processors:
                row[i] = convert(row[i])
            converted.append(tuple(row))
        return converted

    def first(self, cursor, values: dict) -> tuple | None:
        rows = self.rows(cursor, values)
        return rows[0] if rows else None



def _bind_converter(kind, dialect: Dialect):
    """SQLAlchemy's conversion of a parameter for the driver; for dates on SQLite, the same
    text (YYYY-MM-DD) by a faster road."""
    convert = kind.dialect_impl(dialect).bind_processor(dialect)
    if convert is None or dialect.name != "sqlite" or not isinstance(kind, Date):
        return convert

    def date_text(value):
        return value.isoformat() if type(value) is date else convert(value)
    return date_text


# The candidate queries, compiled once per process and driver, not per store: there is one
# per kind of mention, each a few milliseconds to compile, and Spark opens a scratch
# store per partition.
_CANDIDATE_STATEMENTS: dict[tuple, tuple[_Prepared, tuple[tuple[str, timedelta], ...]] | None] = {}


class _WriteStatements:
    """The write path's statements, prepared for one database's dialect."""

    def __init__(self, dialect: Dialect) -> None:
        def prepare(statement) -> _Prepared:
            return _Prepared(statement, dialect)

        self.dialect = dialect
        self.insert_report = prepare(_INSERT_REPORT[dialect.name])
        self.insert_mention = prepare(_INSERT_MENTION)
        self.mentions_of_event = prepare(_MENTIONS_OF_EVENT)
        self.cannot_link_events = prepare(_CANNOT_LINK_EVENTS)
        self.event_record = prepare(_EVENT_RECORD)
        self.mention_count = prepare(_MENTION_COUNT)
        self.event_exists = prepare(_EVENT_EXISTS)
        self.insert_event = prepare(_INSERT_EVENT)
        self.update_event = prepare(_UPDATE_EVENT)
        self.delete_event = prepare(_DELETE_EVENT)
        self.insert_event_report = prepare(_INSERT_EVENT_REPORT)
        self.delete_event_reports = prepare(_DELETE_EVENT_REPORTS)
        self.insert_claim = prepare(_INSERT_CLAIM)
        self.insert_tally = prepare(tallies_table.insert())

    def candidates(self, reach: tuple[int, bool, bool], by_name: bool
                   ) -> tuple[_Prepared, tuple[tuple[str, timedelta], ...]] | None:
        """The candidate query for mentions of this `merge.reach_of` (`_candidate_query`),
        compiled on first use, with its date parameters and their offsets from the mention's
        day. (Row order does not matter: of equally close candidates the lowest id wins.)"""
        key = (self.dialect.name, self.dialect.driver, self.dialect.paramstyle, reach, by_name)
        if key not in _CANDIDATE_STATEMENTS:
            query = _candidate_query(reach, by_name)
            _CANDIDATE_STATEMENTS[key] = None if query is None else (
                _Prepared(query[0], self.dialect),
                tuple((_day_param(offset), timedelta(days=offset)) for offset in query[1]))
        return _CANDIDATE_STATEMENTS[key]


class _Writer:
    """The writes of one transaction, on its connection's driver cursor.

    Which of the transaction's mentions are stored already, and which a user split apart
    from others, is asked once for all of them (`prefetch`); the transaction's own
    inserts are remembered, so each mention then needs only its candidates query and
    its writes."""

    def __init__(self, conn: Connection, statements: _WriteStatements) -> None:
        self.conn = conn
        self.sql = statements
        self.cursor = conn.connection.cursor()
        self.asked: set[str] = set()  # mention ids prefetched
        self.stored_mentions: set[str] = set()  # of those, the ones stored (before or by this writer)
        self.split_mentions: set[str] = set()  # of those, the ones in a cannot-link pair

    def prefetch(self, mention_ids: Iterable[str]) -> None:
        ids = sorted(set(mention_ids) - self.asked)
        for start in range(0, len(ids), _ID_CHUNK):
            chunk = {"ids": ids[start:start + _ID_CHUNK]}
            self.stored_mentions.update(self.conn.execute(_STORED_MENTIONS, chunk).scalars())
            for a, b in self.conn.execute(_SPLIT_MENTIONS, chunk):
                self.split_mentions.update((a, b))
        self.asked.update(ids)

    def mention_stored(self, mention_id: str) -> bool:
        if mention_id not in self.asked:
            self.prefetch([mention_id])
        return mention_id in self.stored_mentions

    def inserted_mention(self, mention_id: str) -> None:
        self.asked.add(mention_id)
        self.stored_mentions.add(mention_id)

    def cannot_link_events(self, mention_id: str) -> set[str]:
        """The events holding mentions a user split from this one (cannot-link pairs are
        only made by `Store.split`, never while a transaction ingests)."""
        if mention_id not in self.asked:
            self.prefetch([mention_id])
        if mention_id not in self.split_mentions:
            return set()
        return {row[0] for row in self.sql.cannot_link_events.rows(self.cursor, {"id": mention_id})}

    def close(self) -> None:
        self.cursor.close()


_BOX_PARAMS = tuple(tuple(f"{name}_{level}" for name in ("lat0", "lat1", "lon0", "lon1")) for level in _GEO_PRECISIONS)


@cache
def _candidate_reaches(geo_precision: int | None) -> tuple[float, ...]:
    """How far (km) a stored event of each geo precision (1, 2, 3) may lie from a mention."""
    return tuple(merge.radius_km(max(level, geo_precision or 3)) for level in (1, 2, 3))


@lru_cache(maxsize=4096)  # news names the same towns again and again
def _box_params(lat: float, lon: float, geo_precision: int | None) -> dict[str, float]:
    """The candidate query's boxes (`_IN_BOX`) around a mention's place."""
    params: dict[str, float] = {}
    for names, reach_km in zip(_BOX_PARAMS, _candidate_reaches(geo_precision)):
        params.update(zip(names, merge.bounding_box(lat, lon, reach_km)))
    return params


@cache
def _sub_event_params(sub_event_type: str, precise: bool) -> dict[str, str]:
    """sub0... of the candidate query: the sub-event types a mention's happening may be
    given elsewhere (only its own unless it is placed precisely), padded with its own."""
    subs = merge.compatible_sub_events(sub_event_type) if precise else (sub_event_type,)
    return {f"sub{i}": subs[i] if i < len(subs) else subs[0] for i in range(_SUB_EVENT_PARAMS)}


class SchemaError(RuntimeError):
    """The database was written by an incompatible version of Kharita."""


@dataclass
class EventFilter:
    """What `Store.events` and `Store.events_page` can filter on; every field optional.

    Text matches are case-insensitive. `sort` orders by the date or the fatalities,
    ascending, or descending with a leading "-"; ties are broken by event_id in the same
    direction. `cursor` is a page's `next_cursor`, valid for the same filters and sort."""

    date_from: date | None = None
    date_to: date | None = None
    event_type: str | None = None  # matches event type or sub-event type, case-insensitive
    place: str | None = None  # substring of location, admin1, admin2 or country
    actor: str | None = None  # substring of actor1, actor2 or associated actors
    health_attacks: bool = False  # only events that hit health care
    limit: int | None = None
    offset: int = 0
    sub_event_type: str | None = None  # exact
    side: str | None = None  # exact: the side of actor1 or of actor2 ("government", "opposition", ...)
    country: str | None = None  # exact
    admin1: str | None = None  # exact
    text: str | None = None  # substring of location, actors or notes
    fatalities_min: int | None = None
    fatalities_max: int | None = None
    bbox: tuple[float, float, float, float] | None = None  # (min_lon, min_lat, max_lon, max_lat); min_lon > max_lon crosses 180°
    near: tuple[float, float, float] | None = None  # (lat, lon, radius_km), great-circle distance
    sort: str = "event_date"
    cursor: str | None = None


T = TypeVar("T", Event, str)


@dataclass
class EventPage(Generic[T]):
    """One page of events (or their stored JSON records) and the cursor of the next
    page (None on the last)."""

    items: list[T] = field(default_factory=list)
    next_cursor: str | None = None


class HistogramBin(NamedTuple):
    period_start: date
    events: int
    fatalities: int


def default_db_path() -> str:
    return os.environ.get("KHARITA_DB", DEFAULT_DB)


def database_url(url_or_path: str | Path | None = None) -> str:
    """An SQLAlchemy URL: URLs as they are, anything else a SQLite file path."""
    target = str(url_or_path or default_db_path())
    if isinstance(url_or_path, Path):
        # A URL that went through Path lost a slash of "//host" (postgresql+psycopg:/u@h/db).
        target = re.sub(r"^([a-z][a-z0-9+.-]*):/(?!/)", lambda m: m.group(0) if m.group(1) == "sqlite"
                        else f"{m.group(1)}://", target)
    return target if "://" in target else f"sqlite:///{target}"


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance on the sphere of `EARTH_RADIUS_KM`."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _sqlite_distance(lat1, lon1, lat2, lon2):
    if None in (lat1, lon1, lat2, lon2):
        return None
    return great_circle_km(lat1, lon1, lat2, lon2)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (the map) don't block the ingesting writer
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    # Radius queries: SQLite has no trigonometry of its own (builds may lack math functions).
    dbapi_connection.create_function("kharita_km", 4, _sqlite_distance, deterministic=True)


# -- migrations ---------------------------------------------------------------

@lru_cache(maxsize=1)
def _alembic_config():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "kharita:migrations")
    return config


@lru_cache(maxsize=1)
def _scripts():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config())


def head_revision() -> str:
    return _scripts().get_current_head()


def own_schema(conn: Connection) -> str | None:
    """On PostgreSQL, the schema new tables go to (the first of the search path). Look-ups
    stay in it: tables of another schema further down the path are not this database's."""
    return conn.exec_driver_sql("SELECT current_schema()").scalar() if conn.dialect.name == "postgresql" else None


def _current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn, opts={"version_table_schema": own_schema(conn)}).get_current_revision()


def _stored_schema_version(conn: Connection) -> int | None:
    if not conn.dialect.has_table(conn, "kharita_meta", schema=own_schema(conn)):
        return None
    value = conn.execute(select(meta_table.c.value).where(meta_table.c.key == "schema_version")).scalar_one_or_none()
    return int(value) if value is not None else None


def _upgrade(conn: Connection, url: str) -> None:
    """Bring the database on `conn` to the newest revision, in the caller's transaction."""
    from alembic import command
    from alembic.util import CommandError

    stored = _stored_schema_version(conn)
    if stored is not None and stored > SCHEMA_VERSION:
        raise SchemaError(f"{url}: schema version {stored} is newer than this Kharita understands "
                          f"({SCHEMA_VERSION}); upgrade Kharita")
    current = _current_revision(conn)
    config = _alembic_config()
    config.attributes["connection"] = conn
    try:
        if current is None and stored is not None:  # written before migrations: stamp what it holds
            command.stamp(config, REVISION_OF_SCHEMA_VERSION[stored])
            current = REVISION_OF_SCHEMA_VERSION[stored]
        elif current is not None:
            try:
                _scripts().get_revision(current)
            except CommandError:
                raise SchemaError(f"{url}: schema revision {current} is newer than this Kharita understands "
                                  f"({head_revision()}); upgrade Kharita") from None
        if current != head_revision():
            command.upgrade(config, "head")
    finally:
        config.attributes.pop("connection", None)


@dataclass(frozen=True)
class DatabaseState:
    """Where a database stands (`kharita db current`)."""

    url: str  # password hidden
    dialect: str
    revision: str | None  # None: empty, or from before migrations
    schema_version: int | None
    head: str  # this Kharita's newest revision
    postgis: bool

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.head


def database_state(url_or_path: str | Path | None = None) -> DatabaseState:
    """The Alembic revision and schema version of a database, without changing it.
    Raises FileNotFoundError for a SQLite file that does not exist."""
    url = make_url(database_url(url_or_path))
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        raise FileNotFoundError(f"no database at {url.database}")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return DatabaseState(url.render_as_string(hide_password=True), engine.dialect.name,
                                 _current_revision(conn), _stored_schema_version(conn), head_revision(),
                                 has_point_column(conn))
    finally:
        engine.dispose()


class Store:
    """Reports and events, in one database."""

    def __init__(self, url_or_path: str | Path | None = None) -> None:
        url = make_url(database_url(url_or_path))
        self.url = url.render_as_string(hide_password=True)  # for messages: no password in logs
        self.engine: Engine = create_engine(url, future=True)
        self.dialect: str = self.engine.dialect.name
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        elif self.dialect != "postgresql":
            raise ValueError(f"{self.url}: Kharita stores events in SQLite or PostgreSQL, not {self.dialect}")
        self.postgis: bool = False  # PostGIS point column present and used for spatial filters
        self._migrate()

    # -- schema -------------------------------------------------------------
    def _migrate(self) -> None:
        with self.engine.begin() as conn:
            if self.dialect == "postgresql":  # two processes opening a new database: one migrates
                conn.execute(text("SELECT pg_advisory_xact_lock(:cls, :key)"),
                             {"cls": _LOCK_CLASS, "key": _MIGRATION_LOCK})
            _upgrade(conn, self.url)
            # PostGIS created after the upgrade that would have used it: add the point now.
            self.postgis = ensure_point_column(conn, create_extension=False) if self.dialect == "postgresql" \
                else False

    @property
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(
                select(meta_table.c.value).where(meta_table.c.key == "schema_version")
            ).scalar_one())

    @property
    def revision(self) -> str | None:
        """The database's Alembic revision (the newest one after opening)."""
        with self.engine.connect() as conn:
            return _current_revision(conn)

    def close(self) -> None:
        self.engine.dispose()

    # -- writes -------------------------------------------------------------
    def has_report(self, report_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(
                select(reports_table.c.id).where(reports_table.c.id == report_id)
            ).first() is not None

    def add(self, report: Report, events: Iterable[Event], control: Iterable[ControlClaim] = (),
            conn: Connection | None = None, tallies: Iterable[Tally] = ()) -> bool:
        """Store a report with its events and control claims in one transaction, merging
        each event into the stored event of the same happening, if any (see `merge`).

        With `conn`, the writes join that open transaction (the caller commits it, with
        whatever else it wrote there); otherwise they are committed before returning.
        Returns False, changing nothing, when the report is already stored.
        """
        if conn is None:
            with self.engine.begin() as own:
                return self.add(report, events, control, own, tallies)
        return self._write(conn, [(report, list(events), list(control), list(tallies))])[0]

    def add_many(self, items: Iterable[tuple[Report, Iterable[Event]] | tuple[Report, Iterable[Event],
                                                                          Iterable[ControlClaim]]],
                 batch_size: int = BATCH_SIZE) -> list[bool]:
        """`add` for many reports, `batch_size` of them per transaction: the same events,
        merged the same way, with far fewer commits. Items are (report, events),
        (report, events, control claims) or (report, events, control claims, tallies); the result says, per item, whether its report
        was new. A failure rolls back only the batch being written: batches committed
        before it stay."""
        results: list[bool] = []
        pending: list[tuple] = []
        for item in items:
            pending.append(item)
            if len(pending) >= batch_size:
                results.extend(self._add_batch(pending))
                pending = []
        if pending:
            results.extend(self._add_batch(pending))
        return results

    def _add_batch(self, items: list[tuple]) -> list[bool]:
        items = [(item[0], list(item[1]), list(item[2]) if len(item) > 2 else [], list(item[3]) if len(item) > 3 else [])
                 for item in items]
        with self.engine.begin() as conn:
            return self._write(conn, items)

    @cached_property
    def _statements(self) -> _WriteStatements:
        return _WriteStatements(self.engine.dialect)

    def _write(self, conn: Connection, items: list[tuple[Report, list[Event], list[ControlClaim], list[Tally]]]
               ) -> list[bool]:
        """Reports in order, each with its events merged one after another (each sees the
        ones before it), its control claims and tallies, in the open transaction."""
        # Every lock the transaction needs, at once and in order: two writers never wait on each other in a cycle.
        self._lock_event_types(conn, {e.event_type for _, events, _, _ in items for e in events})
        writer = _Writer(conn, self._statements)
        try:
            writer.prefetch(e.event_id_cnty for _, events, _, _ in items for e in events)
            return [self._write_report(writer, *item) for item in items]
        finally:
            writer.close()

    def _write_report(self, writer: _Writer, report: Report, events: list[Event], control: list[ControlClaim],
                      tallies: list[Tally]) -> bool:
        values = {**report.model_dump(), "ingested_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        if writer.sql.insert_report.first(writer.cursor, values) is None:  # stored before
            return False
        for mention in events:
            self._merge_mention(writer, mention)
        writer.sql.insert_claim.executemany(writer.cursor, [
            {"claim_id": c.claim_id, "report_id": report.id, "place_key": c.place_key, "place": c.place,
             "start_date": c.start, "record": c.model_dump_json()} for c in control])
        writer.sql.insert_tally.executemany(writer.cursor, [
            {"report_id": report.id, "position": i, "since": t.since, "record": t.model_dump_json()}
            for i, t in enumerate(tallies)])
        return True

    def _lock_event_types(self, conn: Connection, event_types: Iterable[str]) -> None:
        """On PostgreSQL, writers merging events of one type take turns (until commit), so
        two of them never both start an event for one happening, nor rebuild one event
        from different mentions. Events only merge within a type, so other types proceed
        in parallel. A transaction takes all its locks at once, in one order, before it
        writes a row: no deadlocks. (SQLite has one writer at a time anyway.)"""
        if self.dialect != "postgresql":
            return
        for key in sorted({zlib.crc32(t.encode()) - 2**31 for t in event_types}):
            conn.execute(_TYPE_LOCK, {"cls": _LOCK_CLASS, "key": key})

    def _merge_mention(self, writer: _Writer, mention: Event) -> None:
        mention_id = mention.event_id_cnty
        if writer.mention_stored(mention_id):
            return
        forbidden = writer.cannot_link_events(mention_id)
        best: tuple[str, str] | None = None
        # The closest match wins; of equally close ones the lowest event id, not the first row:
        # row order follows the query plan, and merges must not differ between databases. So
        # candidates are tried closest first, and the first that is the same happening is it.
        candidates = self._candidates(writer, mention)
        ranked = sorted((merge.closeness(mention, candidate), candidate.event_id_cnty, i)
                        for i, candidate in enumerate(candidates))
        for _, event_id, i in ranked:
            # (The query leaves out events of the same report: the pipeline told those apart.)
            if event_id in forbidden:
                continue
            decision = merge.same_happening(mention, candidates[i])
            if decision.same:
                best = (event_id, decision.reason)
                break
        event_id, reason = best or (mention_id, "started this event")
        record = mention.model_dump_json()
        writer.sql.insert_mention.execute(writer.cursor, {
            "mention_id": mention_id, "report_id": mention.report_ids[0], "event_id": event_id, "reason": reason,
            "record": record})
        writer.inserted_mention(mention_id)
        if best is None:  # a new event: itself, nothing to recompute
            self._write_event(writer, mention, record, new=True)
        else:
            self._rebuild_event(writer, event_id, joining=mention)

    def _candidates(self, writer: _Writer, mention: Event) -> list[merge.EventKey]:
        """Stored events that could be the same happening (blocking), as merge keys."""
        if mention.date_source == "ingested":
            return []  # date unknown: `merge.same_happening` takes nothing
        located = mention.latitude is not None and mention.longitude is not None
        reach = merge.reach_of(mention)
        statement = writer.sql.candidates(reach, by_name=not located)
        if statement is None:
            return []
        query, days = statement
        params: dict = {"event_type": mention.event_type, "report": mention.report_ids[0],
                        **_sub_event_params(mention.sub_event_type, reach[1])}
        day = mention.event_date
        for name, offset in days:
            params[name] = day + offset
        if located:
            params.update(_box_params(mention.latitude, mention.longitude, mention.geo_precision))
        else:
            params["location"] = mention.location.lower()
        return [merge.EventKey(*row) for row in query.rows(writer.cursor, params)]

    def _rebuild_event(self, writer: _Writer, event_id: str, joining: Event | None = None) -> None:
        """Recompute a merged event from its mentions (or delete it when none is left).

        When one mention joins a large event, the event is folded with it rather than
        recomputed from all its mentions, so a happening told by thousands of reports
        does not make each new report slower."""
        sql, cursor = writer.sql, writer.cursor
        if joining is not None:
            count = sql.mention_count.first(cursor, {"event_id": event_id})[0]
            if count > FOLD_AFTER_MENTIONS:
                current = Event.model_validate_json(sql.event_record.first(cursor, {"event_id": event_id})[0])
                event = merge.combine(event_id, [current, joining])
                self._write_event(writer, event, event.model_dump_json(), new=False)
                return
        # Mentions in code-point order of their ids, whatever the database's collation.
        records = [record for _, record in sorted(sql.mentions_of_event.rows(cursor, {"event_id": event_id}))]
        if not records:
            sql.delete_event_reports.execute(cursor, {"event_id": event_id})
            sql.delete_event.execute(cursor, {"event_id": event_id})
            return
        event = merge.combine(event_id, [Event.model_validate_json(r) for r in records])
        # A joining mention joins an event that exists (it was a candidate).
        exists = joining is not None or sql.event_exists.first(cursor, {"event_id": event_id}) is not None
        self._write_event(writer, event, event.model_dump_json(), new=not exists)

    def _write_event(self, writer: _Writer, ev: Event, record: str, new: bool) -> None:
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
            "admin2": ev.admin2,
            "location": ev.location,
            "latitude": ev.latitude,
            "longitude": ev.longitude,
            "geo_precision": ev.geo_precision,
            "side1": ev.side1,
            "side2": ev.side2,
            "date_source": ev.date_source,
            "fatalities": ev.fatalities,
            "health_attack": ev.health is not None,
            "notes": ev.notes,
            "record": record,
            "summary": event_summary(ev),
        }
        sql, cursor = writer.sql, writer.cursor
        if new:
            sql.insert_event.execute(cursor, values)
        else:
            sql.update_event.execute(cursor, {**values, "key": ev.event_id_cnty})
            sql.delete_event_reports.execute(cursor, {"event_id": ev.event_id_cnty})
        sql.insert_event_report.executemany(cursor, [{"event_id": ev.event_id_cnty, "report_id": r}
                                                     for r in ev.report_ids])

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
        """The events matching `flt`, in its sort order (by date, then id, by default)."""
        return self.events_page(flt or EventFilter()).items

    def iter_events(self, flt: EventFilter | None = None, page_size: int = ITER_PAGE) -> Iterator[Event]:
        """The events matching `flt`, as `events` gives them, read a page at a time: memory
        stays that of one page however many events match (exports of whole stores).
        `flt.limit`, if set, still caps the total."""
        flt = flt or EventFilter()
        left = flt.limit
        page_flt = replace(flt, cursor=None)
        while left is None or left > 0:
            page_flt.limit = page_size if left is None else min(page_size, left)
            page = self.events_page(page_flt)
            yield from page.items
            if left is not None:
                left -= len(page.items)
            if page.next_cursor is None:
                return
            page_flt = replace(page_flt, cursor=page.next_cursor, offset=0)

    def events_page(self, flt: EventFilter, raw: bool = False, evidence: bool = True) -> EventPage:
        """One page of the events matching `flt`: at most `flt.limit` of them (all when
        None), after `flt.cursor`. Pages seek on (sort key, event_id), so walking them
        neither repeats nor skips an event while others are added. With `raw`, the items
        are the stored JSON records (what `Event.model_dump_json` wrote), unparsed. Without
        `evidence`, the items are the events' summaries (`event_summary`: no evidence spans),
        read from their own column: a quarter of the bytes to read and parse.

        The statement is compiled once per shape of filter (which filters are set, the
        sort, cursor, limit and offset), not per call: pages are the API's hot path.

        Raises ValueError for an invalid filter or cursor."""
        _sort_of(flt.sort)
        shape, params = self._filter_shape(flt)
        seek = flt.cursor is not None
        if seek:
            if flt.offset:
                raise ValueError("use a cursor or an offset, not both")
            params["after_key"], params["after_id"] = _decode_cursor(flt)
        if flt.limit is not None:
            if flt.limit < 0:
                raise ValueError(f"limit must be 0 or more, not {flt.limit}")
            params["page_limit"] = flt.limit + 1  # one more says whether a next page exists
        if flt.offset:
            params["page_offset"] = flt.offset
        key = (shape, flt.sort, seek, flt.limit is not None, bool(flt.offset), evidence)
        statement = self._page_statements.get(key)
        if statement is None:
            statement = self._page_statements[key] = _Prepared(self._page_query(*key), self.engine.dialect,
                                                               server_prepare=False)
            while len(self._page_statements) > _PAGE_STATEMENTS:
                self._page_statements.pop(next(iter(self._page_statements)), None)
        rows = self._read(statement, params)
        next_cursor = None
        if flt.limit is not None and len(rows) > flt.limit:
            rows = rows[:flt.limit]
            if rows:
                next_cursor = _encode_cursor(flt, rows[-1][1], rows[-1][2])
        records = [row[0] for row in rows]
        return EventPage(records if raw else [Event.model_validate_json(r) for r in records], next_cursor)

    @cached_property
    def _page_statements(self) -> dict[tuple, _Prepared]:
        return {}

    @cached_property
    def _reader(self) -> Engine:
        """The engine for single-statement reads: on PostgreSQL without BEGIN and ROLLBACK
        around them (two round trips that bought nothing for one SELECT)."""
        return self.engine.execution_options(isolation_level="AUTOCOMMIT") if self.dialect == "postgresql" \
            else self.engine

    def _read(self, statement: _Prepared, params: dict) -> list[tuple]:
        with self._reader.connect() as conn:
            cursor = conn.connection.cursor()
            try:
                return statement.rows(cursor, params)
            finally:
                cursor.close()

    def _page_query(self, shape: tuple, sort: str, seek: bool, limited: bool, offset: bool, evidence: bool):
        sort_column, descending = _sort_of(sort)
        query = select(_t.c.record if evidence else _t.c.summary, sort_column, _t.c.event_id).where(
            *self._shape_conditions(shape))
        if seek:
            after = tuple_(bindparam("after_key", type_=sort_column.type), bindparam("after_id", type_=_t.c.event_id.type))
            key = tuple_(sort_column, _t.c.event_id)
            query = query.where(key < after if descending else key > after)
        if descending:
            query = query.order_by(sort_column.desc(), _t.c.event_id.desc())
        else:
            query = query.order_by(sort_column, _t.c.event_id)
        if limited:
            query = query.limit(bindparam("page_limit", type_=Integer))
        if offset:
            query = query.offset(bindparam("page_offset", type_=Integer))
        return query

    def histogram(self, flt: EventFilter | None = None,
                  interval: Literal["day", "week", "month"] = "day") -> list[HistogramBin]:
        """Events and fatalities per day, week (from Monday) or month of the event date, for
        the events matching `flt` (its limit, offset, sort and cursor do not apply); periods
        without events are left out."""
        flt = flt or EventFilter()
        if interval not in INTERVALS:
            raise ValueError(f"interval must be one of {', '.join(INTERVALS)}, not {interval!r}")
        shape, params = self._filter_shape(flt)
        period = self._period_start(interval).label("period_start")
        query = (select(period, func.count().label("events"), func.coalesce(func.sum(_t.c.fatalities), 0))
                 .where(*self._shape_conditions(shape)).group_by(period).order_by(period))
        with self.engine.connect() as conn:
            return [HistogramBin(row[0], int(row[1]), int(row[2])) for row in conn.execute(query, params)]

    def _period_start(self, interval: str):
        if interval == "day":
            return _t.c.event_date
        if self.dialect == "postgresql":
            return cast(func.date_trunc(interval, _t.c.event_date), Date)
        if interval == "week":  # the Sunday ending the week (the day itself on Sundays), less six days
            return type_coerce(func.date(_t.c.event_date, "weekday 0", "-6 days"), Date)
        return type_coerce(func.date(_t.c.event_date, "start of month"), Date)

    def _filter_shape(self, flt: EventFilter) -> tuple[tuple, dict]:
        """A filter as the shape of its WHERE clause (which conditions, how many longitude
        spans; see `_shape_conditions`) and the values of its parameters. Raises
        ValueError for an invalid box or circle."""
        shape: list = []
        params: dict = {}
        for name in ("date_from", "date_to"):
            if getattr(flt, name):
                shape.append(name)
                params[name] = getattr(flt, name)
        for name in ("event_type", "sub_event_type", "side", "country", "admin1"):  # exact, any case
            if getattr(flt, name):
                shape.append(name)
                params[name] = getattr(flt, name).lower()
        for name in ("place", "actor", "text"):  # substrings, any case
            if getattr(flt, name):
                shape.append(name)
                params[name] = _like_pattern(getattr(flt, name))
        for name in ("fatalities_min", "fatalities_max"):
            if getattr(flt, name) is not None:
                shape.append(name)
                params[name] = getattr(flt, name)
        if flt.health_attacks:
            shape.append("health_attacks")
        if flt.bbox is not None:
            min_lon, min_lat, max_lon, max_lat = _checked_bbox(flt.bbox)
            # A box whose west edge is east of its east edge crosses the antimeridian: two boxes.
            spans = [(min_lon, max_lon)] if min_lon <= max_lon else [(min_lon, 180.0), (-180.0, max_lon)]
            shape.append(("bbox", len(spans)))
            params.update(bbox_s=min_lat, bbox_n=max_lat)
            for i, (west, east) in enumerate(spans):
                params[f"bbox_w{i}"], params[f"bbox_e{i}"] = west, east
        if flt.near is not None:
            lat, lon, radius_km = _checked_near(flt.near)
            if self.postgis:
                shape.append(("near", "geography"))
                params.update(near_lon=lon, near_lat=lat, near_m=radius_km * 1000.0)
            else:
                # The indexed box around the circle first, then the exact distance.
                (lat0, lat1), lon_spans = _box_around(lat, lon, radius_km)
                shape.append(("near", None if lon_spans is None else len(lon_spans)))
                params.update(near_lat0=lat0, near_lat1=lat1, near_lat=lat, near_lon=lon, near_km=radius_km,
                              near_p2=math.radians(lat), near_cos_p2=math.cos(math.radians(lat)))
                for i, (west, east) in enumerate(lon_spans or ()):
                    params[f"near_w{i}"], params[f"near_e{i}"] = west, east
        return tuple(shape), params

    def _shape_conditions(self, shape: tuple) -> list:
        """The WHERE clauses of a filter's shape (`_filter_shape`), every value a named bound parameter."""
        t = _t
        conditions: list = []
        for part in shape:
            name, extent = part if isinstance(part, tuple) else (part, None)
            value = bindparam(name)
            if name == "date_from":
                conditions.append(t.c.event_date >= value)
            elif name == "date_to":
                conditions.append(t.c.event_date <= value)
            elif name == "event_type":
                conditions.append(or_(func.lower(t.c.event_type) == value, func.lower(t.c.sub_event_type) == value))
            elif name == "sub_event_type":
                conditions.append(func.lower(t.c.sub_event_type) == value)
            elif name == "side":
                conditions.append(or_(func.lower(t.c.side1) == value, func.lower(t.c.side2) == value))
            elif name in ("country", "admin1"):
                conditions.append(func.lower(t.c[name]) == value)
            elif name == "place":
                conditions.append(_contains((t.c.location, t.c.admin1, t.c.admin2, t.c.country), name))
            elif name == "actor":
                conditions.append(_contains((t.c.actor1, t.c.actor2, t.c.assoc_actors), name))
            elif name == "text":
                conditions.append(_contains((t.c.location, t.c.actor1, t.c.actor2, t.c.assoc_actors, t.c.notes),
                                            name))
            elif name == "fatalities_min":
                conditions.append(t.c.fatalities >= value)
            elif name == "fatalities_max":
                conditions.append(t.c.fatalities <= value)
            elif name == "health_attacks":
                conditions.append(t.c.health_attack.is_(True))
            elif name == "bbox":
                conditions.append(self._in_bbox(extent))
            elif name == "near":
                conditions.extend(self._near(extent))
            else:
                raise AssertionError(f"unknown filter {name}")
        return conditions

    def _in_bbox(self, spans: int):
        """Inside the box of parameters bbox_s, bbox_n and `spans` pairs bbox_w{i}, bbox_e{i}."""
        def degrees(name: str):
            return bindparam(name, type_=Float)

        # Plain columns on PostGIS too: the date index holds latitude and longitude (migration
        # 0004), so a date-sorted page of a box is filtered inside it (0.07 ms a page), where
        # ST_Intersects is a filter on every heap row of the date range (1.1 ms). Same answers:
        # both bounds are inclusive.
        return and_(_t.c.latitude.between(degrees("bbox_s"), degrees("bbox_n")),
                    or_(*[_t.c.longitude.between(degrees(f"bbox_w{i}"), degrees(f"bbox_e{i}")) for i in range(spans)]))

    def _near(self, spans: int | str | None) -> list:
        """Within near_km of (near_lat, near_lon); `spans`: the longitude spans of the box
        around the circle (None: every longitude), "geography" on PostGIS."""
        def number(name: str):
            return bindparam(name, type_=Float)

        if self.postgis:
            return [text("ST_DWithin(events.geom::geography, ST_SetSRID(ST_MakePoint(:near_lon, :near_lat), 4326)"
                         "::geography, :near_m, false)").bindparams(number("near_lon"), number("near_lat"),
                                                                    number("near_m"))]
        box = [_t.c.latitude.between(number("near_lat0"), number("near_lat1"))]
        if spans is not None:
            box.append(or_(*[_t.c.longitude.between(number(f"near_w{i}"), number(f"near_e{i}"))
                             for i in range(spans)]))
        return [*box, self._distance_km() <= number("near_km")]

    def _distance_km(self):
        """Great-circle km from (near_lat, near_lon): on PostgreSQL the haversine in SQL, from
        near_p2 (the latitude in radians) and near_cos_p2 (its cosine)."""
        lat, lon = bindparam("near_lat", type_=Float), bindparam("near_lon", type_=Float)
        if self.dialect == "sqlite":
            return func.kharita_km(_t.c.latitude, _t.c.longitude, lat, lon)
        p1, p2 = func.radians(_t.c.latitude), bindparam("near_p2", type_=Float)
        h = (func.power(func.sin((p2 - p1) / 2), 2)
             + func.cos(p1) * bindparam("near_cos_p2", type_=Float)
             * func.power(func.sin(func.radians(lon - _t.c.longitude) / 2), 2))
        return 2 * EARTH_RADIUS_KM * func.asin(func.least(1.0, func.sqrt(h)))

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
            event_type = conn.execute(_EVENT_TYPE, {"event_id": event_id}).scalar_one_or_none()
            if event_type is not None:
                self._lock_event_types(conn, [event_type])
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
            writer = _Writer(conn, self._statements)
            try:
                self._rebuild_event(writer, event_id)
                self._rebuild_event(writer, new_id)
            finally:
                writer.close()
        return event_id if keep is moving else new_id

    def tallies(self, report_id: str | None = None) -> list[tuple[str, Tally]]:
        """Running counts as (report id, tally), oldest period first; of one report with `report_id`."""
        t = tallies_table
        query = select(t.c.report_id, t.c.record).order_by(t.c.since, t.c.report_id, t.c.position)
        if report_id is not None:
            query = query.where(t.c.report_id == report_id)
        with self.engine.connect() as conn:
            return [(row.report_id, Tally.model_validate_json(row.record)) for row in conn.execute(query)]

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


def _like_pattern(value: str) -> str:
    """A LIKE pattern for text containing `value`, in lower case, its wildcards literal
    (escaped with "/", as SQLAlchemy's `autoescape` does)."""
    escaped = value.lower().replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def _contains(columns, name: str):
    """Any of `columns` matches the LIKE pattern (`_like_pattern`) of parameter `name`, case-insensitively."""
    pattern = bindparam(name, type_=String)
    return or_(*[func.lower(c).like(pattern, escape="/") for c in columns])


def _sort_of(sort: str):
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    return _t.c[sort.lstrip("-")], sort.startswith("-")


def _checked_bbox(bbox) -> tuple[float, float, float, float]:
    try:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise ValueError(f"bbox must be four numbers (min_lon, min_lat, max_lon, max_lat), not {bbox!r}") from None
    if not (-90 <= min_lat <= max_lat <= 90):
        raise ValueError(f"bbox latitudes must satisfy -90 <= min_lat <= max_lat <= 90, not {min_lat}, {max_lat}")
    if not (-180 <= min_lon <= 180 and -180 <= max_lon <= 180):
        raise ValueError(f"bbox longitudes must lie within -180..180, not {min_lon}, {max_lon}")
    return min_lon, min_lat, max_lon, max_lat


def _checked_near(near) -> tuple[float, float, float]:
    try:
        lat, lon, radius_km = (float(v) for v in near)
    except (TypeError, ValueError):
        raise ValueError(f"near must be three numbers (lat, lon, radius_km), not {near!r}") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"near: ({lat}, {lon}) is not a latitude and longitude")
    if not radius_km >= 0:
        raise ValueError(f"near: the radius must be 0 km or more, not {radius_km}")
    return lat, lon, radius_km


def _box_around(lat: float, lon: float, radius_km: float):
    """The latitude range and longitude spans (None: all longitudes) holding every point
    within `radius_km` of (lat, lon) on the sphere, split at the antimeridian."""
    angle = radius_km / EARTH_RADIUS_KM
    lat0, lat1 = lat - math.degrees(angle), lat + math.degrees(angle)
    if lat0 <= -90 or lat1 >= 90 or angle >= math.pi / 2:  # a pole is inside: every longitude
        return (max(lat0, -90.0), min(lat1, 90.0)), None
    dlon = math.degrees(math.asin(min(1.0, math.sin(angle) / math.cos(math.radians(lat)))))
    west, east = lon - dlon, lon + dlon
    if west < -180:
        return (lat0, lat1), [(west + 360, 180.0), (-180.0, east)]
    if east > 180:
        return (lat0, lat1), [(west, 180.0), (-180.0, east - 360)]
    return (lat0, lat1), [(west, east)]


_FINGERPRINTED = tuple(f.name for f in dataclass_fields(EventFilter) if f.name not in ("limit", "offset", "cursor"))


def _fingerprint(flt: EventFilter) -> str:
    """What a cursor remembers of its query: the filters and sort (not limit or offset)."""
    fields = {name: getattr(flt, name) for name in _FINGERPRINTED}  # (what `asdict` gives, without copying)
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _encode_cursor(flt: EventFilter, key, event_id: str) -> str:
    key = key.isoformat() if isinstance(key, date) else key
    payload = json.dumps([flt.sort, _fingerprint(flt), key, event_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode_cursor(flt: EventFilter) -> tuple:
    """(sort key, event_id) of the last event of the previous page."""
    cursor = flt.cursor or ""
    try:
        sort, fingerprint, key, event_id = json.loads(
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        if not isinstance(event_id, str):
            raise TypeError(event_id)
        key = date.fromisoformat(key) if sort.lstrip("-") == "event_date" else int(key)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, AttributeError):
        raise ValueError(f"invalid cursor {cursor[:40]!r}: not a cursor this store gave out") from None
    if sort != flt.sort:
        raise ValueError(f"invalid cursor: it continues a listing sorted by {sort!r}, not {flt.sort!r}")
    if fingerprint != _fingerprint(flt):
        raise ValueError("invalid cursor: it continues a listing with other filters")
    return key, event_id


def dumps_events(events: Iterable[Event]) -> str:
    return json.dumps([e.model_dump(mode="json") for e in events], ensure_ascii=False, indent=2)
