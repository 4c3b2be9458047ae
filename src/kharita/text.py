"""The `text` stage: sentences and paragraphs as character spans.

Rule-based rather than a statistical splitter: news prose is well punctuated,
the rules run at well over 10k documents/s, and the spans stay exact offsets
into the untouched report text.
"""
from __future__ import annotations

import re

from .doc import Doc, Sentence

# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    "dr mr mrs ms prof gen lt col maj capt sgt st mt no vs etc jr sr km approx est dept gov "
    "jan feb mar apr jun jul aug sep sept oct nov dec u.s u.n u.k e.g i.e".split()
)
_BOUNDARY = re.compile(r'[.!?]+["\u201d\u2019)]*\s+(?=["\u201c\u2018(]?[A-Z0-9\u0600-\u06FF])')
_LINE = re.compile(r"[^\n]+")
# A photo credit in parentheses: "(Reuters Photo)", "(AP Photo/J. Smith)", "(TRT World and
# Agencies)", "(Getty Images)", "(File photo)". It closes the caption it follows, with or
# without a full stop before it, and what comes after it is a new sentence.
_CREDIT = re.compile(r"\((?=[^()\n]{2,60}\))[^()\n]*\b(?:[Pp]hoto|PHOTO|[Pp]hotos|[Aa]gencies|Images|IMAGES|[Ff]ile)\b"
                     r"[^()\n]*\)")
_AFTER_CREDIT = re.compile(r"\s+(?=[\"\u201c\u2018]?[A-Z0-9\u0600-\u06FF])")
# A caption opened by its label: "TOP PHOTO: ...", "File photo: ...", "PHOTO - ..." (used
# with `match` at the sentence's start).
_CAPTION_LABEL = re.compile(r"(?:(?:TOP|MAIN|FILE|FEATURED|LEAD|HEADER)\s+)?(?:PHOTO|IMAGE|PICTURE)S?\s*[:\-\u2013\u2014]|"
                            r"(?:Top|Main|File|Featured|Lead)\s+(?:photo|image|picture)\s*[:\-\u2013\u2014]|"
                            r"(?:Photo|Image|Picture)\s*[:\u2013\u2014]")


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of `text`; every line is a paragraph, every paragraph ends a sentence."""
    sentences: list[Sentence] = []
    paragraph = 0
    for line in _LINE.finditer(text):
        start, end = line.start(), line.end()
        if not line.group().strip():
            continue
        cursor = start
        for cut in _cuts(text, start, end):
            _append(sentences, text, cursor, cut, paragraph)
            cursor = cut
        _append(sentences, text, cursor, end, paragraph)
        paragraph += 1
    return sentences


# The word a full stop follows ("Dr.", "U.S.", "J."), at the end of `text[cursor:stop]`.
_LAST_WORD = re.compile(r"([\w.]+)[.!?]+\W*$")


def _last_run(text: str, cursor: int, stop: int) -> int:
    """Where `_LAST_WORD` can first match in `text[cursor:stop]`: the start of the run of
    word characters and dots holding the last word character (its match must cover that
    character), so the search need not try every position of a long sentence. Without a
    word character, `cursor`."""
    i = stop - 1
    while i >= cursor and not (text[i].isalnum() or text[i] == "_"):
        i -= 1
    if i < cursor:
        return cursor
    while i >= cursor and (text[i].isalnum() or text[i] in "._"):
        i -= 1
    return i + 1


def _cuts(text: str, start: int, end: int) -> list[int]:
    """Where the sentences of one line begin (after the first)."""
    cuts = []
    cursor = start
    for boundary in _BOUNDARY.finditer(text, start, end):
        stop = boundary.start() + 1
        word = _LAST_WORD.search(text, _last_run(text, cursor, stop), stop)
        if word and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
            continue
        if word and len(word.group(1)) == 1 and word.group(1).isupper():  # an initial: "J. Smith"
            continue
        cuts.append(boundary.end())
        cursor = boundary.end()
    line = text[start:end]
    tagged = "Tag" in line or "TAG" in line or "Topics" in line or "Keywords" in line
    for tags in _TAGS.finditer(text, start, end) if tagged else ():
        cuts.append(tags.start())
        if (after := _tags_end(text, tags.end(), end)) is not None:
            cuts.append(after)
    if "(" not in line:
        return sorted({c for c in cuts if start < c < end})
    # A photo credit ends its caption: it belongs to the sentence before it, and the
    # next sentence starts after it.
    for credit in _CREDIT.finditer(text, start, end):
        cuts = [c for c in cuts if not credit.start() <= c <= credit.end()]
        after = _AFTER_CREDIT.match(text, credit.end(), end)
        if after:
            cuts.append(after.end())
    return sorted({c for c in cuts if start < c < end})


# A scraped page's tag list run into the text: "Tags Syria Aleppo Car Bomb Islamic State At
# least 20 people were killed ...". It ends where the sentence after it begins: at the
# last capitalised word before the first function word.
_TAGS = re.compile(r"(?:(?<=[.!?]\s)|(?<=[.!?]\s\s)|(?<=\n)|^)(?:Tags|TAGS|Tagged|Topics|Keywords)\s*:?\s+(?=[A-Z0-9a-z])")
_WORD = re.compile(r"[^\s]+")
_FUNCTION = frozenset("the a an of in on at to by for with from and or was were is are has have had be been "
                      "said says say after as that this which who".split())
TAGS_MAX_WORDS = 20


def _tags_end(text: str, start: int, end: int) -> int | None:
    words = list(_WORD.finditer(text, start, end))[:TAGS_MAX_WORDS + 12]
    first = next((i for i, w in enumerate(words) if w.group().lower() in _FUNCTION and w.group()[0].islower()), None)
    if first is None or first == 0:
        return None
    starts = [i for i in range(first) if words[i].group()[0].isupper()]
    if not starts or starts[-1] == 0:
        return None
    return words[starts[-1]].start()


def is_boilerplate(text: str, sentence: Sentence) -> bool:
    """A page's tag list ("Tags Syria Aleppo airstrikes"): no prose."""
    return _TAGS.match(text, sentence.start) is not None


def _append(sentences: list[Sentence], text: str, start: int, end: int, paragraph: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        sentences.append(Sentence(start, end, paragraph))


def is_heading(text: str, sentence: Sentence) -> bool:
    """A short line without final punctuation: a headline or section heading."""
    start, end = sentence.start, sentence.end  # (read in `text`, not copied out: called per sentence)
    return end - start < 120 and text[end - 1] not in ".!?\"\u201d:" and text.find("\n", start, end) < 0


def is_caption(text: str, sentence: Sentence) -> bool:
    """A photo caption: closed by a credit ("... April 4 2017. (Reuters Photo)") or opened
    by a label ("TOP PHOTO: Smoke rises from ..."). It shows an event the report may or
    may not tell; it is not the report's lead."""
    start, end = sentence.start, sentence.end
    if _CAPTION_LABEL.match(text, start, end):
        return True
    if end <= start or text[end - 1] != ")":
        return False
    # (The pattern looks at nothing before its "(" or after `end`: the same as on the sentence alone.)
    credit = _CREDIT.search(text, max(start, end - 64), end)
    return credit is not None and credit.end() == end


def annotate(doc: Doc) -> None:
    doc.sentences = split_sentences(doc.text)
