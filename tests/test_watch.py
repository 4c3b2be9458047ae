"""`kharita watch`: only new items are ingested; bad feeds and files do not stop a round;
a kill -9 at any moment neither loses nor duplicates. Feeds come from a local HTTP
server on 127.0.0.1 that stops by itself (every wait in it is bounded)."""
from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kharita import watch as watch_module
from kharita.cli import app
from kharita.pipeline import Pipeline
from kharita.store import Store
from kharita.store import watch_feeds_table as feeds_table
from kharita.store import watch_items_table as items_table
from kharita.watch import Watcher

TOWNS = ["Saraqib", "Kafr Nabl", "Maarat al-Numan", "Jisr al-Shughur", "Khan Shaykhun", "Atarib", "Darat Izza",
         "Sarmin", "Binnish", "Taftanaz", "Idlib", "Aleppo", "Hama", "Homs", "Douma", "Daraa", "Raqqa",
         "Deir ez-Zor", "Palmyra", "Latakia", "Tartus", "Ariha"]
PAST = time.time() - 3600  # an mtime old enough for a file to count as fully written


def story(n: int, killed: int | None = None) -> tuple[str, str, str]:
    """An entry (guid, title, text) about an air strike on the n-th town."""
    town = TOWNS[n % len(TOWNS)]
    text = f"Warplanes struck the town of {town} on Monday, killing {killed or n + 2} civilians, a medic said."
    return f"urn:test:{n}", f"Strike on {town}", text


def rss(*entries: tuple[str, str, str | None]) -> bytes:
    items = "".join(
        f"<item><guid>{guid}</guid><title>{escape(title)}</title><pubDate>Tue, 04 Feb 2020 10:00:00 GMT</pubDate>"
        + (f"<description>{escape(text)}</description>" if text else "") + "</item>"
        for guid, title, text in entries)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Test Wire</title>'
            f"{items}</channel></rss>").encode()


class FeedServer:
    """Serves `routes[path] = {"body", "etag", "last_modified", "status", "stall"}` and
    answers conditional GETs; records (path, status, request headers)."""

    def __init__(self) -> None:
        self.routes: dict[str, dict] = {}
        self.requests: list[tuple[str, int, dict]] = []
        self.stalled = threading.Event()  # a request reached a stalling route
        self.release = threading.Event()  # lets stalled requests go on
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                route = server.routes.get(self.path)
                headers = dict(self.headers)
                if route is None:
                    status = 404
                else:
                    if route.get("stall"):
                        server.stalled.set()
                        server.release.wait(15)  # bounded: the server stops by itself
                    status = route.get("status", 200)
                    etag, modified = route.get("etag"), route.get("last_modified")
                    if status == 200 and ((etag and headers.get("If-None-Match") == etag) or (
                            not headers.get("If-None-Match") and modified
                            and headers.get("If-Modified-Since") == modified)):
                        status = 304
                server.requests.append((self.path, status, headers))
                try:
                    if status != 200:
                        self.send_response(status)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    body = route["body"]
                    self.send_response(200)
                    self.send_header("Content-Type", "application/rss+xml")
                    self.send_header("Content-Length", str(len(body)))
                    for name, key in (("ETag", "etag"), ("Last-Modified", "last_modified")):
                        if route.get(key):
                            self.send_header(name, route[key])
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client is gone (killed, timed out)
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def statuses(self, path: str) -> list[int]:
        return [status for p, status, _ in self.requests if p == path]

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server():
    feeds = FeedServer()
    yield feeds
    feeds.close()


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline()


@pytest.fixture
def store(tmp_path):
    db = Store(tmp_path / "w.db")
    yield db
    db.close()


def write(path: Path, content: str, mtime: float = PAST) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    os.utime(path, (mtime, mtime))
    return path


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- feeds --------------------------------------------------------------------------


def test_only_new_and_updated_entries_are_ingested_and_unchanged_feeds_answer_304(server, store, pipeline):
    server.routes["/etag.xml"] = {"body": rss(story(0), story(1)), "etag": '"v1"'}
    server.routes["/dated.xml"] = {"body": rss(story(2)), "last_modified": "Tue, 04 Feb 2020 10:00:00 GMT"}
    watcher = Watcher(store, [server.url("/etag.xml"), server.url("/dated.xml")], pipeline=pipeline)

    first = watcher.round()
    assert (first.new, first.failed, first.not_modified) == (3, 0, 0)
    assert first.events >= 3
    stored = store.counts()
    report = store.report(store.mentions(store.events()[0].event_id_cnty)[0][0].report_ids[0])
    assert report.origin in (server.url("/etag.xml"), server.url("/dated.xml"))

    second = watcher.round()  # nothing changed: both feeds answer 304, nothing is read again
    assert (second.new, second.not_modified, second.failed) == (0, 2, 0)
    assert server.statuses("/etag.xml") == [200, 304] and server.statuses("/dated.xml") == [200, 304]
    conditional = [headers for path, status, headers in server.requests if status == 304]
    assert {h.get("If-None-Match") for h in conditional} == {'"v1"', None}
    assert {h.get("If-Modified-Since") for h in conditional} == {None, "Tue, 04 Feb 2020 10:00:00 GMT"}
    assert store.counts() == stored

    # Three entries now: one new, one updated (same guid, new text), one unchanged.
    server.routes["/etag.xml"] = {"body": rss(story(0, killed=9), story(1), story(3)), "etag": '"v2"'}
    third = watcher.round()
    assert (third.new, third.unchanged, third.not_modified, third.failed) == (2, 1, 1, 0)
    assert store.counts()["reports"] == 5
    texts = {r.text for r in store.reports()}  # headline, then body
    assert all(f"{title}\n\n{body}" in texts for _, title, body in (story(0, killed=9), story(3)))
    with store.engine.connect() as conn:
        assert conn.execute(select(feeds_table.c.etag).where(
            feeds_table.c.url == server.url("/etag.xml"))).scalar_one() == '"v2"'
        assert len(conn.execute(select(items_table)).all()) == 4  # entries seen: 0 (updated), 1, 2, 3

    fourth = watcher.round()
    assert (fourth.new, fourth.not_modified) == (0, 2)


def test_bad_feeds_and_files_are_logged_and_the_round_goes_on(server, store, pipeline, tmp_path, caplog):
    server.routes["/good.xml"] = {"body": rss(story(0), ("urn:test:empty", "Headline with no story", None))}
    server.routes["/page.xml"] = {"body": b"<!doctype html><html><body><p>Not a feed at all.</p></body></html>"}
    server.routes["/truncated.xml"] = {"body": b'<?xml version="1.0"?><rss version="2.0"><channel><title>x'}
    server.routes["/error.xml"] = {"status": 500}
    server.routes["/slow.xml"] = {"body": rss(story(5)), "stall": True}
    refused = f"http://127.0.0.1:{closed_port()}/feed.xml"
    folder = tmp_path / "drop"
    good = write(folder / "good.txt", story(1)[2])
    (folder / "blob.txt").write_bytes(b"\x00\x01\x02 binary")
    os.utime(folder / "blob.txt", (PAST, PAST))
    (folder / "gone.txt").symlink_to(folder / "nowhere.txt")
    feeds = [server.url(p) for p in ("/page.xml", "/truncated.xml", "/error.xml", "/slow.xml")] + [refused]
    watcher = Watcher(store, feeds + [server.url("/good.xml")], [folder, tmp_path / "missing"],
                      pipeline=pipeline, timeout=0.5)

    with caplog.at_level(logging.WARNING, logger="kharita.watch"):
        started = time.monotonic()
        result = watcher.round()
    assert time.monotonic() - started < 5
    assert result.new == 2  # the good entry and the good file
    lines = [r.getMessage() for r in caplog.records]
    expected = {
        server.url("/page.xml"): "not an RSS or Atom feed",
        server.url("/truncated.xml"): "not a readable feed",
        server.url("/error.xml"): "HTTP 500",
        server.url("/slow.xml"): "timed out",
        refused: "cannot connect",
        f"{server.url('/good.xml')} entry 2": "feed entry has no summary or content",
        str(folder / "blob.txt"): "binary file",
        str(folder / "gone.txt"): "broken symbolic link",
        str(tmp_path / "missing"): "no such directory",
    }
    for source, why in expected.items():
        assert sum(line.startswith(f"{source}: ") for line in lines) == 1, (source, lines)
        assert any(line.startswith(f"{source}: ") and why in line for line in lines), (source, why, lines)
    assert result.failed == len(expected) == len(lines)

    # Next round: the broken entry and the binary file are known, and not read or logged
    # again; what may recover (feeds, the link, the folder) is tried again.
    server.release.set()
    caplog.clear()
    good.touch()  # touched, same content: hashed, not ingested again
    os.utime(good, (PAST + 1, PAST + 1))
    with caplog.at_level(logging.WARNING, logger="kharita.watch"):
        again = Watcher(store, feeds + [server.url("/good.xml")], [folder], pipeline=pipeline, timeout=5).round()
    assert again.new == 1  # the slow feed, answering in time now
    assert again.unchanged == 4  # the good and the broken entry, the good and the binary file
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "entry 2" not in logged and "blob.txt" not in logged and "gone.txt" in logged


def test_a_failing_feed_backs_off_exponentially_up_to_a_cap(server, store, pipeline):
    server.routes["/error.xml"] = {"status": 503}
    now = [0.0]
    watcher = Watcher(store, [server.url("/error.xml")], pipeline=pipeline, every=10, clock=lambda: now[0])
    tried = []
    for t in (0, 5, 10, 25, 30, 60, 70):
        now[0] = t
        result = watcher.round()
        tried.append(result.failed == 1)
        assert result.failed + result.waiting == 1
    # failures at 0 (retry 10), 10 (retry 30), 30 (retry 70), 70
    assert tried == [True, False, True, False, True, False, True]
    for _ in range(10):
        now[0] += 1000
        watcher.round()
    assert watcher._backoff[server.url("/error.xml")].retry_at - now[0] == watch_module.MAX_BACKOFF
    server.routes["/error.xml"] = {"body": rss(story(0))}
    now[0] += watch_module.MAX_BACKOFF
    assert watcher.round().new == 1
    now[0] += 0.1  # recovered: no more backing off
    assert watcher.round().unchanged == 1


# --- folders ------------------------------------------------------------------------


def test_a_folder_added_modified_and_unchanged_files(store, pipeline, tmp_path, monkeypatch):
    folder = tmp_path / "drop"
    write(folder / "a.txt", story(0)[2])
    write(folder / "b.txt", story(1)[2])
    write(folder / "nested" / "c.jsonl", "".join(
        json.dumps({"text": story(n)[2], "published": "2020-02-04"}) + "\n" for n in (2, 3)))
    write(folder / ".hidden.txt", story(4)[2])
    read = []
    real = watch_module.read_bytes
    monkeypatch.setattr(watch_module, "read_bytes", lambda data, name, **kw: read.append(Path(name).name) or real(
        data, name, **kw))
    watcher = Watcher(store, folders=[folder], pipeline=pipeline)

    first = watcher.round()
    assert (first.new, first.failed) == (4, 0) and sorted(read) == ["a.txt", "b.txt", "c.jsonl"]
    assert {r.origin for r in store.reports()} == {str(folder / "a.txt"), str(folder / "b.txt"),
                                                   str(folder / "nested" / "c.jsonl")}

    read.clear()
    write(folder / "b.txt", story(1, killed=30)[2])  # modified
    write(folder / "d.txt", story(5)[2])  # added
    write(folder / "e.txt", story(6)[2], mtime=time.time())  # being written: next round
    second = watcher.round()
    assert (second.new, second.unchanged, second.waiting, second.failed) == (2, 2, 1, 0)
    assert sorted(read) == ["b.txt", "d.txt"]

    read.clear()
    os.utime(folder / "e.txt", (PAST, PAST))
    third = watcher.round()
    assert (third.new, third.unchanged) == (1, 4) and read == ["e.txt"]
    assert store.counts()["reports"] == 7


# --- transactions, restarts, idempotency -------------------------------------------


def test_an_entry_state_is_written_in_its_reports_transaction(server, store, pipeline, monkeypatch):
    server.routes["/feed.xml"] = {"body": rss(story(0), story(1)), "etag": '"v1"'}
    url = server.url("/feed.xml")
    real = watch_module._upsert

    def failing(conn, table, key, values):
        if table is items_table and key["item_key"] == "urn:test:1":
            raise RuntimeError("disk on fire")
        real(conn, table, key, values)

    monkeypatch.setattr(watch_module, "_upsert", failing)
    result = Watcher(store, [url], pipeline=pipeline).round()
    assert (result.new, result.failed) == (1, 1)
    # The failed entry's report was rolled back with its state; the feed's validators
    # were not kept, so the next round fetches it whole and stores the missing entry.
    assert store.counts()["reports"] == 1
    with store.engine.connect() as conn:
        assert conn.execute(select(feeds_table.c.etag)).first() is None
    monkeypatch.setattr(watch_module, "_upsert", real)
    again = Watcher(store, [url], pipeline=pipeline).round()
    assert (again.new, again.unchanged, again.failed) == (1, 1, 0)
    assert server.requests[-1][2].get("If-None-Match") is None
    assert Watcher(store, [url], pipeline=pipeline).round().not_modified == 1


def _counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db, timeout=10) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("reports", "events", "mentions", "event_reports", "watch_items")}


def _reports(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=10) as conn:
            return conn.execute("SELECT count(*) FROM reports").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_kill_9_mid_round_then_restart_stores_every_item_exactly_once(server, pipeline, tmp_path):
    server.routes["/big.xml"] = {"body": rss(*(story(n) for n in range(20))), "etag": '"big"'}
    server.routes["/stall.xml"] = {"body": rss(story(20), story(21)), "etag": '"stall"', "stall": True}
    feeds = [server.url("/big.xml"), server.url("/stall.xml")]
    db = tmp_path / "killed.db"
    command = [sys.executable, "-m", "kharita.cli", "watch", "--once", "--db", str(db)]
    for url in feeds:
        command += ["--feed", url]

    def run_until(condition) -> None:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # Seconds normally; the deadline only allows for a first start that (re)builds the
            # gazetteer index.
            deadline = time.monotonic() + 90
            while not condition() and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            assert process.poll() is None, "the round ended before it could be killed"
            process.send_signal(signal.SIGKILL)
        finally:
            process.kill()
            process.wait(10)

    # 1. Killed as soon as the first report is committed: in the middle of the big feed.
    run_until(lambda: _reports(db) >= 1)
    assert 1 <= _reports(db) <= 20
    # 2. Killed while waiting on the second feed: the big feed is done.
    run_until(server.stalled.is_set)
    assert _reports(db) == 20
    # 3. Run to the end.
    server.routes["/stall.xml"]["stall"] = False
    server.release.set()
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    assert "2 new report(s)" in done.stdout

    # The big feed's validators were not kept after the first kill (fetched whole, 200)
    # and were kept with its last entry in the second run (304 in the third).
    assert server.statuses("/big.xml") == [200, 200, 304]
    # Exactly what one uninterrupted round stores.
    reference = Store(tmp_path / "reference.db")
    result = Watcher(reference, feeds, pipeline=pipeline).round()
    assert (result.new, result.failed) == (22, 0)
    reference.close()
    assert _counts(db) == _counts(tmp_path / "reference.db")
    assert _counts(db)["reports"] == 22 and _counts(db)["watch_items"] == 22


def test_two_once_rounds_over_the_same_content_store_nothing_new(server, tmp_path):
    server.routes["/plain.xml"] = {"body": rss(story(0), story(1))}  # no validators: fetched whole each time
    folder = tmp_path / "drop"
    write(folder / "a.txt", story(2)[2])
    db = tmp_path / "k.db"
    runner = CliRunner()
    args = ["watch", "--once", "--feed", server.url("/plain.xml"), "--folder", str(folder), "--db", str(db)]

    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "3 new report(s)" in first.stdout
    before = _counts(db)
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "0 new report(s)" in second.stdout and "3 unchanged" in second.stdout
    assert server.statuses("/plain.xml") == [200, 200]
    assert _counts(db) == before
    # And `kharita ingest` of the same folder finds it already stored.
    assert "0 new report(s)" in runner.invoke(app, ["ingest", str(folder), "--db", str(db)]).stdout


def test_cli_usage_and_a_failed_once_round_exit_code(server, tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["watch", "--once", "--db", str(tmp_path / "k.db")]).exit_code == 2
    server.routes["/error.xml"] = {"status": 500}
    result = runner.invoke(app, ["watch", "--once", "--feed", server.url("/error.xml"), "--db", str(tmp_path / "k.db")])
    assert result.exit_code == 1
    assert f"{server.url('/error.xml')}: HTTP 500" in result.output and "1 failed" in result.output


def test_ctrl_c_stops_the_loop_cleanly(tmp_path):
    folder = tmp_path / "drop"
    write(folder / "a.txt", story(0)[2])
    db = tmp_path / "k.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "kharita.cli", "watch", "--folder", str(folder), "--every", "0.2", "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 90  # seconds normally (see above)
        while _reports(db) < 1 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)  # a few more rounds
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)
    finally:
        process.kill()
        process.wait(10)
    assert process.returncode == 0, output
    assert "round 1: 1 new report(s)" in output and "round 2: 0 new report(s)" in output
    assert "stopped after" in output and "Traceback" not in output


def test_feeds_over_the_size_cap_and_other_schemes_are_refused(server, store, pipeline, caplog):
    server.routes["/big.xml"] = {"body": rss(*(story(n) for n in range(10)))}
    with caplog.at_level(logging.WARNING, logger="kharita.watch"):
        result = Watcher(store, [server.url("/big.xml"), "file:///etc/hostname"], pipeline=pipeline,
                         max_bytes=500).round()
    assert (result.new, result.failed) == (0, 2)
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith(f"{server.url('/big.xml')}: too large") for line in lines), lines
    assert any(line.startswith("file:///etc/hostname: not an http(s) URL") for line in lines), lines
