"""The war's origin story: background a report repeats, not an event it tells.

Reports of a long war close with how it began: "The conflict began with peaceful protests
in March 2011", "the war, which erupted after a crackdown on protesters", "repression that
sparked an armed rebellion". The protests and the crackdown told there are no event of the
report, and their figures no event's. `origin_spans` finds these stretches of a report
(cue words in data/discourse.yaml); the events stage reads no trigger and the casualties
stage no figure inside one. Real past events a report refers back to ("the sarin attack
on Ghouta in August 2013") are not origin stories and stay events.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from functools import cache

from .lexicon import expand, load_data, preload


def _phrases(key: str) -> list[str]:
    """A list of discourse.yaml, braces expanded, longest phrase first."""
    phrases = {variant for phrase in load_data("discourse.yaml")[key] for variant in expand(str(phrase))}
    return sorted(phrases, key=len, reverse=True)


def _words(key: str) -> str:
    """A list of discourse.yaml as a regex alternation, longest phrase first."""
    return "|".join(map(re.escape, _phrases(key)))


@preload
@cache
def _patterns() -> tuple[tuple[re.Pattern, tuple[str, ...]], ...]:
    """(pattern, the words one of which a text must hold for it to match) for the war's
    start and what follows it, a clause of the war's start, and a turn into the war, over
    folded text. The words spare most reports the patterns (a scan for a word is fast)."""
    noun = rf"\b(?:{_words('conflict_nouns')})\b(?![- ](?:{_words('conflict_noun_followers')})\b)"
    # "the war began", "Syria's conflict erupted", "the conflict in Syria began", "the war, which started"
    start = re.compile(rf"{noun}(?:,? (?:which|that))?(?:,? [\w'-]+){{0,2}}? (?:{_words('origin_verbs')})\b")
    clause = re.compile(rf"\b(?:{_words('origin_clauses')})\b")
    turn = re.compile(rf"\b(?:{_words('escalation_verbs')}) (?:(?:a|an|the|its|this) )?(?:[\w'-]+ ){{0,2}}?{noun}")
    return ((start, tuple(_phrases("origin_verbs"))), (clause, tuple(_phrases("origin_clauses"))),
            (turn, tuple(_phrases("escalation_verbs"))))


# Where the origin story's clause ends: a new clause, or the war's later course ("but
# devolved into", "and has since killed", "..., has killed").
_CLAUSE_END = re.compile(r"[;:()\u2014]|\bbut\b|\band (?:has|have|had)\b|\b(?:has|have) since\b|,\s+(?:has|have|had)\b")
# A clause opened by "since" ("since the war began in 2011, jets have ...") ends at its comma.
_SINCE_BEFORE = re.compile(r"\bsince\s+(?:[\w'-]+\s+){0,3}$")
_COMMA = re.compile(r",\s")
# What turned into the war starts after the last of these before the verb (not one that
# opens a relative clause: "a crackdown, which sparked").
_BOUNDARY = re.compile(r"[;:\u2014]|,\s")
_RELATIVE = re.compile(r"\s*(?:which|that|who)\b")
_START, _CLAUSE, _TURN = range(3)  # the patterns of `_patterns`


def _sentence_bounds(sentences, at: int) -> tuple[int, int]:
    i = bisect_right([s.start for s in sentences], at) - 1
    return (sentences[i].start, sentences[i].end) if i >= 0 else (0, at)


def origin_spans(doc, folded: str) -> list[tuple[int, int]]:
    """Stretches of the report that tell how the war began, as (start, end) offsets, in
    order and disjoint; found once per `doc` (kept in `doc.origin`). `folded`: the
    report's folded text."""
    if doc.origin is None:
        doc.origin = _origin_spans(folded, doc.sentences)
    return doc.origin


def _matches(folded: str, which: int) -> list[re.Match]:
    pattern, words = _patterns()[which]
    return list(pattern.finditer(folded)) if any(word in folded for word in words) else []


def _origin_spans(folded: str, sentences) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for which in (_START, _CLAUSE):
        for m in _matches(folded, which):
            first, last = _sentence_bounds(sentences, m.start())
            until = _CLAUSE_END.search(folded, m.end(), last)
            end = until.start() if until else last
            if which == _CLAUSE or _SINCE_BEFORE.search(folded, max(first, m.start() - 40), m.start()):
                comma = _COMMA.search(folded, m.end(), end)
                end = comma.start() if comma else end
            spans.append((m.start(), end))
    for m in _matches(folded, _TURN):
        # What turned into the war: the clause before the verb, from its last boundary on.
        first, _ = _sentence_bounds(sentences, m.start())
        begin = first
        for boundary in _BOUNDARY.finditer(folded, first, m.start()):
            if not _RELATIVE.match(folded, boundary.end()):  # "a crackdown, which sparked": back to the crackdown
                begin = boundary.end()
        spans.append((begin, m.end()))
    return _merged(spans)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, overlapping spans joined: disjoint and in order."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def within(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) lies inside one of `origin_spans`' (disjoint, sorted) spans."""
    i = bisect_right(spans, (start, float("inf"))) - 1
    return i >= 0 and end <= spans[i][1]
