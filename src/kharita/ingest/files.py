"""Paths, directories, stdin and uploaded bytes, dispatched to the readers."""
from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from ..models import Report
from .common import MAX_BYTES, Draft, Rejected, RejectInput, finish
from .feeds import parse_feed
from .html import parse_html
from .jsonl import parse_json, parse_jsonl
from .sniff import FEED, HTML, JSON, JSONL, SNIFFED_JSON, detect_format
from .text import parse_text

STDIN = "-"
STDIN_ORIGIN = "<stdin>"


def _too_large(size: int, max_bytes: int) -> str:
    return f"too large: {size:,} bytes (limit {max_bytes:,})"


def _parse(data: bytes, name: str, origin: str) -> list[Draft | Rejected]:
    fmt = detect_format(name, data)
    if fmt == HTML:
        return parse_html(data, origin)
    if fmt == FEED:
        return parse_feed(data, origin)
    if fmt == JSONL:
        return parse_jsonl(data, origin)
    if fmt in (JSON, SNIFFED_JSON):
        return parse_json(data, origin, lines_fallback=fmt == SNIFFED_JSON)
    return parse_text(data, origin)


def _ingest(
    data: bytes, name: str, origin: str, published: date | None, outlet: str | None, max_bytes: int
) -> list[Report | Rejected]:
    if len(data) > max_bytes:
        return [Rejected(origin, _too_large(len(data), max_bytes))]
    try:
        drafts = _parse(data, name, origin)
        return [d if isinstance(d, Rejected) else finish(d, published, outlet) for d in drafts]
    except RejectInput as exc:
        return [Rejected(origin, exc.reason)]
    except ImportError:
        raise  # a missing module is a broken install, not bad input
    except Exception as exc:  # noqa: BLE001 -- one bad input must not stop a batch
        return [Rejected(origin, f"could not be read ({type(exc).__name__}: {exc})")]


def read_bytes(
    data: bytes,
    name: str,
    published: date | None = None,
    outlet: str | None = None,
    *,
    max_bytes: int = MAX_BYTES,
) -> list[Report | Rejected]:
    """Reports from one uploaded input; `name` (a file name) picks the format by
    its extension and names the origin. Same rules as `read_paths`."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return _ingest(bytes(data), name, name or "<upload>", published, outlet, max_bytes)


def _read_error(path: Path, exc: OSError) -> Rejected:
    if isinstance(exc, PermissionError):
        return Rejected(str(path), "cannot read: permission denied")
    if isinstance(exc, FileNotFoundError):
        broken = os.path.islink(path)
        return Rejected(str(path), "broken symbolic link" if broken else "no such file or directory")
    return Rejected(str(path), f"cannot read: {exc.strerror or exc}")


def _read_file(
    path: Path, published: date | None, outlet: str | None, max_bytes: int
) -> list[Report | Rejected]:
    origin = str(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return [Rejected(origin, "not a regular file")]
        if info.st_size > max_bytes:  # rejected before reading a byte
            return [Rejected(origin, _too_large(info.st_size, max_bytes))]
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may have grown since stat
    except OSError as exc:
        return [_read_error(path, exc)]
    return _ingest(data, path.name, origin, published, outlet, max_bytes)


def _read_stdin(published: date | None, outlet: str | None, max_bytes: int) -> list[Report | Rejected]:
    stream = getattr(sys.stdin, "buffer", None)
    try:
        if stream is not None:
            data = stream.read(max_bytes + 1)
        else:  # a text stream without a buffer (e.g. replaced in tests)
            data = sys.stdin.read(max_bytes + 1).encode("utf-8")
    except OSError as exc:
        return [Rejected(STDIN_ORIGIN, f"cannot read: {exc.strerror or exc}")]
    return _ingest(data, "", STDIN_ORIGIN, published, outlet, max_bytes)


def walk(directory: Path) -> Iterator[Path | OSError]:
    """Files under `directory`, sorted by name at each level; hidden names skipped,
    symbolic links to directories not followed (no cycles). A folder that cannot be
    listed yields its error (with `filename` set) and the walk goes on."""
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as exc:
        exc.filename = exc.filename or str(directory)
        yield exc
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = directory / entry.name
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        if is_dir:
            yield from walk(path)
        else:
            yield path


def _walk(directory: Path) -> Iterator[Path | Rejected]:
    for found in walk(directory):
        yield _read_error(Path(found.filename), found) if isinstance(found, OSError) else found


def read_paths(
    paths: Iterable[str | Path] | str | Path,
    published: date | None = None,
    outlet: str | None = None,
    *,
    max_bytes: int = MAX_BYTES,
) -> Iterator[Report | Rejected]:
    """Reports from files, directories (recursively) and `-` (stdin).

    Every input yields its `Report`s or one `Rejected` per bad input (file, feed
    entry, JSONL line); no exception escapes for bad input. `published` and
    `outlet` apply only to reports whose input carries no date / outlet of its
    own (see `kharita.ingest`). Inputs over `max_bytes` are rejected unread.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    for item in paths:
        if str(item) == STDIN:
            yield from _read_stdin(published, outlet, max_bytes)
            continue
        path = Path(item)
        if path.is_dir():
            for found in _walk(path):
                if isinstance(found, Rejected):
                    yield found
                else:
                    yield from _read_file(found, published, outlet, max_bytes)
        else:
            yield from _read_file(path, published, outlet, max_bytes)
