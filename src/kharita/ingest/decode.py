"""Bytes to text, or a clear reason why not: empty, binary, wrongly encoded.

Encoding policy. UTF-8 is the norm and is decoded strictly (a leading BOM is
accepted and dropped, so "utf-8 then utf-8-sig" is one step). A UTF-16/32 BOM
is honoured, since Windows editors still save "Unicode" that way. Otherwise the
only guess made is Windows-1252, and only when the bytes decode cleanly *and*
read like Latin-script prose: few non-ASCII characters, never in long runs.
That recovers the common case of an old English/French report with curly
quotes or accents, while text in another legacy code page (Arabic cp1256,
Cyrillic cp1251: whole words of high bytes) is rejected rather than turned
into mojibake whose character offsets would then be cited as evidence, and
so is UTF-8 damaged by a stray byte (it holds valid multi-byte sequences too).
Latin-1 is not tried separately: it differs from cp1252 only in 0x80-0x9F,
which are control characters in Latin-1 and never occur in real text.
Everything else is rejected with the first offending byte and its offset.
"""
from __future__ import annotations

import codecs
import re

from .common import RejectInput

# Leading bytes of common binary formats, for a clearer reason than "binary".
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or .docx/.xlsx/.odt)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document"),
    (b"\x7fELF", "an executable"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
# Control bytes that plain text does not contain (tab, LF, VT, FF, CR allowed).
_CONTROL = bytes(range(0x00, 0x09)) + bytes(range(0x0E, 0x20)) + b"\x7f"
_SAMPLE = 64 * 1024
_MAX_CONTROL_RATIO = 0.05
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Characters a cp1252 guess may produce at most this share of.
_MAX_NON_ASCII_RATIO = 0.15
_LONG_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{4,}")
# A well-formed UTF-8 multi-byte sequence: in a file that is not valid UTF-8,
# the sign of damaged UTF-8 rather than of a legacy code page.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def check_bytes(data: bytes) -> str | None:
    """Reject empty and binary input; return the Unicode encoding a BOM names, if any."""
    if not data:
        raise RejectInput("empty file")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise RejectInput(f"binary file ({what}), not text")
    if b"\x00" in data:
        raise RejectInput("binary file (contains NUL bytes), not text")
    sample = data[:_SAMPLE]
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    if controls > _MAX_CONTROL_RATIO * len(sample):
        raise RejectInput(f"binary file ({controls * 100 // len(sample)}% control bytes), not text")
    return None


def _bom_decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise RejectInput(f"not valid {encoding.upper()} despite its byte-order mark "
                          f"(offset {exc.start})") from None


def _looks_like_latin_prose(text: str) -> bool:
    non_ascii = sum(1 for ch in text if ord(ch) > 0x7F)
    return (
        non_ascii <= _MAX_NON_ASCII_RATIO * len(text)
        and _LONG_NON_ASCII_RUN.search(text) is None
    )


def decode_text(data: bytes) -> str:
    """Decode per the module's policy, or raise `RejectInput`."""
    bom = check_bytes(data)
    if bom:
        return _bom_decode(data, bom)
    try:
        return data.decode("utf-8")  # a UTF-8 BOM decodes to U+FEFF, dropped later
    except UnicodeDecodeError as exc:
        error = exc
    guess = None
    if _UTF8_SEQUENCE.search(data) is None:
        try:
            guess = data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    if guess is not None and _looks_like_latin_prose(guess):
        return guess
    raise RejectInput(
        f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}); "
        "save it as UTF-8"
    )


def decode_html(data: bytes) -> str:
    """Like `decode_text`, but a charset the page declares is trusted before guessing."""
    bom = check_bytes(data)
    if bom:
        return _bom_decode(data, bom)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _DECLARED_CHARSET.search(data[:8192])
    if declared:
        name = declared.group(1).decode("ascii", "replace")
        try:
            codec = codecs.lookup(name).name
            if codec in ("iso8859-1", "ascii"):
                codec = "cp1252"  # as browsers do (WHATWG Encoding Standard)
            return data.decode(codec)
        except LookupError:
            raise RejectInput(f"HTML declares an unknown charset {name!r}") from None
        except UnicodeDecodeError as exc:
            raise RejectInput(
                f"not valid {name} as the page declares "
                f"(byte 0x{data[exc.start]:02x} at offset {exc.start})"
            ) from None
    return decode_text(data)
