"""What every reader shares: the rejection record, the draft a parser produces,
and the one place a draft becomes a `Report` (publication-date precedence)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ..models import Report

# Inputs larger than this are rejected without being read into memory.
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Rejected:
    """An input (a file, a feed entry, a JSONL line) that yielded no report, and why."""

    origin: str
    reason: str

    def __str__(self) -> str:
        return f"{self.origin}: {self.reason}"


class RejectInput(Exception):
    """Raised inside a parser to reject the whole input with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Draft:
    """What a parser found in one input, before the date precedence is applied."""

    text: str
    origin: str
    title: str | None = None
    url: str | None = None
    outlet: str | None = None
    language: str | None = None
    published: date | None = None  # a metadata date already parsed
    published_raw: str | None = None  # a metadata date string still to parse


def normalise_newlines(text: str) -> str:
    """The only rewriting ingest does to text: CRLF/CR to LF and no leading BOM."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _squashed(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def with_headline(title: str | None, body: str) -> str:
    """The text a report is read from: its headline, then its body, unless the body
    already opens with it. A headline tells the event in brief ("Air strikes kill 12 in
    Saraqib"), often with the place or toll the body leaves to the reader, and evidence
    may cite it. A site name after " | " is not part of the headline."""
    headline = (title or "").split(" | ")[0].strip()
    squashed = _squashed(headline)
    if not squashed or squashed in _squashed(body[:len(headline) + 200]):
        return body
    return f"{headline}\n\n{body}"


def clean_field(value: object) -> str | None:
    """A metadata string, stripped; empty or missing is None."""
    if value is None:
        return None
    value = " ".join(str(value).split())
    return value or None


def clean_language(value: object) -> str | None:
    """A language tag reduced to its primary subtag: "en-GB" -> "en"."""
    tag = clean_field(value)
    if not tag:
        return None
    primary = tag.replace("_", "-").split("-")[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def finish(draft: Draft, published: date | None, outlet: str | None) -> Report:
    """Make the `Report`, choosing its publication date.

    Precedence: a date from the input's own metadata (HTML meta tags, feed
    entry dates, a JSONL `published` field) wins; else the caller's `published`
    argument; else the latest explicit date in the text, flagged
    `published_inferred=True`. The caller's `outlet` likewise fills in only
    where the input names no outlet itself.
    """
    text = with_headline(draft.title, normalise_newlines(draft.text))
    when = draft.published
    if when is None and draft.published_raw:
        from ..dates import (
            parse_published,  # lazy: the dates module is optional at import
        )

        when = parse_published(draft.published_raw)
    inferred = False
    if when is None and published is not None:
        when = published.date() if isinstance(published, datetime) else published
    if when is None:
        from ..dates import latest_explicit_date

        when = latest_explicit_date(text)
        inferred = when is not None
    fields: dict[str, object] = {
        "title": draft.title,
        "url": draft.url,
        "outlet": draft.outlet or outlet,
        "published": when,
        "published_inferred": inferred,
        "origin": draft.origin,
    }
    if draft.language:
        fields["language"] = draft.language
    return Report.create(text, **fields)
