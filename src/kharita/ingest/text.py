"""Plain text and Markdown: the text is kept exactly as it is (newlines aside)."""
from __future__ import annotations

from .common import Draft, RejectInput, normalise_newlines
from .decode import decode_text

# A first line longer than this is prose, not a headline.
MAX_TITLE_CHARS = 150


def guess_title(text: str) -> str | None:
    """The first non-empty line, when it is short and more text follows it."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if len(lines) < 2:
        return None
    first = lines[0].lstrip("#").strip()  # a Markdown heading
    if not first or len(first) > MAX_TITLE_CHARS:
        return None
    return first


def parse_text(data: bytes, origin: str) -> list[Draft]:
    text = normalise_newlines(decode_text(data))
    if not text.strip():
        raise RejectInput("empty (whitespace only)")
    return [Draft(text=text, origin=origin, title=guess_title(text))]
