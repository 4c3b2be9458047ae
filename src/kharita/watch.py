"""`kharita watch`: poll RSS/Atom feeds and folders, ingest only what is new.

    Watcher(store, feeds=[url, ...], folders=[path, ...]).round()  -> Round (counts)
    Watcher(...).run(every=300)                                    rounds until stop() or Ctrl-C

Each new item goes the way of `kharita ingest`: `ingest.read_bytes` turns a feed
body or a file's bytes into `Report`s (or `Rejected`s), `Pipeline.annotate` finds
their events, `Store.add` stores and merges them.

What is new
-----------
- A feed is fetched with the validators of its last complete fetch (`If-None-Match`
  from its ETag, `If-Modified-Since` from its Last-Modified); a 304 means nothing to
  do. Otherwise each entry is keyed by its id (Atom id / RSS guid), else its link,
  else a hash of its content, and is new when that key is unseen or its content
  digest (title, summary, content, link) has changed. An updated entry is therefore
  read again; its text makes a new report, whose events merge with the earlier
  version's by the usual rules (an unchanged text is the same report: nothing new).
- A file in a watched folder (recursively; hidden names skipped, as `ingest` does) is
  new when its path is unseen or its size or mtime changed *and* its SHA-256 differs
  from the one recorded; a file merely touched is not read again beyond the hash. A
  file modified in the last `settle` seconds is left for the next round (it may still
  be being written; writers should write a hidden `.name.tmp` and rename it).

State, in the store's own database
----------------------------------
Three tables, created here with SQLAlchemy Core on `Store.engine` (all SQL
parameterised):

- `watch_feeds(url, etag, last_modified, checked_at)`: the validators of the last
  fetch whose every entry was dealt with;
- `watch_items(source, item_key, digest, report_id, rejected, seen_at)`: the feed
  entries seen, with the report each gave (or why it was rejected);
- `watch_files(path, folder, size, mtime_ns, sha256, reports, rejected, seen_at)`:
  the folder index.

Why a kill -9 at any moment neither loses nor duplicates
--------------------------------------------------------
1. An item's state row is written *in the same transaction* as its report, events
   and control claims (`Store.add(..., conn=conn)` writes inside our transaction).
   Either both are committed or neither is. (Rejected entries and files are recorded
   alone: there is no report to pair them with.)
2. State that covers several reports (a feed's validators; the row of a file holding
   several reports, e.g. JSON lines) is written in the transaction of its *last*
   report, i.e. only once every report before it is committed, and never when one of
   them failed. A feed whose XML is malformed keeps no validators at all.
3. So, after a kill at any point, whatever is not committed is simply unknown: the
   next run fetches the feed unconditionally (or re-reads the file), finds the items
   already stored by their state rows (or, failing that, by `Store.has_report`:
   report ids are content hashes and `Store.add` is a no-op for a stored report) and
   stores only the rest. Nothing is marked seen before it is stored, so nothing is
   lost; nothing stored is stored again, so nothing is duplicated.

Failures
--------
A feed that fails (connection, HTTP status, timeout, size cap, not a feed, malformed
with no readable entry) gets one log line naming it and why, and is left alone for
`every * 2**(failures - 1)` seconds, at most `MAX_BACKOFF`. A broken entry, a
rejected or unreadable file, a missing folder, a report the pipeline fails on: one
log line (repeated only when the reason changes); the round goes on. Broken entries
and rejected files are recorded, so they are not read again until they change;
unreadable files and pipeline failures are retried next round.
"""
from __future__ import annotations

import hashlib
import http.client
import io
import logging
import os
import stat
import threading
import time
import urllib.error
import urllib.request
import xml.sax
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import Table, select

from . import __version__
from .ingest import MAX_BYTES, Rejected, read_bytes
from .ingest.files import walk
from .ingest.sniff import FEED, detect_format
from .models import Report
from .store import Store, watch_feeds_table, watch_files_table, watch_items_table

log = logging.getLogger(__name__)

DEFAULT_EVERY = 300.0  # seconds between rounds
MAX_BACKOFF = 300.0  # a failing feed is retried at least this often
TIMEOUT = 30.0  # seconds for a feed's whole response
SETTLE = 2.0  # a file modified more recently than this is read next round
USER_AGENT = f"kharita-watch/{__version__} (RSS/Atom reader)"
_ACCEPT = "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, */*;q=0.5"
# The name feed bodies are read under: its extension makes `read_bytes` parse a feed,
# whatever the URL looks like. Origins are then set to the URL.
_FEED_NAME = "watched-feed.xml"

def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _sha256(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8") if isinstance(part, str) else part)
        h.update(b"\x00")
    return h.hexdigest()


# -- fetching ------------------------------------------------------------------------


class FeedError(Exception):
    """A feed that could not be fetched or read, and why (one line)."""


@dataclass
class Fetched:
    status: int  # 200 or 304
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


def fetch(url: str, etag: str | None = None, last_modified: str | None = None, *,
          timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES) -> Fetched:
    """GET a feed, conditionally when validators are given; raise `FeedError`.

    The whole response must arrive within `timeout` seconds and hold at most
    `max_bytes` bytes (it is read in chunks and abandoned past the cap)."""
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise FeedError("not an http(s) URL")
    headers = {"User-Agent": USER_AGENT, "Accept": _ACCEPT, "Accept-Encoding": "identity"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FeedError(f"too large: {int(length):,} bytes (limit {max_bytes:,})")
            chunks: list[bytes] = []
            size = 0
            read = getattr(response, "read1", response.read)  # read1: one recv, so the deadline holds
            while chunk := read(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise FeedError(f"too large: over {max_bytes:,} bytes")
                if time.monotonic() > deadline:
                    raise FeedError(f"timed out after {timeout:g} s")
                chunks.append(chunk)
            return Fetched(200, b"".join(chunks), response.headers.get("ETag"), response.headers.get("Last-Modified"))
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 304:
            return Fetched(304, etag=etag, last_modified=last_modified)
        raise FeedError(f"HTTP {exc.code} {exc.reason}".rstrip()) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise FeedError(f"timed out after {timeout:g} s") from None
        raise FeedError(f"cannot connect ({exc.reason})") from None
    except TimeoutError:
        raise FeedError(f"timed out after {timeout:g} s") from None
    except (http.client.HTTPException, OSError, ValueError) as exc:
        raise FeedError(f"broken response ({type(exc).__name__}: {exc})") from None


@dataclass
class _Entry:
    key: str
    digest: str


def _entries(body: bytes) -> tuple[list[_Entry], str | None]:
    """Each entry's key and content digest, in feed order (as `read_bytes` yields them),
    and why the XML is malformed, if it is. Raises `FeedError` for what is no feed."""
    import feedparser

    if detect_format("", body) != FEED:
        raise FeedError(f"not an RSS or Atom feed (looks like {detect_format('', body)})")
    try:
        parsed = feedparser.parse(io.BytesIO(body))
    except Exception as exc:  # noqa: BLE001 -- e.g. a garbled encoding declaration
        raise FeedError(f"not a readable feed ({type(exc).__name__}: {exc})") from None
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    malformed = f"malformed XML ({problem})" if isinstance(problem, xml.sax.SAXException) else None
    if not parsed.entries and (malformed or not parsed.get("version")):
        raise FeedError(f"not a readable feed ({problem or 'no RSS or Atom root'})")
    out: list[_Entry] = []
    keys: set[str] = set()
    for entry in parsed.entries:
        texts = [entry.get("title") or "", entry.get("summary") or "",
                 *((c.get("value") or "") for c in entry.get("content") or []), entry.get("link") or ""]
        digest = _sha256(*texts)
        key = entry.get("id") or entry.get("link") or f"sha256:{digest}"
        unique, n = key, 1
        while unique in keys:  # a feed repeating an id: keep its entries apart
            n += 1
            unique = f"{key}#{n}"
        keys.add(unique)
        out.append(_Entry(unique, digest))
    return out, malformed


# -- state ----------------------------------------------------------------------------


def _upsert(conn, table: Table, key: dict, values: dict) -> None:
    """Update the row with `key`, or insert it (one writer: no race)."""
    where = [table.c[name] == value for name, value in key.items()]
    if conn.execute(table.update().where(*where).values(**values)).rowcount == 0:
        conn.execute(table.insert().values(**key, **values))


# -- rounds ----------------------------------------------------------------------------


@dataclass
class Round:
    """What one round did."""

    number: int = 0
    new: int = 0  # reports stored
    events: int = 0  # events those reports gave (before merging)
    unchanged: int = 0  # entries and files seen before, or whose report was already stored
    failed: int = 0  # feeds, folders, entries and files that failed
    not_modified: int = 0  # feeds answering 304
    waiting: int = 0  # feeds backing off, files still being written
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        extra = [f"{self.not_modified} feed(s) not modified"] if self.not_modified else []
        if self.waiting:
            extra.append(f"{self.waiting} waiting")
        return (f"round {self.number}: {self.new} new report(s), {self.events} event(s); {self.unchanged} unchanged; "
                f"{self.failed} failed" + (f" ({', '.join(extra)})" if extra else "") + f" in {self.seconds:.1f} s")


@dataclass
class _Backoff:
    failures: int = 0
    retry_at: float = 0.0


@dataclass
class _Item:
    """One thing to store: a report (or a rejection) and the state rows that go with it."""

    report: Report | Rejected | None
    writes: list[Callable] = field(default_factory=list)
    label: str = ""


class Watcher:
    """Polls feeds and folders into a store; see the module docstring."""

    def __init__(self, store: Store, feeds: Sequence[str] = (), folders: Sequence[str | Path] = (), *,
                 pipeline=None, every: float = DEFAULT_EVERY, max_bytes: int = MAX_BYTES,
                 timeout: float = TIMEOUT, settle: float = SETTLE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.feeds = list(dict.fromkeys(feeds))
        self.folders = [Path(f) for f in dict.fromkeys(str(f) for f in folders)]
        self.every = every
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.settle = settle
        self.clock = clock
        self.rounds = 0
        self._pipeline = pipeline
        self._backoff: dict[str, _Backoff] = {}
        self._reported: dict[str, str] = {}  # source -> the problem last logged for it
        self._stop = threading.Event()
        self._once = False

    @property
    def pipeline(self):
        if self._pipeline is None:  # loaded on the first new report: a quiet round stays cheap
            from .pipeline import Pipeline

            self._pipeline = Pipeline()
        return self._pipeline

    # -- the loop --------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def run(self, once: bool = False, on_round: Callable[[Round], None] | None = None) -> None:
        """Rounds every `self.every` seconds (from the start of one to the next) until
        `stop()` or KeyboardInterrupt (which rolls back the item being stored)."""
        self._once = once
        while not self._stop.is_set():
            started = self.clock()
            result = self.round()
            if on_round:
                on_round(result)
            if once:
                return
            self._stop.wait(max(0.0, self.every - (self.clock() - started)))

    def round(self) -> Round:
        self.rounds += 1
        result = Round(number=self.rounds)
        started = self.clock()
        polls = [(url, partial(self._poll_feed, url, result, started)) for url in self.feeds]
        polls += [(str(folder), partial(self._poll_folder, folder, result)) for folder in self.folders]
        for source, poll in polls:
            try:
                poll()
            except Exception as exc:  # noqa: BLE001 -- e.g. the database locked for too long: next round
                self._problem(result, source, f"could not be polled ({type(exc).__name__}: {exc})")
        result.seconds = self.clock() - started
        return result

    # -- reporting ---------------------------------------------------------------------
    def _problem(self, result: Round, source: str, reason: str, once: bool = True) -> None:
        """A failure: counted, and logged unless it was the last thing logged for `source`."""
        result.failed += 1
        result.problems.append(f"{source}: {reason}")
        self._warn(source, reason, once)

    def _warn(self, source: str, reason: str, once: bool = True) -> None:
        if not once or self._reported.get(source) != reason:
            log.warning("%s: %s", source, reason)
        self._reported[source] = reason

    def _resolved(self, source: str) -> None:
        self._reported.pop(source, None)

    # -- storing -----------------------------------------------------------------------
    def _store(self, items: list[_Item], result: Round, closing: Callable | None) -> None:
        """Store items one transaction each, each with its state rows; `closing` (state
        covering them all) goes with the last, and only when every item before it was
        stored."""
        complete = True
        for position, item in enumerate(items):
            last = position == len(items) - 1
            try:
                doc = None
                report = item.report
                if isinstance(report, Report) and not self.store.has_report(report.id):
                    doc = self.pipeline.annotate(report)
                with self.store.engine.begin() as conn:
                    new = doc is not None and self.store.add(report, doc.events, doc.control, conn=conn,
                                                             tallies=doc.tallies)
                    for write in item.writes:
                        write(conn)
                    if last and complete and closing is not None:
                        closing(conn)
            except Exception as exc:  # noqa: BLE001 -- one bad item must not stop the round
                complete = False
                self._problem(result, item.label, f"could not be stored ({type(exc).__name__}: {exc})")
                continue
            if isinstance(report, Rejected):
                self._problem(result, report.origin, report.reason)
            elif new:
                result.new += 1
                result.events += len(doc.events)
            else:
                result.unchanged += 1
        if not items and closing is not None:
            with self.store.engine.begin() as conn:
                closing(conn)

    # -- feeds ---------------------------------------------------------------------------
    def _poll_feed(self, url: str, result: Round, now: float) -> None:
        backoff = self._backoff.setdefault(url, _Backoff())
        if backoff.failures and now < backoff.retry_at:
            result.waiting += 1
            return
        with self.store.engine.connect() as conn:
            row = conn.execute(select(watch_feeds_table.c.etag, watch_feeds_table.c.last_modified)
                               .where(watch_feeds_table.c.url == url)).first()
            seen = dict(conn.execute(select(watch_items_table.c.item_key, watch_items_table.c.digest)
                                     .where(watch_items_table.c.source == url)).all())
        try:
            fetched = fetch(url, *(row or (None, None)), timeout=self.timeout, max_bytes=self.max_bytes)
            if fetched.status == 304:
                result.not_modified += 1
                self._recovered(url)
                self._resolved(url)
                return
            entries, malformed = _entries(fetched.body)
            reports = read_bytes(fetched.body, _FEED_NAME, max_bytes=self.max_bytes) if entries else []
            if len(reports) == 1 and isinstance(reports[0], Rejected) and reports[0].origin == _FEED_NAME:
                raise FeedError(reports[0].reason)
            if len(reports) != len(entries):  # read_bytes gives one item per entry
                raise FeedError(f"{len(entries)} entries but {len(reports)} reports: feed not understood")
        except FeedError as exc:
            backoff.failures += 1
            delay = min(MAX_BACKOFF, self.every * 2 ** (backoff.failures - 1))
            backoff.retry_at = now + delay
            retry = "" if self._once else f" (failure {backoff.failures}; next try in {delay:g} s)"
            self._problem(result, url, f"{exc}{retry}", once=False)
            return
        self._recovered(url)
        if malformed:  # read what can be read, but keep no validators: fetch it whole next time
            self._warn(url, f"{malformed}; its {len(entries)} readable entries were read")
        else:
            self._resolved(url)
        items: list[_Item] = []
        for entry, report in zip(entries, reports):
            if seen.get(entry.key) == entry.digest:
                result.unchanged += 1
                continue
            if isinstance(report, Report):
                report = report.model_copy(update={"origin": url})
                values = {"report_id": report.id, "rejected": None}
                label = f"{url} entry {entry.key}"
            else:
                report = Rejected(url + report.origin[len(_FEED_NAME):], report.reason)
                values = {"report_id": None, "rejected": report.reason}
                label = report.origin
            items.append(_Item(report, [self._item_write(url, entry, values)], label))
        validators = {"etag": None if malformed else fetched.etag,
                      "last_modified": None if malformed else fetched.last_modified}

        def closing(conn) -> None:
            _upsert(conn, watch_feeds_table, {"url": url}, {**validators, "checked_at": _now()})

        self._store(items, result, closing)

    @staticmethod
    def _item_write(url: str, entry: _Entry, values: dict) -> Callable:
        def write(conn) -> None:
            _upsert(conn, watch_items_table, {"source": url, "item_key": entry.key},
                    {"digest": entry.digest, "seen_at": _now(), **values})
        return write

    def _recovered(self, url: str) -> None:
        backoff = self._backoff[url]
        if backoff.failures:
            log.info("%s: reachable again after %d failure(s)", url, backoff.failures)
        backoff.failures = 0

    # -- folders -------------------------------------------------------------------------
    def _poll_folder(self, folder: Path, result: Round) -> None:
        if not folder.is_dir():
            self._problem(result, str(folder), "no such directory" if not folder.exists() else "not a directory")
            return
        self._resolved(str(folder))
        with self.store.engine.connect() as conn:
            known = {r.path: r for r in conn.execute(select(
                watch_files_table.c.path, watch_files_table.c.size, watch_files_table.c.mtime_ns, watch_files_table.c.sha256)
                .where(watch_files_table.c.folder == str(folder)))}
        for path in walk(folder):
            if isinstance(path, OSError):
                self._problem(result, str(path.filename), f"cannot list: {path.strerror or path}")
                continue
            self._poll_file(folder, path, known.get(str(path)), result)

    def _poll_file(self, folder: Path, path: Path, known, result: Round) -> None:
        origin = str(path)
        try:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode):
                self._problem(result, origin, "not a regular file")
                return
            if known is not None and (known.size, known.mtime_ns) == (info.st_size, info.st_mtime_ns):
                result.unchanged += 1
                return
            if 0 <= time.time() - info.st_mtime < self.settle:
                result.waiting += 1  # may still be being written
                return
            data = b""
            if info.st_size <= self.max_bytes:
                with open(path, "rb") as handle:
                    data = handle.read(self.max_bytes + 1)
        except OSError as exc:
            reason = ("broken symbolic link" if isinstance(exc, FileNotFoundError) and os.path.islink(path)
                      else f"cannot read: {exc.strerror or exc}")
            self._problem(result, origin, reason)
            return
        row = {"folder": str(folder), "size": info.st_size, "mtime_ns": info.st_mtime_ns}
        if info.st_size > self.max_bytes:
            digest, found = None, [Rejected(origin, f"too large: {info.st_size:,} bytes (limit {self.max_bytes:,})")]
        else:
            digest = _sha256(data)
            if known is not None and known.sha256 == digest:  # touched, not changed
                with self.store.engine.begin() as conn:
                    _upsert(conn, watch_files_table, {"path": origin}, {**row, "seen_at": _now()})
                result.unchanged += 1
                return
            found = read_bytes(data, origin, max_bytes=self.max_bytes)
        self._resolved(origin)
        reports = [r for r in found if isinstance(r, Report)]
        rejected = [r for r in found if isinstance(r, Rejected)]
        for item in rejected:
            self._problem(result, item.origin, item.reason)
        values = {**row, "sha256": digest, "reports": len(reports),
                  "rejected": "; ".join(str(r) for r in rejected)[:2000] or None}

        def closing(conn) -> None:
            _upsert(conn, watch_files_table, {"path": origin}, {**values, "seen_at": _now()})

        self._store([_Item(r, [], f"{origin} ({r.title or r.id})") for r in reports], result, closing)
