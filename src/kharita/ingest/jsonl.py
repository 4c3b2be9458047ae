"""JSON Lines (one report object a line) and plain JSON (an object or a list of them).

A record is `{"text": ..., "title": ..., "url": ..., "published": ..., "outlet": ...}`
(also `"language"`); only `text` is required, other keys are ignored. A bad
line is one `Rejected` naming `file:line`; the other lines are still read.
This is the machine-made format, so it is read strictly: a `published` value
that is not a recognisable date rejects its line rather than being ignored.
"""
from __future__ import annotations

import json
from typing import Any

from .common import (
    Draft,
    Rejected,
    RejectInput,
    clean_field,
    clean_language,
    normalise_newlines,
)
from .decode import decode_text

_OPTIONAL = ("title", "url", "published", "outlet", "language")


class _BadRecord(Exception):
    pass


def _record(obj: Any, origin: str) -> Draft:
    if not isinstance(obj, dict):
        raise _BadRecord(f"expected a JSON object, got {type(obj).__name__}")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _BadRecord("missing or empty \"text\"")
    for key in _OPTIONAL:
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise _BadRecord(f"\"{key}\" must be a string, got {type(obj[key]).__name__}")
    published = None
    raw = clean_field(obj.get("published"))
    if raw:
        from ..dates import parse_published  # lazy: see `common.finish`

        published = parse_published(raw)
        if published is None:
            raise _BadRecord(f"\"published\" is not a recognisable date: {raw!r}")
    return Draft(
        text=normalise_newlines(text),
        origin=origin,
        title=clean_field(obj.get("title")),
        url=clean_field(obj.get("url")),
        outlet=clean_field(obj.get("outlet")),
        language=clean_language(obj.get("language")),
        published=published,
    )


def _decode(data: bytes) -> str:
    text = normalise_newlines(decode_text(data))
    if not text.strip():
        raise RejectInput("empty (whitespace only)")
    return text


def _lines(text: str, origin: str) -> list[Draft | Rejected]:
    out: list[Draft | Rejected] = []
    # Split on LF only: str.splitlines() would also break at U+2028 and other
    # separators that JSON allows unescaped inside strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{origin}:{number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            out.append(Rejected(where, f"invalid JSON: {exc.msg} (column {exc.colno})"))
            continue
        try:
            out.append(_record(obj, origin))
        except _BadRecord as exc:
            out.append(Rejected(where, str(exc)))
    return out


def parse_jsonl(data: bytes, origin: str) -> list[Draft | Rejected]:
    return _lines(_decode(data), origin)


def parse_json(data: bytes, origin: str, *, lines_fallback: bool = False) -> list[Draft | Rejected]:
    """A JSON document: one record or a list of them.

    With `lines_fallback` (a sniffed, extension-less input), a document that is
    not valid JSON as a whole is read as JSON Lines instead.
    """
    text = _decode(data)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if lines_fallback:
            return _lines(text, origin)
        raise RejectInput(f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    if isinstance(doc, dict):
        try:
            return [_record(doc, origin)]
        except _BadRecord as exc:
            raise RejectInput(str(exc)) from None
    if not isinstance(doc, list):
        raise RejectInput(f"expected a JSON object or a list of objects, got {type(doc).__name__}")
    if not doc:
        raise RejectInput("empty JSON list")
    out: list[Draft | Rejected] = []
    for number, obj in enumerate(doc, start=1):
        try:
            out.append(_record(obj, origin))
        except _BadRecord as exc:
            out.append(Rejected(f"{origin} item {number}", str(exc)))
    return out
