"""Dictionary matching for the lexicon-driven stages (actors, triggers, weapons).

Phrases are matched case-insensitively on whole words with an Aho-Corasick
automaton (pyahocorasick), so the cost per document is linear in its length
whatever the size of the dictionary.
"""
from __future__ import annotations

import gc
import itertools
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Generic, TypeVar

import ahocorasick
import yaml

T = TypeVar("T")

# Typographic variants folded to ASCII; every replacement keeps the length, so
# offsets in the folded text are offsets in the original.
_FOLD = (("\u2019", "'"), ("\u2018", "'"), ("\u2010", "-"), ("\u2011", "-"), ("\u2013", "-"), ("\u00a0", " "))
_BRACES = re.compile(r"\{([^{}]*)\}")


def fold(text: str) -> str:
    """Lower-case and ASCII punctuation, same length as `text`."""
    lowered = text.lower()
    if len(lowered) != len(text):  # rare characters whose lower case is longer ("İ")
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    if lowered.isascii():
        return lowered
    # A few `str.replace` scans cost a fraction of one `str.translate` of a text that is
    # not pure ASCII (translate then looks every character up in its table).
    for variant, ascii_char in _FOLD:
        if variant in lowered:
            lowered = lowered.replace(variant, ascii_char)
    return lowered


def expand(pattern: str) -> list[str]:
    """Brace expansion: "air {strike,strikes}" -> ["air strike", "air strikes"]."""
    if "{" not in pattern:  # most phrases: nothing to expand
        return [" ".join(pattern.split())]
    parts = _BRACES.split(pattern)
    options = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    # Runs of white space as one space, none at the ends.
    return [" ".join("".join(combo).split()) for combo in itertools.product(*options)]


# libyaml's parser with PyYAML's safe constructors (the same data, built ten times
# faster: these files are read when a `Pipeline` is made); pure Python where PyYAML was
# built without libyaml.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def load_data(name: str) -> Any:
    """A YAML data file shipped in `kharita/data`."""
    text = resources.files("kharita.data").joinpath(name).read_text(encoding="utf-8")
    return yaml.load(text, Loader=_YAML_LOADER)


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


# A candidate before selection: (start, end, value).
_Candidate = tuple[int, int, Any]


def leftmost_longest(found: list[_Candidate]) -> list[Match]:
    """Non-overlapping matches, leftmost first and at one start the longest, in text order."""
    found.sort(key=lambda m: (m[0], -m[1]))
    kept: list[Match] = []
    last_end = -1
    for start, end, value in found:
        if start >= last_end:
            kept.append(Match(start, end, value))
            last_end = end
    return kept


def _keyed(entries: Iterable[tuple[str, T]]) -> dict[str, T]:
    """Dictionary entries by folded key, every brace variant of a phrase its own key; a
    later entry for the same key overrides an earlier one."""
    words: dict[str, T] = {}
    for phrase, value in entries:
        for variant in expand(phrase):
            if key := fold(variant):
                words[key] = value
    return words


def _automaton(table: Mapping[str, Any]) -> ahocorasick.Automaton | None:
    """An Aho-Corasick automaton over the table's keys, each carrying its value; None for
    an empty table (pyahocorasick cannot search an automaton without words)."""
    if not table:
        return None
    automaton = ahocorasick.Automaton()
    for key, value in table.items():
        automaton.add_word(key, value)
    automaton.make_automaton()
    return automaton


class PhraseMatcher(Generic[T]):
    """Finds dictionary phrases in text on word boundaries; longest match wins.

    When two entries share a phrase, the later one wins: packs listed later override.
    """

    def __init__(self, entries: Iterable[tuple[str, T]]) -> None:
        self._automaton = _automaton({key: (len(key), value) for key, value in _keyed(entries).items()})
        self._empty = self._automaton is None

    def candidates(self, folded: str, start: int = 0, end: int | None = None) -> list[_Candidate]:
        """Every dictionary phrase lying in `folded[start:end]` on word boundaries, overlapping
        ones included, as (start, end, value), before leftmost-longest selection. The slice's
        ends count as word boundaries, as they would for the slice on its own."""
        if self._empty:
            return []
        stop = len(folded) if end is None else end
        found: list[_Candidate] = []
        append = found.append
        # `_word_edge` inlined: this loop sees every raw hit of every dictionary.
        for end_index, (length, value) in self._automaton.iter(folded, start, stop):
            first = end_index - length + 1
            if first > start:
                char = folded[first - 1]
                if char.isalnum() or char == "-":
                    continue
            after = end_index + 1
            if after < stop:
                char = folded[after]
                if char.isalnum() or char == "-":
                    continue
            append((first, after, value))
        return found

    def find(self, text: str, folded: str | None = None) -> list[Match[T]]:
        """Non-overlapping matches, leftmost-longest, in text order."""
        if self._empty:
            return []
        return leftmost_longest(self.candidates(folded if folded is not None else fold(text)))

    def find_in_spans(self, text: str, spans: Sequence[tuple[int, int]], folded: str | None = None
                      ) -> list[list[Match[T]]]:
        """`find` of each span (sorted, non-overlapping `(start, end)`, e.g. sentences) with
        offsets into `text`: one pass over the text instead of one search per span, same
        matches as `find(text[start:end])` shifted by `start`."""
        found: list[list[_Candidate]] = [[] for _ in spans]
        if self._empty or not spans:
            return found  # type: ignore[return-value]
        folded = folded if folded is not None else fold(text)
        starts = [s for s, _ in spans]
        for end_index, (length, value) in self._automaton.iter(folded, starts[0], spans[-1][1]):
            start, end = end_index - length + 1, end_index + 1
            i = bisect_right(starts, start) - 1
            span_start, span_end = spans[i]
            if end > span_end:
                continue
            # A span's own ends are word boundaries, whatever lies outside them.
            if start > span_start:
                char = folded[start - 1]
                if char.isalnum() or char == "-":
                    continue
            if end < span_end:
                char = folded[end]
                if char.isalnum() or char == "-":
                    continue
            found[i].append((start, end, value))
        return [leftmost_longest(f) if f else [] for f in found]


class DictionarySet(Generic[T]):
    """Several named dictionaries in one automaton: one walk over a text finds the phrases
    of all of them (a walk costs more than the matches of most dictionaries), each kind's
    matches exactly as a `PhraseMatcher` of that dictionary alone finds them: on word
    boundaries, non-overlapping, leftmost-longest, in text order. A phrase in several
    dictionaries carries each one's value."""

    def __init__(self, dictionaries: Mapping[str, Iterable[tuple[str, T]]]) -> None:
        self.kinds = tuple(dictionaries)
        merged: dict[str, list[tuple[str, T]]] = {}
        for kind, entries in dictionaries.items():
            for key, value in _keyed(entries).items():
                merged.setdefault(key, []).append((kind, value))
        self._automaton = _automaton({key: (len(key), tuple(values)) for key, values in merged.items()})
        self._empty = self._automaton is None

    def find(self, folded: str) -> dict[str, list[Match[T]]]:
        """Each dictionary's matches in a folded text."""
        found: dict[str, list[_Candidate]] = {kind: [] for kind in self.kinds}
        if self._empty:
            return found  # type: ignore[return-value]
        stop = len(folded)
        # The word-edge test of `PhraseMatcher.candidates`, inlined.
        for end_index, (length, values) in self._automaton.iter(folded):
            first = end_index - length + 1
            if first > 0:
                char = folded[first - 1]
                if char.isalnum() or char == "-":
                    continue
            after = end_index + 1
            if after < stop:
                char = folded[after]
                if char.isalnum() or char == "-":
                    continue
            for kind, value in values:
                found[kind].append((first, after, value))
        return {kind: leftmost_longest(candidates) if candidates else [] for kind, candidates in found.items()}


class LayeredMatcher(Generic[T]):
    """A base dictionary with named layers over it (actor packs per country), in one
    automaton. `find(..., layers=(a, b))` matches exactly as a `PhraseMatcher` given the
    base entries, then layer a's, then layer b's, would (a later entry overriding the same
    phrase), without building an automaton per combination of layers."""

    def __init__(self, base: Iterable[tuple[str, T]], layers: Mapping[str, Iterable[tuple[str, T]]]) -> None:
        base_words = _keyed(base)
        layer_words = {name: _keyed(entries) for name, entries in layers.items()}
        # key -> (length, base value or _ABSENT, {layer: value} or None)
        table: dict[str, tuple[int, Any, dict[str, T] | None]] = {
            key: (len(key), value, None) for key, value in base_words.items()}
        for name, words in layer_words.items():
            for key, value in words.items():
                length, base_value, by_layer = table.get(key, (len(key), _ABSENT, None))
                table[key] = (length, base_value, {**(by_layer or {}), name: value})
        self._automaton = _automaton(table)
        self._empty = self._automaton is None

    def find(self, text: str, folded: str | None = None, layers: Sequence[str] = ()) -> list[Match[T]]:
        """Non-overlapping matches, leftmost-longest, in text order, with `layers` over the base."""
        if self._empty:
            return []
        folded = folded if folded is not None else fold(text)
        stop = len(folded)
        found: list[_Candidate] = []
        for end_index, (length, value, by_layer) in self._automaton.iter(folded):
            if by_layer is not None:
                for name in layers:
                    value = by_layer.get(name, value)
                if value is _ABSENT:
                    continue  # a phrase of layers not in use
            first = end_index - length + 1
            if first > 0:
                char = folded[first - 1]
                if char.isalnum() or char == "-":
                    continue
            after = end_index + 1
            if after < stop:
                char = folded[after]
                if char.isalnum() or char == "-":
                    continue
            found.append((first, after, value))
        return leftmost_longest(found)


_ABSENT = object()  # a layered phrase the base dictionary lacks


# Factories of dictionaries and patterns that are built once per process (`@cache`d
# functions); `preload` marks them so that a `Pipeline` builds them all when it is
# made, not on the first report that needs one (a 0.2 s pause mid-run).
_PRELOAD: list[Callable[[], object]] = []

F = TypeVar("F", bound=Callable[[], object])


def preload(factory: F) -> F:
    """Decorator: build this (cached, argument-less) factory in `preload_all()`."""
    _PRELOAD.append(factory)
    return factory


def preload_all() -> None:
    """Build every dictionary and pattern marked with `preload`."""
    # Tens of thousands of objects are made here, and all of them live on: the cyclic
    # garbage collector, which would walk them again and again meanwhile, waits.
    enabled = gc.isenabled()
    gc.disable()
    try:
        for factory in _PRELOAD:
            factory()
    finally:
        if enabled:
            gc.enable()
