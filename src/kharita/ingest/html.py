"""HTML pages (article text and metadata via trafilatura) and HTML fragments
(feed summaries, flattened to text with lxml)."""
from __future__ import annotations

import re

from .common import Draft, RejectInput, clean_field, clean_language, normalise_newlines
from .decode import decode_html

# Fewer words than this is navigation debris, not an article.
MIN_ARTICLE_WORDS = 10

_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd details div dl dt figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table td th tr ul".split()
)
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")


def parse_html(data: bytes, origin: str) -> list[Draft]:
    import trafilatura
    from trafilatura.settings import set_date_params

    page = decode_html(data)
    if not page.strip():
        raise RejectInput("empty (whitespace only)")
    try:
        doc = trafilatura.bare_extraction(
            page,
            with_metadata=True,
            include_comments=False,
            # Dates only from the page's markup (meta tags, <time>, URL), never
            # guessed from the body text: a date found in the text is an
            # *inferred* date, which `finish` flags as such.
            date_extraction_params=set_date_params(False),
        )
    except Exception as exc:  # lxml/trafilatura on hostile markup
        raise RejectInput(f"could not parse HTML ({type(exc).__name__}: {exc})") from None
    text = normalise_newlines(doc.text or "").strip() if doc is not None else ""
    if len(text.split()) < MIN_ARTICLE_WORDS:
        raise RejectInput("no article text found in HTML")
    return [
        Draft(
            text=text,
            origin=origin,
            title=clean_field(doc.title),
            url=clean_field(doc.url),
            outlet=clean_field(doc.sitename),
            language=clean_language(doc.language),
            # htmldate's date, from the page's markup only (see above).
            published_raw=clean_field(doc.date),
        )
    ]


def html_to_text(fragment: str) -> str:
    """Visible text of an HTML fragment: one line per block element, spaces collapsed."""
    if "<" not in fragment and "&" not in fragment:
        return fragment.strip()
    import lxml.etree
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return ""
    lxml.etree.strip_elements(root, "script", "style", with_tail=False)
    parts: list[str] = []

    def walk(element: lxml.html.HtmlElement) -> None:
        is_element = isinstance(element.tag, str)  # comments and PIs have no text of their own
        block = is_element and element.tag.lower() in _BLOCK_TAGS
        if block:
            parts.append("\n")
        if is_element and element.text:
            parts.append(_HTML_SPACE.sub(" ", element.text))
        for child in element:
            walk(child)
            if child.tail:
                parts.append(_HTML_SPACE.sub(" ", child.tail))
        if block:
            parts.append("\n")

    walk(root)
    lines = (re.sub(" {2,}", " ", line).strip() for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)
