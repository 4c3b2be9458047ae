"""The ingest stage: files, directories, stdin and uploads into `Report`s, and
every bad input into one `Rejected` line instead of an exception."""
from __future__ import annotations

import io
import json
import os
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path

import pytest

from kharita.ingest import MAX_BYTES, Rejected, read_bytes, read_paths
from kharita.ingest import files as ingest_files
from kharita.models import Report

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
DAY = date(2021, 3, 1)

STRIKE = (
    "Air strike hits Ariha market\n"
    "\n"
    "Warplanes struck a market in Ariha in Idlib province, killing six people, "
    "rescue workers said.\n"
)

PAGE = """<!DOCTYPE html>
<html><head>
<title>Clashes erupt near Marib | Example Times</title>
<meta property="og:site_name" content="Example Times">
<meta property="article:published_time" content="2021-02-20T08:00:00Z">
<link rel="canonical" href="https://example.org/marib-clashes">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<article>
<h1>Clashes erupt near Marib</h1>
<p>Houthi fighters attacked government positions west of Marib on Friday, and at least
eleven fighters were killed on both sides, military sources said.</p>
<p>The attack was the heaviest in the area for weeks, residents said, and forced
dozens of displaced families to leave a camp close to the front line.</p>
</article>
<footer>Copyright 2021 Example Times. All rights reserved.</footer>
</body></html>
"""

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Sahel Desk</title>
<item><title>Bomb hits convoy near Gao</title><link>https://example.org/gao</link>
<pubDate>Mon, 15 Feb 2021 10:00:00 GMT</pubDate>
<description>&lt;p&gt;An explosive device struck an army convoy near &lt;b&gt;Gao&lt;/b&gt;.&lt;/p&gt;&lt;p&gt;Four soldiers died.&lt;/p&gt;</description></item>
<item><title>Headline with no story</title><link>https://example.org/empty</link></item>
<item><title>Protest in Mopti</title><link>https://example.org/mopti</link>
<pubDate>Tue, 23 Feb 2021 16:00:00 GMT</pubDate>
<description>Hundreds marched in Mopti to demand protection.</description></item>
</channel></rss>
"""


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def ingest(*paths: Path | str, **kwargs) -> tuple[list[Report], list[Rejected]]:
    reports, rejected = [], []
    for item in read_paths(paths, **kwargs):
        (rejected if isinstance(item, Rejected) else reports).append(item)
    return reports, rejected


# --- plain text ------------------------------------------------------------


def test_text_is_kept_verbatim_except_newlines_and_bom(tmp_path):
    raw = "\ufeff" + STRIKE.replace("\n", "\r\n") + "  trailing spaces stay  \r"
    path = write(tmp_path / "ariha.txt", raw)

    (report,), rejected = ingest(path, published=DAY, outlet="Idlib Post")

    assert rejected == []
    assert report.text == STRIKE + "  trailing spaces stay  \n"
    assert report.title == "Air strike hits Ariha market"
    assert report.published == DAY and report.published_inferred is False
    assert report.outlet == "Idlib Post"
    assert report.origin == str(path)
    assert report.id == Report.make_id(report.text)


def test_title_is_the_first_line_only_when_it_is_short(tmp_path):
    long_first = "Warplanes struck " + "a market " * 30 + "in Ariha.\nMore text.\n"
    markdown = "# Shelling in Bakhmut\n\nArtillery hit the city centre overnight.\n"
    one_line = "Artillery hit the city centre overnight.\n"
    reports, _ = ingest(
        write(tmp_path / "a.txt", long_first),
        write(tmp_path / "b.md", markdown),
        write(tmp_path / "c.txt", one_line),
        published=DAY,
    )
    assert [r.title for r in reports] == [None, "Shelling in Bakhmut", None]
    assert reports[1].text == markdown  # the heading stays in the text


def test_identical_reports_get_identical_ids(tmp_path):
    first = write(tmp_path / "one.txt", STRIKE)
    second = write(tmp_path / "copy" / "two.txt", STRIKE.replace("\n", "\r\n"))
    jsonl = write(tmp_path / "dup.jsonl", (json.dumps({"text": "Shelling hit Taiz."}) + "\n") * 2)

    reports, rejected = ingest(first, second, jsonl, published=DAY)

    assert rejected == []
    assert reports[0].id == reports[1].id
    assert reports[2].id == reports[3].id
    assert reports[0].id != reports[2].id


# --- bad input: one clear Rejected each --------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b" \n\t\r\n  ", "empty (whitespace only)"),
        (b"\xef\xbb\xbf", "empty (whitespace only)"),
        (b"text\x00with a NUL byte", "binary file (contains NUL bytes), not text"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "binary file (a PDF document), not text"),
        (bytes(range(1, 32)) * 40, "binary file"),
    ],
)
def test_empty_and_binary_files_are_rejected(tmp_path, content, reason):
    path = write(tmp_path / "report.txt", content)
    reports, (rejected,) = ingest(path, published=DAY)
    assert reports == []
    assert rejected.origin == str(path)
    assert rejected.reason.startswith(reason)


def test_a_50_mb_file_is_rejected_without_being_read(tmp_path):
    big = tmp_path / "huge.txt"
    with open(big, "wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: nothing is written to disk

    tracemalloc.start()
    started = time.perf_counter()
    (rejected,) = list(read_paths([big]))
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert rejected == Rejected(str(big), f"too large: 52,428,800 bytes (limit {MAX_BYTES:,})")
    assert elapsed < 1.0
    assert peak < 1024 * 1024


def test_the_size_limit_is_an_argument(tmp_path):
    path = write(tmp_path / "r.txt", STRIKE)
    assert ingest(path, published=DAY, max_bytes=10)[1][0].reason.startswith("too large")
    assert len(ingest(path, published=DAY, max_bytes=len(STRIKE))[0]) == 1
    (rejected,) = read_bytes(STRIKE.encode(), "r.txt", published=DAY, max_bytes=10)
    assert rejected == Rejected("r.txt", f"too large: {len(STRIKE)} bytes (limit 10)")


def test_windows_1252_text_is_recovered_but_other_code_pages_are_rejected(tmp_path):
    cp1252 = write(tmp_path / "cp1252.txt", "Caf\u00e9 owners in Mopti said \u201cno one\u201d was hurt.".encode("cp1252"))
    arabic = write(tmp_path / "cp1256.txt", "\u0642\u0635\u0641 \u0639\u0644\u0649 \u062a\u0639\u0632".encode("cp1256"))
    # UTF-8 (the curly apostrophe) damaged by a stray byte: not guessed as cp1252.
    broken = write(tmp_path / "broken.txt", "Ma\u2019arat \xff shelled.".encode("utf-8").replace(b"\xc3\xbf", b"\xff"))
    utf16 = write(tmp_path / "utf16.txt", "Clashes near Gao.\n".encode("utf-16"))

    reports, rejected = ingest(cp1252, arabic, broken, utf16, published=DAY)

    assert [r.text for r in reports] == [
        "Caf\u00e9 owners in Mopti said \u201cno one\u201d was hurt.",
        "Clashes near Gao.\n",
    ]
    assert [str(r) for r in rejected] == [
        f"{arabic}: not valid UTF-8 (byte 0xde at offset 0); save it as UTF-8",
        f"{broken}: not valid UTF-8 (byte 0xff at offset 10); save it as UTF-8",
    ]


def test_malformed_html_is_rejected(tmp_path):
    path = write(tmp_path / "broken.html", "<html><body><div><span><p><b>")
    nav_only = write(tmp_path / "nav.html", "<html><body><nav><a>Home</a> <a>About</a></nav></body></html>")
    reports, rejected = ingest(path, nav_only, published=DAY)
    assert reports == []
    assert rejected == [
        Rejected(str(path), "no article text found in HTML"),
        Rejected(str(nav_only), "no article text found in HTML"),
    ]


def test_unreadable_missing_and_special_files_are_rejected(tmp_path, monkeypatch):
    locked = write(tmp_path / "locked.txt", STRIKE)
    locked.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make open() fail as it would for a user

        def denied(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(ingest_files, "open", denied, raising=False)
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "gone.txt")
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)  # reading it would block forever

    reports, rejected = ingest(locked, tmp_path / "missing.txt", dangling, fifo)

    assert reports == []
    assert [r.reason for r in rejected] == [
        "cannot read: permission denied",
        "no such file or directory",
        "broken symbolic link",
        "not a regular file",
    ]


# --- HTML --------------------------------------------------------------------


def test_html_page_gives_title_date_url_outlet_and_body(tmp_path):
    path = write(tmp_path / "marib.html", PAGE)

    (report,), rejected = ingest(path)

    assert rejected == []
    assert report.title == "Clashes erupt near Marib"
    assert report.published == date(2021, 2, 20) and report.published_inferred is False
    assert report.url == "https://example.org/marib-clashes"
    assert report.outlet == "Example Times"
    assert "Houthi fighters attacked government positions west of Marib" in report.text
    assert "Sport" not in report.text and "Copyright" not in report.text


def test_html_in_a_declared_legacy_charset_is_decoded_as_declared(tmp_path):
    page = PAGE.replace("<head>", '<head><meta http-equiv="Content-Type" content="text/html; charset=windows-1256">')
    page = page.replace("west of Marib", "west of Marib (\u0645\u0623\u0631\u0628)")
    path = write(tmp_path / "marib.html", page.encode("cp1256"))

    (report,), _ = ingest(path)

    assert "west of Marib (\u0645\u0623\u0631\u0628) on Friday" in report.text


def test_metadata_date_beats_the_published_argument(tmp_path):
    dated = write(tmp_path / "dated.html", PAGE)
    no_date = '<meta property="article:published_time" content="2021-02-20T08:00:00Z">\n'
    undated = write(tmp_path / "undated.html", PAGE.replace(no_date, ""))

    reports, _ = ingest(dated, undated, published=DAY, outlet="Given Outlet")

    assert [r.published for r in reports] == [date(2021, 2, 20), DAY]
    assert [r.published_inferred for r in reports] == [False, False]
    assert [r.outlet for r in reports] == ["Example Times", "Example Times"]


# --- publication date precedence -------------------------------------------------


def test_without_metadata_or_argument_the_latest_date_in_the_text_is_used(tmp_path):
    dated = write(tmp_path / "a.txt", "Shelling hit Kramatorsk on 3 May 2022, after strikes on 1 May 2022.\n")
    undated = write(tmp_path / "b.txt", "Shelling hit Kramatorsk overnight.\n")

    reports, _ = ingest(dated, undated)

    assert [(r.published, r.published_inferred) for r in reports] == [(date(2022, 5, 3), True), (None, False)]
    # An explicit argument is not an inference, even when the text has a date.
    assert [(r.published, r.published_inferred) for r in ingest(dated, published=DAY)[0]] == [(DAY, False)]


def test_published_argument_fills_in_only_where_metadata_has_no_date(tmp_path):
    lines = [
        {"text": "Clashes near Marib.", "published": "2021-02-20T10:00:00+03:00"},
        {"text": "Clashes near Marib again."},
        {"text": "Shelling hit Taiz.", "published": "Sat, 06 Mar 2021 12:00:00 GMT"},
        {"text": "Protest in Taiz.", "published": "someday soon"},
    ]
    path = write(tmp_path / "wire.jsonl", "\n".join(json.dumps(line) for line in lines))
    feed = write(tmp_path / "feed.rss", FEED.replace("Mon, 15 Feb 2021 10:00:00 GMT", "the day before yesterday"))

    reports, rejected = ingest(path, feed, published=DAY)

    assert [r.published for r in reports] == [date(2021, 2, 20), DAY, date(2021, 3, 6), DAY, date(2021, 2, 23)]
    assert not any(r.published_inferred for r in reports)
    # JSONL is read strictly: a date that is there but unreadable rejects its line.
    assert str(rejected[0]) == f"{path}:4: \"published\" is not a recognisable date: 'someday soon'"


# --- feeds -------------------------------------------------------------------


def test_the_headline_opens_the_text_unless_the_body_already_does():
    from kharita.ingest.common import with_headline

    assert with_headline("Strike kills 5 in Saraqib | Wire", "Warplanes struck on Monday.") == \
        "Strike kills 5 in Saraqib\n\nWarplanes struck on Monday."
    body = "STRIKE KILLS 5 IN SARAQIB. Warplanes struck on Monday."
    assert with_headline("Strike kills 5 in Saraqib", body) == body
    assert with_headline(None, "Warplanes struck.") == "Warplanes struck."


def test_feed_keeps_good_entries_and_rejects_the_broken_one(tmp_path):
    path = write(tmp_path / "sahel.xml", FEED)

    reports, rejected = ingest(path, published=DAY)

    assert [(r.title, r.url, r.published, r.outlet) for r in reports] == [
        ("Bomb hits convoy near Gao", "https://example.org/gao", date(2021, 2, 15), "Sahel Desk"),
        ("Protest in Mopti", "https://example.org/mopti", date(2021, 2, 23), "Sahel Desk"),
    ]
    # The headline is read with the body: it may tell what the body leaves out.
    assert reports[0].text == "Bomb hits convoy near Gao\n\nAn explosive device struck an army convoy near Gao.\nFour soldiers died."
    assert rejected == [
        Rejected(f"{path} entry 2", "feed entry has no summary or content (title 'Headline with no story')")
    ]


def test_feed_is_sniffed_without_an_extension_and_unreadable_feeds_are_rejected(tmp_path):
    sniffed = write(tmp_path / "latest", FEED)
    truncated = write(tmp_path / "cut.rss", FEED[:70])  # cut before the first item
    empty = write(tmp_path / "empty.atom", '<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>')

    reports, rejected = ingest(sniffed, truncated, empty, published=DAY)

    assert len(reports) == 2 and reports[0].origin == str(sniffed)
    assert rejected[0].origin == f"{sniffed} entry 2"
    assert rejected[1].origin == str(truncated)
    assert rejected[1].reason.startswith("not a readable feed (")
    assert rejected[2] == Rejected(str(empty), "feed has no entries")


def test_an_uploaded_feed_that_names_a_file_does_not_read_that_file(tmp_path):
    # feedparser, given bytes, first tries them as a file name.
    secret = write(tmp_path / "secret.rss", FEED)
    (rejected,) = read_bytes(str(secret).encode(), "upload.xml")
    assert rejected.origin == "upload.xml"
    assert rejected.reason.startswith("not a readable feed")


# --- JSON Lines ----------------------------------------------------------------


def test_jsonl_bad_lines_are_rejected_by_line_number(tmp_path):
    lines = [
        json.dumps({"text": "Shelling hit Taiz.", "title": "Taiz", "url": "https://e.org/1", "outlet": "Wire"}),
        '{"text": "unterminated',
        "",
        json.dumps({"title": "no text"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"text": "An IED exploded near Gao.", "title": 7}),
        json.dumps({"text": "Protesters gathered in Marib.", "extra": "ignored"}),
    ]
    path = write(tmp_path / "wire.jsonl", "\n".join(lines) + "\n")

    reports, rejected = ingest(path, published=DAY)

    assert [(r.text, r.title, r.url, r.outlet) for r in reports] == [
        ("Shelling hit Taiz.", "Taiz", "https://e.org/1", "Wire"),
        ("Protesters gathered in Marib.", None, None, None),
    ]
    assert [str(r) for r in rejected] == [
        f"{path}:2: invalid JSON: Unterminated string starting at (column 10)",
        f'{path}:4: missing or empty "text"',
        f"{path}:5: expected a JSON object, got list",
        f'{path}:6: "title" must be a string, got int',
    ]


# --- directories, stdin, uploads ----------------------------------------------------


def test_directory_mixing_good_and_bad_files(tmp_path):
    write(tmp_path / "b_report.txt", STRIKE)
    write(tmp_path / "a_page.html", PAGE)
    write(tmp_path / "c_image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write(tmp_path / "d_empty.txt", b"")
    write(tmp_path / "nested" / "feed.xml", FEED)
    write(tmp_path / ".hidden.txt", STRIKE + "hidden")
    write(tmp_path / ".git" / "notes.txt", STRIKE + "in a hidden directory")

    items = list(read_paths([tmp_path], published=DAY))

    assert [(Path(i.origin).name, type(i).__name__) for i in items] == [
        ("a_page.html", "Report"),
        ("b_report.txt", "Report"),
        ("c_image.png", "Rejected"),
        ("d_empty.txt", "Rejected"),
        ("feed.xml", "Report"),
        ("feed.xml entry 2", "Rejected"),
        ("feed.xml", "Report"),
    ]
    assert items == list(read_paths([tmp_path], published=DAY))  # deterministic


def test_stdin_is_read_for_a_dash(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(PAGE.encode("utf-8"))))
    (report,) = list(read_paths(["-"]))
    assert report.origin == "<stdin>"
    assert report.title == "Clashes erupt near Marib"  # sniffed as HTML

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\x00\x01")))
    assert list(read_paths("-")) == [Rejected("<stdin>", "binary file (contains NUL bytes), not text")]


def test_read_bytes_shares_the_file_readers(tmp_path):
    path = write(tmp_path / "sahel.xml", FEED)
    from_file = [r for r in read_paths([path], published=DAY) if isinstance(r, Report)]
    uploaded = read_bytes(FEED.encode(), "sahel.xml", published=DAY)

    assert [r.id for r in from_file] == [r.id for r in uploaded if isinstance(r, Report)]
    assert Rejected("sahel.xml entry 2", "feed entry has no summary or content (title 'Headline with no story')") in uploaded
    assert read_bytes(b"\xff\xfe\x00", "x.txt") != []  # never raises


def test_samples_are_all_ingested_and_dated():
    reports, rejected = ingest(SAMPLES)
    assert rejected == []
    assert len(reports) >= 6
    assert all(80 <= len(r.text.split()) <= 250 for r in reports)
    assert all(r.published is not None for r in reports)
