"""Spelling variants of place names: the one place where names are normalised.

Transliterations of Arabic names vary freely (Khan Sheikhoun / Khan Shaykhun,
Qaboun / Qabun, Idleb / Idlib, Deir ez-Zor / Dayr az Zawr), so the gazetteer is
indexed under a normalisation *key* and text spans are looked up by the same key.

- `name_key`: strict key, the exact-match index of the gazetteer.
- `skeleton_key`: a looser consonant skeleton, used only to propose candidates
  when `name_key` finds nothing; each candidate is then confirmed by a fuzzy
  ratio of the two `name_key`s (`FUZZY_THRESHOLD`).

Bump `NAMES_VERSION` whenever a key function changes: the gazetteer cache file
is named after it and is rebuilt.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from operator import methodcaller

from rapidfuzz.fuzz import ratio

NAMES_VERSION = "4"  # 4: same keys; bumped so that indexes pick up the new aliases (places_aliases.tsv)

# Measured (2026-11) on GeoNames entries of 15 Middle East / North African
# countries: 8,454 true pairs (two spellings of one entry sharing a skeleton)
# against 13,005 pairs of keys of different entries sharing a skeleton. The
# ratio of the strict keys accepts, at 70: 83% of true pairs / 25% of the
# others; at 78: 63% / 10.5%; at 85: 40% / 3.5%. 78 is the default; callers
# with other evidence (the place lies in the report's country) may go lower.
# The required pairs score: Idleb/Idlib 80, Khan Sheikhoun/Khan Shaykhun 81.5,
# Latamneh/Lataminah 82, Hasakah/Hasakeh 86, Qaboun/Qabun 91.
FUZZY_THRESHOLD = 78.0
FUZZY_THRESHOLD_IN_FOCUS = 70.0

# Letters NFKD does not decompose into base + mark.
_FOLD = str.maketrans({
    "ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ł": "l", "đ": "d", "ð": "d",
    "þ": "th", "ı": "i", "ħ": "h", "ŧ": "t", "ŋ": "n", "ĸ": "k",
    # Arabic: teh marbuta and alef maqsura written as their common forms.
    "ة": "ه", "ى": "ي", "ـ": "",
})

# Apostrophes, ayn/hamza marks and backticks vanish: Dar'a = Dara, Izra` = Izra.
_APOSTROPHES = re.compile(r"['’‘ʿʾ`´ʻʼʹ′]")
# Everything else that is not a letter or digit separates words.
_SEPARATORS = re.compile(r"[^\w]+|_")
_DOUBLED = re.compile(r"(.)\1+")
_HAS_DOUBLED = re.compile(r"(.)\1")  # the same test, a third cheaper as a search

# Arabic definite article in its transliterated forms, assimilated or not
# (al-, el-, as-, ash-, ad-, ar-, at-, az-, an-, ez-, es-, ech- ...).
ARTICLES: frozenset[str] = frozenset({
    "al", "el", "il", "ul", "ol",
    "as", "es", "ash", "esh", "ech", "ach", "us",
    "ad", "ed", "adh", "edh",
    "ar", "er", "at", "et", "ath", "eth",
    "az", "ez", "an", "en",
})
_ARABIC_ARTICLE = "ال"


def _fold(s: str) -> str:
    if s.isascii():
        return s.lower()  # the common case: nothing to decompose or fold
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return s.lower().translate(_FOLD)


def _words(s: str) -> list[str]:
    if s.isalpha() and s.isascii():
        return [s.lower()]  # most names are plain words: nothing to fold, strip or split
    s = _APOSTROPHES.sub("", _fold(s))
    return [w for w in _SEPARATORS.split(s) if w]


# The replacement of `_undouble`: a C callable (a template such as r"\1" is expanded in Python).
_FIRST_GROUP = methodcaller("group", 1)


def _undouble(s: str) -> str:
    """Doubled letters collapsed: most words have none, and a search costs a fifth of a sub."""
    return _DOUBLED.sub(_FIRST_GROUP, s) if _HAS_DOUBLED.search(s) else s


def _strip_articles(words: list[str]) -> list[str]:
    """Drop article words and Arabic-script 'al' prefixes, keeping at least one word."""
    out = []
    for w in words:
        if w in ARTICLES:
            continue
        if w.isascii():
            out.append(w)
            continue
        if w.startswith(_ARABIC_ARTICLE) and len(w) > 3:
            w = w[2:]
        out.append(w)
    return out or words


@lru_cache(maxsize=200_000)
def name_key(s: str) -> str:
    """The strict key: folded, lowercased, articles dropped, doubled letters collapsed.

    >>> name_key("Deir ez-Zor"), name_key("Ţayyibat al Imām"), name_key("Hama's")
    ('deir zor', 'tayibat imam', 'hamas')
    """
    return _undouble(" ".join(_strip_articles(_words(s))))  # no letter doubles across a space


@lru_cache(maxsize=200_000)
def key_parts(s: str) -> tuple[tuple[str, str], ...]:
    """(word, the word's form in the key) for each word of `s`.

    Keys of spans made of tokens can then be joined without re-normalising:
    `name_key(a + " " + b) == key_from_parts(key_parts(a) + key_parts(b))`.
    """
    out = []
    for w in _words(s):
        k = w[2:] if not w.isascii() and w.startswith(_ARABIC_ARTICLE) and len(w) > 3 else w
        out.append((w, _undouble(k)))
    return tuple(out)


def key_from_parts(parts: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> str:
    """`name_key` of the text whose `key_parts` are `parts`."""
    kept = [k for w, k in parts if w not in ARTICLES]
    return " ".join(kept) if kept else " ".join(_undouble(w) for w, _ in parts)


# Word-initial solid article before a doubled sun letter: Ezzor, Essalam, Ettal.
_SOLID_ARTICLE = re.compile(r"^[ae](?=(t|th|d|dh|r|z|s|sh|n)\1)")
_SOLID_ARTICLE_WORD = re.compile(r"^([ae](t|th|d|dh|r|z|s|sh|n))(\2[aeiou]\w{1,})$", re.IGNORECASE)
_FINAL_H = re.compile(r"(?<=[aeiou])h$")
_INNER_VOWELS = re.compile(r"(?<=.)[aeiouyw]")


def split_solid_article(word: str) -> str | None:
    """A word written with its assimilated article fused on, split off: "Ezzor" -> "Ez-zor"
    (Deir Ezzor = Deir ez-Zor), "Arraqqa" -> "Ar-raqqa"; None for other words. A variant
    to try when the word as written is unknown: "Essen" would be "Es-sen"."""
    m = _SOLID_ARTICLE_WORD.match(word)
    return f"{m.group(1)}-{m.group(3)}" if m else None


@lru_cache(maxsize=200_000)
def skeleton_key(s: str) -> str:
    """The loose key: consonant skeleton of each word of the strict key.

    Drops a final -ah/-eh's h, every vowel and y/w after a word's first letter,
    and, on words after the first, a solid assimilated article (Deir Ezzor).
    Only for proposing candidates: confirm them with `names_match`.
    """
    out = []
    for i, w in enumerate(_strip_articles(_words(s))):
        if i and len(w) > 4:
            w = _SOLID_ARTICLE.sub("", w)
        w = _undouble(w)
        if w.endswith("h"):
            w = _FINAL_H.sub("", w)
        w = _undouble(_INNER_VOWELS.sub("", w))
        out.append(w)
    return " ".join(out)


def key_similarity(key_a: str, key_b: str) -> float:
    """Fuzzy similarity (0-100) of two strict keys."""
    return ratio(key_a, key_b)


def names_match(a: str, b: str, threshold: float = FUZZY_THRESHOLD) -> bool:
    """Whether two spellings plausibly name the same place."""
    ka, kb = name_key(a), name_key(b)
    if ka == kb:
        return True
    return skeleton_key(a) == skeleton_key(b) and key_similarity(ka, kb) >= threshold
