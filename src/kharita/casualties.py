"""The `casualties` stage: fatality and injury figures, and who a claim is attributed to.

"killed three doctors", "four patients were killed", "at least 16 dead", "the death
toll rose to 20", "wounded 12 others"; and "Pro-opposition media said", "according to
the health ministry", "..., said a first responder". Number words, vague quantities
and ACLED's values for them come from `data/quantities.yaml`.

A figure counted over a period ("more than 300,000 killed since the war began", "300
civilians since April") is a running total, not one event's toll: it is left to the
tallies stage, and so is none told in the war's origin story (background.py). Only the
figures in the period's clause count over it, so a strike's own toll beside it stays.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import cache

from . import background
from .doc import CasualtyMention, Doc, Sentence, SourceMention
from .lexicon import fold, load_data, preload

_YEARS = range(1900, 2101)


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@preload
@cache
def _patterns() -> dict[str, re.Pattern]:
    q = load_data("quantities.yaml")
    words = _alternation(list(q["numbers"]) + list(q["vague"]))
    victims = _alternation(q["victims"])

    def figure(n: str = "", victim_required: bool = False) -> str:
        """A hedged number and its victim group: "at least 25 pro-government fighters"."""
        return (rf"(?P<hedge{n}>(?:{_alternation(q['hedges'])})\s+)?"
                rf"(?P<num{n}>\d{{1,3}}(?:,\d{{3}})+|\d+(?: (?:thousand|million))?|(?:{words})(?:[ -](?:{words}))?)"
                rf"(?:\s+(?:[a-z'-]+\s+){{0,2}}?(?:\([^()]{{1,30}}\)\s+)?(?P<victim{n}>{victims})){'' if victim_required else '?'}")

    aux = r"(?:\s+(?:were|was|have|has|had|been|are|is|reportedly|also|later|all|being|now|confirmed|feared))*"
    killed = r"(?:killed|dead|died|slain|executed|perished|murdered|lost their lives|massacred|beheaded)"
    hurt = r"(?:wounded|injured|hurt|maimed)"
    both = rf"{figure()},?\s+and\s+{figure('2')}"  # "25 fighters and 16 rebels had been killed"
    kill = (r"(?:killed|killing|kills|kill|claimed the lives of|claims the lives of|executed|executing|executes|execute|"
            r"massacred|beheaded|shot dead|gunned down)")
    # "eliminated 70 terrorists": a count of the dead only with the people it counts.
    eliminate = r"(?:eliminated|eliminating|eliminates|destroyed|neutrali[sz]ed|liquidated)"
    wound = r"(?:wounded|wounding|injured|injuring|wounds|injures)"
    # "killed 43" is not a toll in "4 killed, 43 injured"; "left 12 dead" is one.
    not_hurt = rf"(?!,?\s+(?:others?\s+)?(?:were\s+|are\s+)?{hurt})"
    # "76 people, including 28 children, were killed": the count of everyone.
    including = r",?\s+(?:including|among them|among whom|mostly|mainly|many of them|most of them)(?:\s+[\w'-]+,?){1,7}?"
    return {
        "fatalities_pair": re.compile(rf"\b{both}{aux}\s+{killed}\b"),
        "fatalities_object_pair": re.compile(rf"\b{kill}\s+{both}\b"),  # "killing two nurses and three patients"
        "injuries_object_pair": re.compile(rf"\b{wound}\s+{both}\b"),
        "fatalities_including": re.compile(rf"\b{figure()}{including}{aux}\s+{killed}\b"),
        "fatalities_object": re.compile(rf"\b{kill}\s+{figure()}\b{not_hurt}"),
        "fatalities_eliminated": re.compile(rf"\b{eliminate}\s+(?:some\s+|about\s+)?{figure(victim_required=True)}\b"),
        "fatalities_subject": re.compile(rf"\b{figure()}{aux}\s+{killed}\b"),
        "fatalities_toll": re.compile(rf"\b(?:death|casualty|civilian) toll\s+(?:[\w'-]+\s+){{0,8}}?"
                                      rf"(?:to|of|at|reached|reaches|hit|hits|is|was|stood at|stands at)\s+{figure()}\b"),
        "fatalities_bodies": re.compile(rf"\b(?P<hedge>(?:{_alternation(q['hedges'])})\s+)?"
                                        rf"(?P<num>\d+|{words})\s+(?P<victim>bodies)\b"),
        "injuries_pair": re.compile(rf"\b{both}{aux}\s+{hurt}\b"),
        "injuries_object": re.compile(rf"\b{wound}\s+{figure()}\b"),
        "injuries_subject": re.compile(rf"\b{figure()}{aux}\s+{hurt}\b"),
    }


@preload
@cache
def _values() -> tuple[dict[str, int], dict[str, int]]:
    q = load_data("quantities.yaml")
    return q["numbers"], q["vague"]


_NUMBER_PARTS = re.compile(r"[ -]")


def parse_number(phrase: str) -> tuple[int, bool] | None:
    """The value of "16", "1,200", "three", "twenty-five", "dozens"; and whether it is vague."""
    numbers, vague = _values()
    phrase = phrase.strip().lower()
    if phrase.replace(",", "").isdigit():
        return int(phrase.replace(",", "")), False
    count, _, scale = phrase.partition(" ")
    if count.replace(",", "").isdigit() and numbers.get(scale) in (1000, 1000000):  # "11 million"
        return int(count.replace(",", "")) * numbers[scale], False
    if phrase in vague:
        return vague[phrase], True
    if phrase in numbers:
        return numbers[phrase], False
    parts = _NUMBER_PARTS.split(phrase)
    if all(p in numbers for p in parts):
        values = [numbers[p] for p in parts]
        if len(values) == 2 and values[1] in (100, 1000, 1000000):  # "two hundred", "one million"
            return values[0] * values[1], False
        return sum(values), False
    return None


# Every casualty pattern holds one of these stems: a sentence without any has no figure.
_STEMS = ("kill", "dead", "died", "slain", "execut", "perish", "murder", "lives", "massacr", "behead", "wound", "injur",
          "hurt", "maim", "toll", "bodies", "eliminat", "destroy", "neutrali", "liquidat", "gunned", "shot")

# The words each pattern cannot match without: every group must have one of its words in
# the sentence. Checking these substrings first spares most patterns most sentences (the
# regexes try every position of a sentence; `in` is a fast scan).
_DEATH = ("kill", "dead", "died", "slain", "execut", "perish", "murder", "lost their lives", "massacr", "behead")
_KILLING = ("kill", "claim", "execut", "massacr", "behead", "shot dead", "gunned")
_HURT = ("wound", "injur", "hurt", "maim")
_PAIR = ("and",)
_NEEDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "fatalities_pair": (_DEATH, _PAIR),
    "fatalities_object_pair": (_KILLING, _PAIR),
    "injuries_object_pair": (_HURT, _PAIR),
    "fatalities_including": (_DEATH, ("including", "among", "mostly", "mainly", "of them")),
    "fatalities_object": (_KILLING,),
    "fatalities_eliminated": (("eliminat", "destroy", "neutrali", "liquidat"),),
    "fatalities_subject": (_DEATH,),
    "fatalities_toll": (("toll",),),
    "fatalities_bodies": (("bodies",),),
    "injuries_pair": (_HURT, _PAIR),
    "injuries_object": (_HURT,),
    "injuries_subject": (_HURT,),
}


_NEED_SETS = {name: tuple(frozenset(group) for group in groups) for name, groups in _NEEDS.items()}
_NEED_WORDS = frozenset(word for groups in _NEEDS.values() for group in groups for word in group)


def _may_match(name: str, present: frozenset[str]) -> bool:
    """Whether the pattern can match a sentence holding (only) the `present` need words."""
    return all(not group.isdisjoint(present) for group in _NEED_SETS[name])


def _with_stems(folded: str, sentences: list[Sentence]) -> list[bool]:
    """For each sentence, whether it holds a stem: one `str.find` scan of the document per
    stem instead of a regex search per sentence."""
    starts = [s.start for s in sentences]
    marked = [False] * len(sentences)
    for stem in _STEMS:
        at = folded.find(stem)
        while at >= 0:
            i = bisect_right(starts, at) - 1
            if i >= 0 and at + len(stem) <= sentences[i].end:
                marked[i] = True
            at = folded.find(stem, at + 1)
    return marked


def find_casualties(doc: Doc, sentence: Sentence, folded: str) -> list[CasualtyMention]:
    """Casualty figures in one sentence (`folded` is the folded document text)."""
    segment = folded[sentence.start:sentence.end]
    if not any(stem in segment for stem in _STEMS):
        return []
    return _casualties(doc, sentence, segment)


def _casualties(doc: Doc, sentence: Sentence, segment: str) -> list[CasualtyMention]:
    """Casualty figures in one sentence holding a stem (`segment`: its folded text)."""
    found: list[CasualtyMention] = []
    taken: list[tuple[int, int]] = []
    present = frozenset(word for word in _NEED_WORDS if word in segment)
    for name, pattern in _patterns().items():
        if not _may_match(name, present):
            continue
        kind = name.split("_")[0]
        position = 0
        while (m := pattern.search(segment, position)) is not None:
            position = m.end()
            for n in ("", "2") if "pair" in name else ("",):
                mention = _mention(doc, sentence, m, n, kind)
                if mention is None:
                    # Not a figure ("2016 Ninety-two civilians were killed": a year): look
                    # again right after the number.
                    position = min(position, m.end(f"num{n}"))
                    break
                if any(mention.start < e and s < mention.end for s, e in taken):
                    continue
                taken.append((mention.start, mention.end))
                found.append(mention)
    found.sort(key=lambda c: c.start)
    return found


def _mention(doc: Doc, sentence: Sentence, m: re.Match, n: str, kind: str) -> CasualtyMention | None:
    """The figure of group `n` of a match; for a pair, each figure spans its own words."""
    parsed = parse_number(m.group(f"num{n}"))
    if parsed is None:
        return None
    value, vague = parsed
    victim = m.groupdict().get(f"victim{n}")
    raw = m.group(f"num{n}")
    if value in _YEARS and raw.isdigit() and len(raw) == 4:
        return None  # a year ("9 August 2016 Five children were killed"), not a toll
    if not victim and raw in {"a", "an", "some"}:
        return None
    if m.re.pattern.count("(?P<num2>"):
        first = m.start(f"hedge{n}") if m.group(f"hedge{n}") else m.start(f"num{n}")
        last = m.end(f"victim{n}") if victim else m.end(f"num{n}")
        start, end = sentence.start + first, sentence.start + last
    else:
        start, end = sentence.start + m.start(), sentence.start + m.end()
    return CasualtyMention(start, end, doc.text[start:end], kind=kind, value=value, victims=victim,
                           approximate=vague or bool(m.group(f"hedge{n}")))


# "Pro-opposition media said", "A first responder said", "Hospital administrators said"
_SAID = r"(?:said|says|reported|reports|told|claimed|stated|confirmed|announced|added|noted)"
_LEADING_SOURCE = re.compile(rf"^(?P<src>[A-Z\u201c\"]?[^,;:\u201c\u201d\"]{{2,80}}?)\s+{_SAID}\b")
_ACCORDING_TO = re.compile(r"\baccording to (?P<src>[^,.;:\u201c\u201d\"]{2,80})")
# '..., said the Civil Defense's Ahmed al-Idlibi.'  /  '...," Dr. X, the head of Y, told Z.'
_TRAILING_SOURCE = re.compile(rf"(?:[,\u201d\"]\s*){_SAID}\s+(?P<src>[^.\u201c\u201d\"]{{2,120}}?)\s*\.?$")
# "..., killing five people, activists said."
_CLOSING_SOURCE = re.compile(rf",\s+(?P<src>[^,;:\u201c\u201d\"]{{2,60}}?)\s+{_SAID}\.?$")
_QUOTE_THEN_SOURCE = re.compile(rf"[\u201d\"]\s+(?P<src>[^\u201c\u201d\"]{{2,160}}?),?\s+{_SAID}\b")
_NOT_A_SOURCE = re.compile(r"^(?:it|he|she|they|we|i|this|that|there|which|who|officials? have|the report)$", re.I)


def find_sources(doc: Doc, sentence: Sentence) -> list[SourceMention]:
    """Who the sentence attributes its claims to, if it says."""
    text = doc.text[sentence.start:sentence.end]
    found: list[SourceMention] = []
    for pattern in (_LEADING_SOURCE, _ACCORDING_TO, _TRAILING_SOURCE, _CLOSING_SOURCE, _QUOTE_THEN_SOURCE):
        m = pattern.search(text)
        if not m:
            continue
        source = m.group("src").strip(" ,\u201c\u201d\"")
        if pattern in (_LEADING_SOURCE, _CLOSING_SOURCE) and len(source.split()) > 6:
            continue
        if not source or _NOT_A_SOURCE.match(source):
            continue
        offset = text.find(source, m.start("src"))
        start = sentence.start + offset
        found.append(SourceMention(start, start + len(source), source, source=source))
    return found


@preload
@cache
def running_total_cues() -> re.Pattern:
    """Cues of a toll of a whole war or of months ("since the start of the war"), over folded text."""
    return re.compile(r"\b(?:" + "|".join(load_data("quantities.yaml")["tally_cues"]) + r")\b")


@preload
@cache
def _comparison() -> re.Pattern:
    """A superlative at most four words before where a cue starts: "the deadliest attack
    since 2015" compares one event with a period, it counts nothing over it."""
    words = _alternation(load_data("quantities.yaml")["tally_comparisons"])
    return re.compile(rf"\b(?:{words})\b(?:\s+[\w'-]+){{0,4}}?\s+$")


@preload
@cache
def _war_toll_markers() -> re.Pattern:
    """Signs that a toll beside them is the whole war's ("and millions displaced")."""
    return re.compile(r"\b(?:" + "|".join(load_data("quantities.yaml")["war_toll_markers"]) + r")\b")


# The last document's cues and markers (keyed by the identity of its folded text): the
# casualties and tallies stages both read them, sentence by sentence; one scan serves both.
_scanned: tuple[str, list[re.Match], list[int], list[re.Match], list[int]] | None = None


def _scan(folded: str) -> tuple[str, list[re.Match], list[int], list[re.Match], list[int]]:
    global _scanned
    scanned = _scanned
    if scanned is None or scanned[0] is not folded:
        cues = [cue for cue in running_total_cues().finditer(folded)
                if not _comparison().search(folded, max(0, cue.start() - 60), cue.start())]
        markers = list(_war_toll_markers().finditer(folded))
        scanned = _scanned = (folded, cues, [c.start() for c in cues], markers, [m.start() for m in markers])
    return scanned


def running_totals(folded: str, start: int, end: int) -> list[re.Match]:
    """The running-total cues of `folded[start:end]` (a sentence), comparisons left out,
    then its war-toll markers (a period is named by a cue first)."""
    _, cues, cue_starts, markers, marker_starts = _scan(folded)
    found = []
    for matches, starts in ((cues, cue_starts), (markers, marker_starts)):
        i = bisect_left(starts, start)
        while i < len(matches) and matches[i].start() < end:
            if matches[i].end() <= end:
                found.append(matches[i])
            i += 1
    return found


# Where one clause ends and another begins: a figure on the other side of one of these
# from a period cue is not counted over that period ("Twelve people were killed on Monday,
# in a town shelled almost daily since 2015").
_CLAUSE_BOUNDARY = re.compile(r"[;:()\u2014\u2013]|,\s|\s-\s")


def _opens_sentence(folded: str, sentence: Sentence, period_start: int) -> bool:
    """Whether a period leads the sentence ("Since the war began, more than ..."): then it
    governs the clause after its own comma."""
    return len(folded[sentence.start:period_start].split()) <= 1


def over_period(folded: str, sentence: Sentence, spans: list[tuple[int, int]],
                periods: list[tuple[int, int]]) -> list[bool]:
    """For each figure span of the sentence, whether it counts over one of the `periods`
    (spans of running-total cues or ongoing dates): a figure in the period's own clause
    does ("killed since the war began"), and so does one the period follows right after a
    comma ("have been killed, and millions displaced") or one in the main clause of a
    period that opens the sentence ("Since the war began, ...")."""
    counted = [False] * len(spans)
    for period_start, period_end in periods:
        leading = _opens_sentence(folded, sentence, period_start)
        for i, (start, end) in enumerate(spans):
            left, right = (end, period_start) if end <= period_start else (period_end, start)
            between = folded[left:right] if left < right else ""
            boundaries = len(_CLAUSE_BOUNDARY.findall(between))
            right_after = not between.strip(" ,")  # "killed, and millions displaced"
            if boundaries == 0 or (boundaries == 1 and (right_after or (leading and start >= period_end))):
                counted[i] = True
    return counted


LONG_PERIOD_DAYS = 7  # an ongoing date of a week or more ("since April", "over the past month") is a tally's period


def periods(folded: str, sentence: Sentence, dates: list) -> list[tuple[int, int]]:
    """The sentence's running-total cues and ongoing dates of a week or more, as spans;
    `dates`: the date mentions in the sentence."""
    return ([(cue.start(), cue.end()) for cue in running_totals(folded, sentence.start, sentence.end)]
            + [(d.start, d.end) for d in dates if d.ongoing and (d.last - d.first).days >= LONG_PERIOD_DAYS])


def counted_over(doc: Doc, sentence: Sentence, folded: str, spans: list[tuple[int, int]]) -> list[CasualtyMention]:
    """The casualty figures of a sentence that count over one of its period `spans`
    ("killed since the war began"): claims for the tallies stage, never an event's figures."""
    origin = background.origin_spans(doc, folded)
    found = [c for c in _casualties(doc, sentence, folded[sentence.start:sentence.end])
             if not background.within(origin, c.start, c.end)]
    counted = over_period(folded, sentence, [(c.start, c.end) for c in found], spans)
    return [c for c, over in zip(found, counted) if over]


def annotate(doc: Doc, folded: str | None = None) -> None:
    """`folded`: `lexicon.fold(doc.text)`, when the caller has it."""
    folded = folded if folded is not None else fold(doc.text)
    origin = None
    dates = doc.by_sentence(doc.dates)
    for sentence, has_stem, sentence_dates in zip(doc.sentences, _with_stems(folded, doc.sentences), dates):
        if not has_stem:
            continue  # no figure
        casualties = _casualties(doc, sentence, folded[sentence.start:sentence.end])
        if casualties:
            # The war's origin story ("began after troops killed dozens of protesters"): no event's figure.
            origin = origin if origin is not None else background.origin_spans(doc, folded)
            casualties = [c for c in casualties if not background.within(origin, c.start, c.end)]
        spans = periods(folded, sentence, sentence_dates) if casualties else []
        if spans:
            # A toll of the whole war or of months is not one event's: the tallies stage keeps it.
            counted = over_period(folded, sentence, [(c.start, c.end) for c in casualties], spans)
            casualties = [c for c, over in zip(casualties, counted) if not over]
        sources = find_sources(doc, sentence) if casualties else []
        for casualty in casualties:
            casualty.source = sources[0] if sources else None
        doc.casualties.extend(casualties)
        doc.sources.extend(sources)
