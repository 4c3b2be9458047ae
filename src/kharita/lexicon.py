"""Dictionary matching for the lexicon-driven stages (actors, triggers, weapons).

Phrases are matched case-insensitively on whole words with an Aho-Corasick
automaton (pyahocorasick), so the cost per document is linear in its length
whatever the size of the dictionary.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Generic, TypeVar

import ahocorasick
import yaml

T = TypeVar("T")

# Typographic variants folded to ASCII; every replacement keeps the length, so
# offsets in the folded text are offsets in the original.
_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u2010": "-", "\u2011": "-", "\u2013": "-", "\u00a0": " "})
_BRACES = re.compile(r"\{([^{}]*)\}")


def fold(text: str) -> str:
    """Lower-case and ASCII punctuation, same length as `text`."""
    lowered = text.lower()
    if len(lowered) != len(text):  # rare characters whose lower case is longer ("İ")
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return lowered.translate(_FOLD)


def expand(pattern: str) -> list[str]:
    """Brace expansion: "air {strike,strikes}" -> ["air strike", "air strikes"]."""
    parts = _BRACES.split(pattern)
    options = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    return [re.sub(r"\s+", " ", "".join(combo)).strip() for combo in itertools.product(*options)]


@cache
def load_data(name: str) -> Any:
    """A YAML data file shipped in `kharita/data`."""
    return yaml.safe_load(resources.files("kharita.data").joinpath(name).read_text(encoding="utf-8"))


def data_lines(name: str) -> Iterator[list[str]]:
    """Rows of a TSV data file, skipping blank lines and `#` comments."""
    for line in resources.files("kharita.data").joinpath(name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            yield [cell.strip() for cell in line.split("\t")]


def _word_edge(folded: str, index: int) -> bool:
    """Whether a phrase may begin or end next to `index`. A hyphen joins words:
    "opposition-held" is not the actor "opposition", "Iranian-led" not "Iranian"."""
    if index < 0 or index >= len(folded):
        return True
    char = folded[index]
    return not (char.isalnum() or char == "-")


@dataclass(slots=True)
class Match(Generic[T]):
    start: int
    end: int
    value: T


class PhraseMatcher(Generic[T]):
    """Finds dictionary phrases in text on word boundaries; longest match wins.

    When two entries share a phrase, the later one wins: packs listed later override.
    """

    def __init__(self, entries: Iterable[tuple[str, T]]) -> None:
        words: dict[str, T] = {}
        for phrase, value in entries:
            for variant in expand(phrase):
                if key := fold(variant):
                    words[key] = value
        self._automaton = ahocorasick.Automaton()
        for key, value in words.items():
            self._automaton.add_word(key, (len(key), value))
        self._empty = not words
        if not self._empty:
            self._automaton.make_automaton()

    def find(self, text: str, folded: str | None = None) -> list[Match[T]]:
        """Non-overlapping matches, leftmost-longest, in text order."""
        if self._empty:
            return []
        folded = folded if folded is not None else fold(text)
        found: list[Match[T]] = []
        for end_index, (length, value) in self._automaton.iter(folded):
            start, end = end_index - length + 1, end_index + 1
            if not _word_edge(folded, start - 1) or not _word_edge(folded, end):
                continue
            found.append(Match(start, end, value))
        found.sort(key=lambda m: (m.start, -(m.end - m.start)))
        kept: list[Match[T]] = []
        last_end = -1
        for m in found:
            if m.start >= last_end:
                kept.append(m)
                last_end = m.end
        return kept
