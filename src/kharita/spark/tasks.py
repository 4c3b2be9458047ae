"""What the executors run: input records into `Report`s (as ingest reads them), the
pipeline, the merge replay through the real store, and events as Arrow batches.

Everything here is plain Python over iterators, importable on any executor that has
Kharita installed; nothing imports pyspark. The pipeline (gazetteer, dictionaries) is a
module-level lazy singleton, so each Python worker loads it once and keeps it across
tasks (Spark reuses its Python workers).
"""
from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..ingest import Rejected, read_bytes
from ..models import Event, Report
from . import blocking

# Each JSON-lines record (or Parquet row, as a JSON object) is read as a one-line JSON
# Lines input, through ingest's own parser: same checks, same reasons, same report ids.
_JSONL_NAME = "record.jsonl"
# The optional fields of a report record (kharita.ingest.jsonl); other columns are ignored.
RECORD_FIELDS = ("text", "title", "url", "published", "outlet", "language")
# Merged events read back from a partition's store this many at a time.
_PAGE = 2000

Order = tuple  # (path parts, line or row, item within the input, event within the report)

_pipeline = None


def pipeline():
    """The pipeline of this Python worker, built on first use."""
    global _pipeline
    if _pipeline is None:
        from ..pipeline import Pipeline

        _pipeline = Pipeline()
    return _pipeline


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


def number_lines(first_lines: dict[tuple[str, int], int]) -> Callable[[Iterable], Iterator[tuple]]:
    """Rows of Spark's text reader `(raw, path, block_start)` -> `(order, source, line, raw)`.

    A split file's lines are read chunk by chunk, each chunk in order; `first_lines`
    gives the line number of each chunk's first line, so numbers are the file's own."""
    def numbered(rows: Iterable) -> Iterator[tuple]:
        chunk, line = None, 0
        for raw, path, start in rows:
            if (path, start) != chunk:
                chunk, line = (path, start), first_lines[(path, start)]
            else:
                line += 1
            if raw.strip():  # blank lines are skipped, as ingest does
                yield (path_order(path), line, 0), source_path(path), line, bytes(raw)
    return numbered


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


def parse(kind: str, published: date | None, outlet: str | None, max_bytes: int
          ) -> Callable[[Iterable[tuple]], Iterator[tuple]]:
    """Input records `(order, source, line, data)` -> outcomes:

    `("report", order, report_id, report_json, first)` or `("reject", order, source, line,
    reason, first)`; `first` marks an input record's first outcome (a feed file may hold
    many reports), so counting them counts what was read. `kind` is "record" (a JSON
    line or a Parquet row as JSON) or "file" (a whole file, read as ingest reads files).
    """
    def outcomes(records: Iterable[tuple]) -> Iterator[tuple]:
        for order, source, line, data in records:
            name = _JSONL_NAME if kind == "record" else Path(source).name
            items = read_bytes(data, name, published, outlet, max_bytes=max_bytes)
            for index, item in enumerate(items):
                where = (order[0], order[1], index)
                if isinstance(item, Rejected):
                    # "feed.xml entry 3": keep what names the part of the file
                    detail = item.origin[len(name):] if kind == "file" and item.origin.startswith(name) else ""
                    yield "reject", where, source + detail, line, item.reason, index == 0
                else:
                    report = item.model_copy(update={"origin": source})
                    yield "report", where, report.id, report.model_dump_json(), index == 0
    return outcomes


def first_in_order(a: tuple, b: tuple) -> tuple:
    """Of two copies of one report (same text and address), the one ingest reads first."""
    return a if a[0] <= b[0] else b


# -- extraction ----------------------------------------------------------------------------

def extract(items: Iterable[tuple]) -> Iterator[tuple]:
    """`(report_id, (order, report_json))` -> `("report", n_events)` per report and
    `("mention", order, report_id, event_json, cells)` per event, in pipeline order."""
    run = pipeline()
    for report_id, (order, report_json) in items:
        report = Report.model_validate_json(report_json)
        events = run(report)
        yield "report", len(events)
        for index, event in enumerate(events):
            keys = blocking.geo_keys(event.latitude, event.longitude, event.location)
            cells = blocking.mention_cells(event.event_type, event.event_date, keys)
            yield "mention", order + (index,), report_id, event.model_dump_json(), cells


# -- merging -------------------------------------------------------------------------------

# Mentions with neither coordinates nor a place name match nothing (`same_happening`):
# they share one component of their own.
PLACELESS = -1


def component(component_of: dict, cells: tuple) -> int:
    """The component of a mention, from its cells (all in one component)."""
    return component_of[cells[0]] if cells else PLACELESS


def _scratch_dir() -> str | None:
    """Where an executor keeps scratch files: the cluster manager's local dirs, if given."""
    for name in ("SPARK_LOCAL_DIRS", "LOCAL_DIRS"):
        value = os.environ.get(name)
        if value:
            return value.split(",")[0]
    return None


def _footprint(store, event: Event) -> tuple | None:
    """For a merged event of several reports: one of its cells and its footprint, when the
    footprint holds cells that none of its mentions occupies (see `blocking`)."""
    buckets, keys, own = [], [], set()
    for mention, _reason in store.mentions(event.event_id_cnty):
        mention_keys = blocking.geo_keys(mention.latitude, mention.longitude, mention.location)
        buckets.append(blocking.time_bucket(mention.event_date))
        keys.extend(mention_keys)
        own.update(blocking.mention_cells(mention.event_type, mention.event_date, mention_keys))
    cells = blocking.footprint(event.event_type, buckets, keys)
    if not own or set(cells) <= own:
        return None
    return next(iter(sorted(own, key=repr))), cells


def _by_report(items: Iterable[tuple]) -> Iterator[tuple[Report, list[Event]]]:
    """Sorted replay items -> (report, its mentions) in order. Only the report's id is
    needed to merge: the stored copy is a stub."""
    current: str | None = None
    batch: list[Event] = []
    for (_order, _component), (report_id, event_json) in items:
        if report_id != current and batch:
            yield Report(id=current, text=""), batch
            batch = []
        current = report_id
        batch.append(Event.model_validate_json(event_json))
    if batch:
        yield Report(id=current, text=""), batch


def replay(items: Iterable[tuple]) -> Iterator[tuple]:
    """Merge one partition's mentions through a scratch store, as `kharita ingest` would.

    `items` are `((order, component), (report_id, event_json))` sorted by order: each
    report's mentions arrive together and in pipeline order, reports in ingest order.
    Components in one partition never meet (see `blocking`), so sharing a store changes
    nothing. Yields `("event", event_json)` per merged event and `("footprint", cell,
    cells)` for merged events whose footprint must be checked.
    """
    from ..store import EventFilter, Store

    with tempfile.TemporaryDirectory(prefix="kharita-merge-", dir=_scratch_dir()) as scratch:
        store = Store(Path(scratch) / "merge.db")
        try:
            store.add_many(_by_report(items))
            offset = 0
            while True:
                page = store.events(EventFilter(limit=_PAGE, offset=offset))
                for event in page:
                    yield "event", event.model_dump_json()
                    if len(event.report_ids) > 1:
                        found = _footprint(store, event)
                        if found is not None:
                            yield "footprint", *found
                if len(page) < _PAGE:
                    break
                offset += _PAGE
        finally:
            store.close()


# -- output --------------------------------------------------------------------------------

def event_month(event: Event) -> str:
    return event.event_date.strftime("%Y-%m")


def output_schema():
    """`kharita export --format parquet`'s columns, plus `event_month` to partition by."""
    import pyarrow as pa

    from ..export import events_table

    return events_table([]).schema.append(pa.field("event_month", pa.string()))


def event_rows(items: Iterable[tuple]) -> Iterator[tuple]:
    """`("event", event_json)` -> rows of `output_schema()`, built by `export.events_table`
    (so values are the single-process export's, column for column)."""
    from ..export import events_table

    names = output_schema().names
    chunk: list[Event] = []

    def flush() -> Iterator[tuple]:
        for event, row in zip(chunk, events_table(chunk).to_pylist()):
            row["event_month"] = event_month(event)
            yield tuple(row[name] for name in names)
        chunk.clear()

    for _tag, event_json in items:
        chunk.append(Event.model_validate_json(event_json))
        if len(chunk) >= _PAGE:
            yield from flush()
    yield from flush()
