"""The `ingest` stage: news reports from files, feeds, stdin and uploads.

    read_paths(paths, published=None, outlet=None, *, max_bytes=MAX_BYTES)
        -> Iterator[Report | Rejected]
    read_bytes(data, name, published=None, outlet=None, *, max_bytes=MAX_BYTES)
        -> list[Report | Rejected]

Formats, by extension and otherwise by sniffing the first bytes:
plain text (.txt .text .md; the title is the first line when it is short),
HTML (.html .htm; article text, title, date, URL and site name via trafilatura),
RSS/Atom (.xml .rss .atom; one report per entry via feedparser), JSON Lines
(.jsonl .ndjson; one `{text, title, url, published, outlet}` object a line) and
JSON (.json; one such object or a list of them).

Publication date, in order of precedence:
1. the input's own metadata (HTML meta tags, a feed entry's date, a JSONL
   `published` field), parsed by `kharita.dates.parse_published`;
2. else the `published` argument (the CLI's `--published`): it fills in for
   reports without a metadata date and never overrides one;
3. else the latest explicit date in the text (`kharita.dates.latest_explicit_date`),
   with `published_inferred=True`;
4. else None.
The `outlet` argument likewise fills in only where the input names no outlet.

Text is kept as found, except that newlines become "\\n" and a leading BOM is
dropped: character offsets into `Report.text` are evidence later. (HTML and
feed text is, by nature, the extracted text of the markup.)

Bad input never raises: each bad file, feed entry or JSONL line becomes one
`Rejected(origin, reason)`, and everything else in the batch is still read.
"""
from .common import MAX_BYTES, Rejected
from .files import read_bytes, read_paths

__all__ = ["MAX_BYTES", "Rejected", "read_bytes", "read_paths"]
