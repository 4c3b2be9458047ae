"""The `tallies` stage: running counts over a period, kept as claims, never as events.

"Since February 1, more than a dozen medical facilities have been attacked"; "the bombing
has destroyed at least seven hospitals and two field hospitals". A tally sums many
happenings the report does not tell one by one; ACLED codes none of it as an event, and an
analyst wants it kept, with its period, its place and who says so. A tally sentence names
a period (an ongoing date such as "since February 1" or "over the past month", or a
running-total cue from data/quantities.yaml) and counts a unit (data/quantities.yaml
`tally_units`); a sentence right after it that speaks of the same ("The bombing has
destroyed ...") continues it.
"""
from __future__ import annotations

import re
from datetime import date
from functools import cache

from .casualties import (
    LONG_PERIOD_DAYS,
    counted_over,
    find_sources,
    over_period,
    parse_number,
    periods,
    running_totals,
)
from .doc import Doc, Sentence
from .lexicon import PhraseMatcher, load_data, preload
from .models import Tally

_WORD = re.compile(r"[a-z0-9]+(?:[,-][a-z0-9]+)*")
_NOT_A_COUNT = frozenset({"a", "an", "some"})  # "destroyed a hospital": not a tally figure
_CONJUNCTIONS = frozenset({"and", "or", "but"})
ADJECTIVES_BETWEEN = 2  # "at least seven major hospitals", "four specialised clinics"


def _figure_before(folded: str, floor: int, start: int) -> tuple[int, bool, int] | None:
    """The count right before a unit, with at most two words between ("seven major
    hospitals"): (value, approximate, where the figure starts), or None."""
    words = list(_WORD.finditer(folded, max(floor, start - 60), start))[-(ADJECTIVES_BETWEEN + 2):]
    for i in range(len(words) - 1, max(-1, len(words) - 2 - ADJECTIVES_BETWEEN), -1):
        if words[i].group() in _CONJUNCTIONS:
            break  # "killed 300,000 and displaced": the figure does not count what follows the "and"
        for first in (i - 1, i):  # "a dozen", "twenty five"; then one word
            if first < 0:
                continue
            phrase = folded[words[first].start():words[i].end()]
            if phrase in _NOT_A_COUNT:
                continue
            parsed = parse_number(phrase)
            if parsed is None:
                continue
            value, vague = parsed
            begin = words[first].start()
            hedge = _hedge().search(folded, max(floor, begin - 20), begin)
            if hedge is not None:
                begin = hedge.start()
            return value, vague or hedge is not None, begin
    return None


@preload
@cache
def _hedge() -> re.Pattern:
    """A hedge ("at least", "more than") ending right where a figure starts."""
    words = sorted(load_data("quantities.yaml")["hedges"], key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\s+$")


@preload
@cache
def _continues() -> re.Pattern:
    """A sentence that goes on about what the one before it tallied (`match` anchors it at
    the sentence start); words from data/quantities.yaml `tally_continuation`."""
    words = {key: "|".join(map(re.escape, listed)) for key, listed in
             load_data("quantities.yaml")["tally_continuation"].items()}
    return re.compile(rf"\W*(?:(?:{words['determiners']}) (?:[a-z]+ )?(?:{words['nouns']})\b"
                      rf"|(?:{words['pronouns']}) )", re.IGNORECASE)


@preload
@cache
def _units() -> PhraseMatcher[bool]:
    return PhraseMatcher((phrase, True) for phrase in load_data("quantities.yaml")["tally_units"])


@preload
@cache
def _verbs() -> PhraseMatcher[bool]:
    return PhraseMatcher((phrase, True) for phrase in load_data("quantities.yaml")["tally_verbs"])


def _period(doc: Doc, sentence: Sentence, folded: str, dates: list) -> tuple[str, int, int, date | None] | None:
    """The sentence's tally period: (text, start, end, first day or None): an ongoing
    date of a week or more ("since February 1"), or a running-total cue; else None.
    `dates`: the date mentions in the sentence."""
    for mention in dates:
        if mention.ongoing and (mention.last - mention.first).days >= LONG_PERIOD_DAYS:
            return mention.text, mention.start, mention.end, mention.first
    cues = running_totals(folded, sentence.start, sentence.end)
    return (doc.text[cues[0].start():cues[0].end()], cues[0].start(), cues[0].end(), None) if cues else None


def _figures(doc: Doc, sentence: Sentence, folded: str):
    """(value, approximate, figure start, unit end, unit) for each counted unit."""
    for unit in _units().find(doc.text[sentence.start:sentence.end], folded[sentence.start:sentence.end]):
        start, end = sentence.start + unit.start, sentence.start + unit.end
        figure = _figure_before(folded, sentence.start, start)
        if figure is None:
            continue
        value, approximate, begin = figure
        if 1900 <= value <= 2100 and folded[begin:start].strip().isdigit():
            continue  # a year, not a count
        yield value, approximate, begin, end, doc.text[start:end]


def _over_periods(doc: Doc, sentence: Sentence, folded: str, figures: list, dates: list) -> list:
    """A sentence's figures counted over its periods (running-total cues, ongoing dates):
    those in a period's clause or led by it, plus death tolls where no unit follows the
    figure ("the war has killed more than 300,000"), as (value, approximate, start, end,
    unit). A figure in another clause ("Twelve were killed on Monday, in a town shelled
    since 2015") is not counted over the period."""
    spans = periods(folded, sentence, dates)
    counted = over_period(folded, sentence, [(f[2], f[3]) for f in figures], spans)
    kept = [f for f, over in zip(figures, counted) if over]
    for toll in counted_over(doc, sentence, folded, spans):
        if not any(toll.start < end and start < toll.end for _, _, start, end, _ in kept):
            kept.append((toll.value, toll.approximate, toll.start, toll.end, toll.victims or "people"))
    return sorted(kept, key=lambda f: f[2])


def find_tallies(doc: Doc, folded: str) -> list[Tally]:
    tallies: list[Tally] = []
    carried = None  # (period, regions, source) of the tally sentence just before
    for sentence, dates in zip(doc.sentences, doc.by_sentence(doc.dates)):
        period = _period(doc, sentence, folded, dates)
        if period is None and carried is not None and _continues().match(doc.text, sentence.start, sentence.end):
            period = carried[0]
        elif period is None:
            carried = None
            continue
        figures = list(_figures(doc, sentence, folded))
        if sentence.start <= period[1] < sentence.end:  # a period of this sentence, not carried over
            figures = _over_periods(doc, sentence, folded, figures, dates)
        if not figures:
            carried = None
            continue
        # Provinces it covers ("across Idlib and Hama Provinces"); a country here is mostly an actor.
        regions = [p for p in doc.within(doc.places, sentence) if p.place is not None and p.role in ("location", "region")
                   and p.place.feature == "admin1"]
        sources = find_sources(doc, sentence)
        if carried is not None and period is carried[0]:
            regions = regions or carried[1]
            sources = sources or carried[2]
        verbs = _verbs().find(doc.text[sentence.start:sentence.end], folded[sentence.start:sentence.end])
        text, period_start, period_end, since = period
        for value, approximate, begin, end, unit in figures:
            verb = min(verbs, key=lambda v: abs(sentence.start + v.start - begin), default=None)
            tallies.append(Tally(
                value=value, unit=unit, approximate=approximate,
                verb=doc.text[sentence.start + verb.start:sentence.start + verb.end] if verb else "",
                since=since, period=text, places=list(dict.fromkeys(p.place.name for p in regions)),
                source=sources[0].source if sources else None,
                evidence=[doc.report.span(begin, end), doc.report.span(period_start, period_end)]
                + [doc.span(s) for s in sources[:1]] + [doc.span(p) for p in regions],
            ))
        carried = (period, regions, sources)
    return tallies


def annotate(doc: Doc, folded: str) -> None:
    doc.tallies = find_tallies(doc, folded)
