"""RSS and Atom feeds via feedparser: one draft per entry.

A feed with some broken entries keeps the good ones; each broken entry is a
`Rejected` naming `file entry N`. A feed with no entry at all is rejected whole.
"""
from __future__ import annotations

import io
import time
from datetime import date
from typing import Any

from .common import (
    Draft,
    Rejected,
    RejectInput,
    clean_field,
    clean_language,
    normalise_newlines,
)
from .decode import check_bytes
from .html import html_to_text

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def _detail_text(value: str | None, detail: Any) -> str:
    """A feed text construct as plain text, flattening it when it is HTML."""
    if not value:
        return ""
    kind = (detail or {}).get("type", "text/html")
    text = html_to_text(value) if kind in _HTML_TYPES else value.strip()
    return normalise_newlines(text)


def _entry_body(entry: Any) -> str:
    """Full content (e.g. RSS content:encoded, Atom content) if any, else the summary."""
    best = ""
    for content in entry.get("content") or []:
        text = _detail_text(content.get("value"), content)
        if len(text) > len(best):
            best = text
    return best or _detail_text(entry.get("summary"), entry.get("summary_detail"))


def _entry_date(entry: Any) -> tuple[date | None, str | None]:
    """The entry's date as feedparser parsed it, else its raw string for `parse_published`.

    Plain `dict.get`: feedparser's own `get("updated")` falls back to the
    published date with a DeprecationWarning.
    """
    for key in ("published", "updated", "created"):
        parsed: time.struct_time | None = dict.get(entry, f"{key}_parsed")
        if parsed:
            try:
                return date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday), None
            except ValueError:
                pass
    for key in ("published", "updated", "created"):
        raw = clean_field(dict.get(entry, key))
        if raw:
            return None, raw
    return None, None


def parse_feed(data: bytes, origin: str) -> list[Draft | Rejected]:
    import feedparser

    check_bytes(data)
    # Always a stream: given a str feedparser may fetch it as a URL, and given
    # bytes it first tries them as a file name (an upload of b"/etc/passwd"
    # would read that file).
    try:
        parsed = feedparser.parse(io.BytesIO(data))
    except Exception as exc:  # e.g. a garbled encoding declaration
        raise RejectInput(f"not a readable feed ({type(exc).__name__}: {exc})") from None
    if not parsed.entries:
        if parsed.get("bozo"):
            raise RejectInput(f"not a readable feed ({parsed.get('bozo_exception')})")
        if not parsed.get("version"):
            raise RejectInput("not an RSS or Atom feed")
        raise RejectInput("feed has no entries")
    channel = parsed.get("feed") or {}
    feed_outlet = clean_field(channel.get("title"))
    feed_language = clean_language(channel.get("language"))
    out: list[Draft | Rejected] = []
    for number, entry in enumerate(parsed.entries, start=1):
        label = f"{origin} entry {number}"
        title = clean_field(_detail_text(entry.get("title"), entry.get("title_detail")))
        text = _entry_body(entry)
        if not text.strip():
            named = f" (title {title!r})" if title else ""
            out.append(Rejected(label, f"feed entry has no summary or content{named}"))
            continue
        published, raw = _entry_date(entry)
        source = entry.get("source") or {}
        out.append(
            Draft(
                text=text,
                origin=origin,
                title=title,
                url=clean_field(entry.get("link")),
                outlet=clean_field(source.get("title")) or feed_outlet,
                language=feed_language,
                published=published,
                published_raw=raw,
            )
        )
    return out
