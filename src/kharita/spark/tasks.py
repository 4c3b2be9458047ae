"""What the executors run: input records into `Report`s (as ingest reads them), the
pipeline, the merge replay through the real store, and events in the export's columns.

Every step is a function from an iterator of Arrow record batches to an iterator of
Arrow record batches (`DataFrame.mapInArrow`): Spark hands the Python workers columns,
not pickled rows, and takes back the export's own Arrow table, so the JVM never
converts a Python object. Nothing here imports pyspark; the schemas are Arrow schemas
(`job` turns them into Spark's). The pipeline (gazetteer, dictionaries) is a
module-level lazy singleton, so each Python worker loads it once and keeps it across
tasks (Spark reuses its Python workers: `spark.python.worker.reuse`).
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pyarrow as pa

from ..ingest import Rejected, read_bytes
from ..models import Event, Report
from . import blocking

# Each JSON-lines record (or Parquet row, as a JSON object) is read as a one-line JSON
# Lines input, through ingest's own parser: same checks, same reasons, same report ids.
_JSONL_NAME = "record.jsonl"
# The optional fields of a report record (kharita.ingest.jsonl); other columns are ignored.
RECORD_FIELDS = ("text", "title", "url", "published", "outlet", "language")
# Rows per output batch: reports and events are a few kB each, so a batch stays a few MB.
_BATCH_ROWS = 500
# Merged events read back from a partition's store this many at a time.
_PAGE = 2000

# Where a report stands in `kharita ingest`'s order: the path's parts (folder by folder),
# the line (or Parquet row; 0 for a whole file), the item within it (a feed's entries).
# Mentions add the event's index within its report.
_ORDER = [pa.field("path", pa.list_(pa.string())), pa.field("line", pa.int64()),
          pa.field("item", pa.int32())]

# parse: one row per report read or record rejected.
PARSED_SCHEMA = pa.schema([
    pa.field("kind", pa.string()),  # "report" or "reject"
    *_ORDER,
    pa.field("opens_record", pa.bool_()),  # first outcome of an input record: counts what was read
    pa.field("source", pa.string()),  # rejects: the file (and feed entry)
    pa.field("line_no", pa.int64()),  # rejects: the line (JSON lines, Parquet rows)
    pa.field("reason", pa.string()),  # rejects
    pa.field("report_id", pa.string()),  # reports
    pa.field("report", pa.string()),  # reports: Report JSON
])

# extract: one row per event as its report tells it (a mention).
MENTION_SCHEMA = pa.schema([
    *_ORDER,
    pa.field("event_index", pa.int32()),
    pa.field("report_id", pa.string()),
    pa.field("event", pa.string()),  # Event JSON
    pa.field("cells", pa.list_(pa.string())),  # blocking cells (blocking.cell_text)
    pa.field("block", pa.string()),  # the first cell, which names the component; null: placeless
])

_pipeline = None


def pipeline():
    """The pipeline of this Python worker, built on first use."""
    global _pipeline
    if _pipeline is None:
        from ..pipeline import Pipeline

        _pipeline = Pipeline()
    return _pipeline


def _rows(batches: Iterable[pa.RecordBatch], *columns: str) -> Iterator[tuple]:
    """The rows of record batches as tuples of the named columns."""
    for batch in batches:
        yield from zip(*(batch.column(name).to_pylist() for name in columns))


def _batches(rows: Iterable[dict], schema: pa.Schema, size: int = _BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield pa.RecordBatch.from_pylist(chunk, schema=schema)
            chunk = []
    if chunk:
        yield pa.RecordBatch.from_pylist(chunk, schema=schema)


# -- input ---------------------------------------------------------------------------------

def source_path(uri: str) -> str:
    """A file's address as people read it: local files as plain paths, others as URIs."""
    parts = urlsplit(uri)
    if parts.scheme in ("", "file"):
        return unquote(parts.path)
    return unquote(uri)


def path_order(uri: str) -> tuple[str, ...]:
    """Sort key giving `kharita ingest`'s order: names compared folder level by level."""
    return tuple(source_path(uri).split("/"))


def number_lines(first_lines: dict[tuple[str, int], int]) -> Callable[[Iterable[tuple]], Iterator[tuple]]:
    """Rows of Spark's text reader `(raw, path, block_start)` -> `(order, source, line, raw)`.

    A split file's lines are read chunk by chunk, each chunk in order; `first_lines`
    gives the line number of each chunk's first line, so numbers are the file's own."""
    def numbered(rows: Iterable[tuple]) -> Iterator[tuple]:
        chunk, line = None, 0
        for raw, path, start in rows:
            if (path, start) != chunk:
                chunk, line = (path, start), first_lines[(path, start)]
            else:
                line += 1
            if raw.strip():  # blank lines are skipped, as ingest does
                yield (path_order(path), line, 0), source_path(path), line, bytes(raw)
    return numbered


def jsonl_records(first_lines: dict[tuple[str, int], int]) -> Callable[[Iterable[pa.RecordBatch]], Iterator[tuple]]:
    """Batches of `(raw, path, start)` lines -> records `(order, source, line, data)`."""
    numbered = number_lines(first_lines)
    return lambda batches: numbered(_rows(batches, "raw", "path", "start"))


def _json_value(value):
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def parquet_record(row: dict) -> bytes:
    """A Parquet row as the JSON object a JSON-lines file would hold."""
    return json.dumps({k: _json_value(v) for k, v in row.items() if k in RECORD_FIELDS},
                      ensure_ascii=False).encode("utf-8")


def parquet_records(batches: Iterable[pa.RecordBatch]) -> Iterator[tuple]:
    """Batches of Parquet rows (record fields, `_path`, `_row`) -> records."""
    for batch in batches:
        for values in batch.to_pylist():
            source, number = values.pop("_path"), values.pop("_row") + 1
            yield (path_order(source), number, 0), source_path(source), number, parquet_record(values)


def file_records(batches: Iterable[pa.RecordBatch]) -> Iterator[tuple]:
    """Batches of whole files `(path, content)` -> records."""
    for path, content in _rows(batches, "path", "content"):
        yield (path_order(path), 0, 0), source_path(path), None, bytes(content)


def parse(records_of: Callable[[Iterable[pa.RecordBatch]], Iterator[tuple]], kind: str, published: date | None,
          outlet: str | None, max_bytes: int) -> Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """Input batches -> `PARSED_SCHEMA` batches: each record read by `kharita.ingest`
    (`records_of` turns the batches into `(order, source, line, data)`). `kind` is
    "record" (a JSON line or a Parquet row as JSON) or "file" (a whole file, read as
    ingest reads files; a feed may hold many reports)."""
    def outcomes(records: Iterable[tuple]) -> Iterator[dict]:
        for (path, line, _), source, line_no, data in records:
            name = _JSONL_NAME if kind == "record" else Path(source).name
            items = read_bytes(data, name, published, outlet, max_bytes=max_bytes)
            for index, item in enumerate(items):
                where = {"path": list(path), "line": line, "item": index, "opens_record": index == 0}
                if isinstance(item, Rejected):
                    # "feed.xml entry 3": keep what names the part of the file
                    detail = item.origin[len(name):] if kind == "file" and item.origin.startswith(name) else ""
                    yield {"kind": "reject", **where, "source": source + detail, "line_no": line_no,
                           "reason": item.reason}
                else:
                    report = item.model_copy(update={"origin": source})
                    yield {"kind": "report", **where, "report_id": report.id, "report": report.model_dump_json()}
    return lambda batches: _batches(outcomes(records_of(batches)), PARSED_SCHEMA)


# -- extraction ----------------------------------------------------------------------------

def extract(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Batches of reports `(path, line, item, report_id, report)` -> `MENTION_SCHEMA`
    batches: each report's events, in pipeline order, with their blocking cells."""
    run = pipeline()

    def mentions() -> Iterator[dict]:
        for path, line, item, report_id, report_json in _rows(batches, "path", "line", "item", "report_id", "report"):
            for index, event in enumerate(run(Report.model_validate_json(report_json))):
                keys = blocking.geo_keys(event.latitude, event.longitude, event.location)
                cells = [blocking.cell_text(c) for c in blocking.mention_cells(event.event_type, event.event_date, keys)]
                yield {"path": path, "line": line, "item": item, "event_index": index, "report_id": report_id,
                       "event": event.model_dump_json(), "cells": cells, "block": cells[0] if cells else None}
    return _batches(mentions(), MENTION_SCHEMA)


# -- merging -------------------------------------------------------------------------------

def _scratch_dir() -> str | None:
    """Where an executor keeps scratch files: the cluster manager's local dirs, if given."""
    for name in ("SPARK_LOCAL_DIRS", "LOCAL_DIRS"):
        value = os.environ.get(name)
        if value:
            return value.split(",")[0]
    return None


def _scratch_pragmas(dbapi_connection, _record) -> None:
    """A replay's store is scratch, thrown away if the task fails: no fsync, and a large
    page cache (the store's own pragmas still apply)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MB
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _footprint(store, event: Event) -> str | None:
    """For a merged event of several reports: one of its cells and its footprint (as
    JSON of cell texts), when the footprint holds cells that none of its mentions
    occupies (see `blocking`)."""
    buckets, keys, own = [], [], set()
    for mention, _reason in store.mentions(event.event_id_cnty):
        mention_keys = blocking.geo_keys(mention.latitude, mention.longitude, mention.location)
        buckets.append(blocking.time_bucket(mention.event_date))
        keys.extend(mention_keys)
        own.update(blocking.mention_cells(mention.event_type, mention.event_date, mention_keys))
    cells = blocking.footprint(event.event_type, buckets, keys)
    if not own or set(cells) <= own:
        return None
    anchor = next(iter(sorted(own, key=repr)))
    return json.dumps([blocking.cell_text(anchor), [blocking.cell_text(c) for c in cells]])


def _by_report(rows: Iterable[tuple[str, str]]) -> Iterator[tuple[Report, list[Event]]]:
    """Sorted `(report_id, event_json)` -> (report, its mentions) in order. Only the
    report's id is needed to merge: the stored copy is a stub."""
    current: str | None = None
    batch: list[Event] = []
    for report_id, event_json in rows:
        if report_id != current and batch:
            yield Report(id=current, text=""), batch
            batch = []
        current = report_id
        batch.append(Event.model_validate_json(event_json))
    if batch:
        yield Report(id=current, text=""), batch


def replay_schema() -> pa.Schema:
    """`output_schema()` plus `footprint`: JSON `[cell, [cells]]` for a merged event whose
    footprint must be checked (see `blocking.close_components`), else null."""
    return output_schema().append(pa.field("footprint", pa.string()))


def replay(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Merge one partition's mentions through a scratch store, as `kharita ingest` would.

    Input: `(report_id, event)` rows sorted by ingest order, so each report's mentions
    arrive together and in pipeline order. Components in one partition never meet (see
    `blocking`), so sharing a store changes nothing. Output: `replay_schema()` batches,
    one row per merged event, in the export's columns."""
    from ..export import events_table
    from ..store import EventFilter, Store

    schema = replay_schema()
    with tempfile.TemporaryDirectory(prefix="kharita-merge-", dir=_scratch_dir()) as scratch:
        store = Store(Path(scratch) / "merge.db")
        try:
            from sqlalchemy import event as sqlalchemy_event

            sqlalchemy_event.listen(store.engine, "connect", _scratch_pragmas)
            store.engine.dispose()  # connections opened from now on get the scratch pragmas
            store.add_many(_by_report(_rows(batches, "report_id", "event")))
            page = store.events_page(EventFilter(limit=_PAGE))
            while page.items:
                table = events_table(page.items)
                months = pa.array([event_month(e) for e in page.items], pa.string())
                footprints = pa.array([_footprint(store, e) if len(e.report_ids) > 1 else None for e in page.items],
                                      pa.string())
                yield from pa.Table.from_arrays([*table.columns, months, footprints], schema=schema).to_batches()
                if page.next_cursor is None:
                    break
                page = store.events_page(EventFilter(limit=_PAGE, cursor=page.next_cursor))
        finally:
            store.close()


# -- output --------------------------------------------------------------------------------

def event_month(event: Event) -> str:
    return event.event_date.strftime("%Y-%m")


def output_schema() -> pa.Schema:
    """`kharita export --format parquet`'s columns, plus `event_month` to partition by."""
    from ..export import events_table

    return events_table([]).schema.append(pa.field("event_month", pa.string()))
