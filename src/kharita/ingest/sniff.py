"""Which reader an input goes to: by file extension, else by its first bytes."""
from __future__ import annotations

import re
from pathlib import PurePath

TEXT, HTML, FEED, JSONL, JSON, SNIFFED_JSON = "text", "html", "feed", "jsonl", "json", "json?"

EXTENSIONS: dict[str, str] = {
    ".txt": TEXT, ".text": TEXT, ".md": TEXT, ".markdown": TEXT,
    ".html": HTML, ".htm": HTML, ".xhtml": HTML,
    ".xml": FEED, ".rss": FEED, ".atom": FEED,
    ".jsonl": JSONL, ".ndjson": JSONL, ".json": JSON,
}

_FEED_ROOT = re.compile(r"<(rss|feed|rdf:rdf)[\s>]")
_HTML_ROOT = re.compile(r"<(!doctype\s+html|html|head|body)[\s>]")
_HTML_BLOCK = re.compile(r"<(p|div|article|h[1-6])[\s>]")
_HEAD = 4096


def _head(data: bytes) -> str:
    head = data[:_HEAD].decode("latin-1").lower()
    return head.lstrip("\ufeff\xef\xbb\xbf \t\r\n")


def _markup(head: str) -> str | None:
    if _FEED_ROOT.search(head):
        return FEED
    if _HTML_ROOT.search(head):
        return HTML
    return None


def detect_format(name: str, data: bytes) -> str:
    """One of TEXT, HTML, FEED, JSONL, JSON or SNIFFED_JSON (JSON, else JSON Lines)."""
    fmt = EXTENSIONS.get(PurePath(name).suffix.lower()) if name else None
    if fmt == FEED:
        # An .xml file may be XHTML rather than a feed.
        return HTML if _markup(_head(data)) == HTML else FEED
    if fmt:
        return fmt
    head = _head(data)
    if head.startswith("<"):
        found = _markup(head)
        if found:
            return found
        if head.startswith("<?xml"):
            return FEED
        if _HTML_BLOCK.search(head):
            return HTML
        return TEXT
    if head.startswith(("{", "[")):
        return SNIFFED_JSON
    return TEXT
