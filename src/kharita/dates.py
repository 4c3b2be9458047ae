"""The `dates` stage: date expressions in a report, resolved against its publication date.

`find_dates` matches one compiled pattern (one named alternative per kind of
expression, ordered most specific first, so at any position the longest reading
wins) and resolves each match to a period `first..last`, coded the way ACLED
codes uncertain dates:

* `value` is the period's midpoint, `first + (last - first) // 2` (the lower
  middle day for an even number of days: March 2017 -> March 16, April -> April 15,
  Monday 17 .. Saturday 22 April -> Wednesday 19);
* `precision` follows the period's length: 1 day -> 1, 2..7 days -> 2, 8 days or
  more -> 3 (so "last week" is 2, "earlier this month" published on the 5th is 2);
* no period reaches past the publication date: periods containing it are cut at
  it, and expressions wholly after it (future references: "next week",
  "tomorrow", "May 3, 2017" in a report of April 23, 2017) yield no mention.

Relative expressions need the publication date; without one only absolute dates
are resolved, and day-months and bare months against the latest explicit date
of the text.

Speed: the pattern is not run at every position. A cheap case-sensitive scan of
the lower-cased text finds "head" words (month and weekday names, years, day,
week, month, today ...), and the full pattern is only tried, anchored, at the
few word starts up to 48 characters before each head (same result as a full
`finditer`, checked on the dev reports, at ~12 times the speed), and only at those
from which every run of letters up to the head is one a date expression can hold
(`_letter_runs`, read off the pattern itself: half the tries, most of those that fail).

Why rules rather than a general date library: `dateparser` 1.5, measured here
with RELATIVE_BASE=2017-04-23 and PREFER_DATES_FROM="past", takes 0.5-0.8 ms per
expression already cut out of the text (10-75 ms when it fails), and 33 ms for
`search_dates` over one 3 kB report, which then returns "0800 GMT" as the year
800, "may" and "62" (1962) as dates. It answers with one datetime and no period
or precision ("last month" -> 2017-03-23, "August 2016" -> 2016-08-23), gives None
for "earlier this week", "over the past month" and "since February 1", takes
"on Sunday" published on a Sunday for the week before, and reads "Friday the
45th" as 1945-04-23.
"""
from __future__ import annotations

import calendar
import email.utils
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from functools import cache

from .doc import DateMention
from .lexicon import preload

__all__ = ["explicit_dates", "find_dates", "latest_explicit_date", "parse_published", "since_clause"]

# A reference to a month-day or month at most this many days after publication is
# taken as a future reference (dropped); further ahead it means the previous year.
FUTURE_WINDOW_DAYS = 31

_DAY = timedelta(days=1)

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}
_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "ninety": 90,
    # vague quantities
    "couple": 2, "few": 3, "several": 4, "many": 6,
}
_SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 2)}


# Patterns are written in lower case and run on a lower-cased copy of the text
# (case-insensitive matching makes Python's `re` several times slower); where case
# matters (month and weekday names: "may", "march", "sat", "sun") the resolver
# checks the original text.
_MONTH_FULL_WORDS = [calendar.month_name[i].lower() for i in range(1, 13)]
_MONTH_FULL = "(?:" + "|".join(_MONTH_FULL_WORDS) + r")\b"
# Abbreviations only where a number follows: "Jan Egeland", "Mar Elias" are not dates.
_MONTH_ANY = "(?:" + "|".join(_MONTH_FULL_WORDS + ["sept", "sep", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "oct", "nov", "dec"]) + r")\b\.?"
_WEEKDAY_WORDS = [calendar.day_name[i].lower() for i in range(7)]
_WEEKDAY_FULL = "(?:" + "|".join(_WEEKDAY_WORDS) + r")\b"
_WEEKDAY_ANY = "(?:" + "|".join(_WEEKDAY_WORDS + ["tues", "thurs", "thur", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]) + r")\b\.?"
_YEAR = r"(?:19|20)\d\d"
_DAYNUM = r"(?:3[01]|[12]\d|0?[1-9])"
_ORD = r"(?:st|nd|rd|th)"
_NUM = r"(?:\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|ninety)"
_VAGUE = r"(?:a\s+few|few|several|a\s+couple\s+of|couple\s+of|many)"
_PART = r"(?:early|mid|late|the\s+(?:end|beginning|start|middle|first\s+half|second\s+half|(?:first|second|third|fourth|last|final)\s+week)\s+of)"
_TOD = r"(?:morning|afternoon|evening|night)"
# A preposition kept in the span; "since" makes the expression an ongoing period.
_P = r"(?:(?P<since>(?:ever\s+)?since)\s+|(?:on|by|in|during|throughout|until|till|as\s+of|at|from|around|over|of)\s+)?"
_NO_NUM_AFTER = r"(?![\d])"
# "in 2000 attacks" is a count, not a year.
_COUNTED = (
    r"(?:people|persons|civilians|troops|fighters|soldiers|rebels|militants|refugees|families|homes|houses|"
    r"children|residents|dead|killed|wounded|casualties|strikes|airstrikes|air\s+strikes|raids|attacks|bombs|"
    r"barrel|rockets|shells|missiles|km|kilometres|kilometers|metres|meters|tons|tonnes|dollars|euros|"
    r"more|others|of\s+(?:them|whom|the))\b"
)

# Words at least one of which every date expression contains: the scanner is only
# tried at the few word starts shortly before one of them.
_HEAD_WORDS = (
    _MONTH_FULL_WORDS + ["sept", "sep", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "oct", "nov", "dec"]
    + _WEEKDAY_WORDS + ["tues", "thurs", "thur", "mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    + ["today", "tonight", "yesterday", "tomorrow", "night", "morning", "afternoon", "evening",
       "hour", "hours", "day", "days", "week", "weeks", "weekend", "fortnight", "month", "months",
       "year", "years", "spring", "summer", "autumn", "fall", "winter"]
)


def _heads_pattern(words: list[str]) -> str:
    r"""`(?:word|...)\b|(?:19|20)\d\d(?!\d)`, one alternative per first character, each
    starting with that literal character (`re` tries an alternative only where its
    character stands)."""
    by_first: dict[str, list[str]] = {}
    for word in sorted(set(words), key=len, reverse=True):
        by_first.setdefault(word[0], []).append(re.escape(word[1:]))
    heads = [rf"{re.escape(first)}(?:{'|'.join(rests)})\b" for first, rests in by_first.items()]
    return "|".join(heads + [r"19\d\d(?!\d)", r"20\d\d(?!\d)"])


# `\b(?:word|...)\b|\b(?:19|20)\d\d(?!\d)` over a whole report, written for speed: a head
# begins after a character that is no word character, and the pattern starts by
# consuming that character, so `re` skips, in C, to the few positions (spaces,
# punctuation) where one can begin (a leading `\b` would make it try every position;
# a leading letter, most of them). The text's first character needs `_HEAD` alone.
_HEAD = re.compile(_heads_pattern(_HEAD_WORDS))
_HEADS = re.compile(r"[^\w](" + _heads_pattern(_HEAD_WORDS) + ")")


def _heads(low: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every head word of `low`, in text order."""
    first = _HEAD.match(low)
    if first is not None:
        yield first.span()
    for head in _HEADS.finditer(low):
        yield head.span(1)


_LOOKBACK = 48  # characters: "ever since the beginning of the " + "year"
_WORD = re.compile(r"\w+")
# Words an expression can start with (besides numbers and head words).
_STARTERS = frozenset(
    "since ever on by in during throughout until till as at from around over of for the this last past "
    "previous preceding next coming early mid late earlier later recent a an few several couple many".split()
) | frozenset(k for k in _NUMBERS) | frozenset(_HEAD_WORDS)

# (kind, pattern) — order matters: at a given position the first alternative that
# matches wins, so longer/more specific readings come first.
_ALTERNATIVES: list[tuple[str, str]] = [
    ("iso", _P + rf"(?<![\d/.-])(?P<y>{_YEAR})(?P<sep>[-/])(?P<m>1[0-2]|0?[1-9])(?P=sep)(?P<d>{_DAYNUM}){_NO_NUM_AFTER}"),
    ("num", _P + rf"(?<![\d/.-])(?P<a>\d{{1,2}})(?P<sep>[/.-])(?P<b>\d{{1,2}})(?P=sep)(?P<y>{_YEAR}){_NO_NUM_AFTER}(?!\.\d)"),
    (
        "mdy",
        _P
        + rf"(?:(?P<tod>(?:early|late|earlier|later)(?:\s+on)?|the\s+{_TOD}\s+of)\s+)?"
        + rf"(?:(?P<wd>{_WEEKDAY_ANY}),?\s+(?:the\s+)?)?"
        + rf"(?P<mon>{_MONTH_ANY})\s*(?P<day>{_DAYNUM}){_ORD}?(?:,?\s*(?P<year>{_YEAR}))?{_NO_NUM_AFTER}",
    ),
    (
        "dmy",
        _P
        + rf"(?:(?P<tod>(?:early|late|earlier|later)(?:\s+on)?|the\s+{_TOD}\s+of)\s+)?"
        + rf"(?:(?P<wd>{_WEEKDAY_ANY}),?\s+)?"
        + rf"(?:the\s+)?(?<![\d,.])(?P<day>{_DAYNUM}){_ORD}?\s+(?:of\s+)?(?P<mon>{_MONTH_ANY})(?:,?\s+(?P<year>{_YEAR}){_NO_NUM_AFTER})?",
    ),
    ("my", _P + rf"(?:(?P<part>{_PART})[-\s]+)?(?P<mon>{_MONTH_ANY}),?\s+(?:of\s+)?(?P<year>{_YEAR}){_NO_NUM_AFTER}"),
    (
        "wd",
        _P
        + r"(?:the\s+(?:early\s+hours|small\s+hours|morning|afternoon|evening|night)\s+of\s+)?"
        + r"(?:(?P<mod>this\s+past|last|this|past|previous|next|coming|early|late|earlier|later)(?:\s+on)?\s+)?"
        + rf"(?P<wd>{_WEEKDAY_FULL})(?:'s|’s)?(?:\s+(?P<tod>{_TOD}))?"
        + r"(?:,?\s+(?P<the>the\s+)?(?P<day>\d{1,2})(?P<ord>st|nd|rd|th)?\b)?",
    ),
    (
        "rel",
        _P
        + r"(?:(?P<dby>the\s+day\s+before\s+yesterday)"
        + r"|(?P<yday>(?:(?:early|late|earlier|later)\s+)?yesterday(?:\s+(?:morning|afternoon|evening))?|last\s+night)"
        + r"|(?P<today>(?:(?:early|late|earlier|later)\s+(?:on\s+)?)?(?<!russia\s)(?<!usa\s)today|tonight|this\s+(?:morning|afternoon|evening))"
        + r"|(?P<future>tomorrow|the\s+day\s+after\s+tomorrow))\b",
    ),
    (
        "anchor",
        r"(?:(?P<before>the\s+(?:day|night)\s+before|the\s+previous\s+(?:day|night)|the\s+day\s+prior|a\s+day\s+(?:earlier|before))"
        + r"|(?P<after>the\s+(?:next|following)\s+day|a\s+day\s+later|the\s+day\s+after)"
        + r"|(?P<same>(?:earlier|later)\s+(?:in|on)\s+the\s+(?:day|morning|afternoon|evening)|(?:earlier|later)\s+that\s+day|the\s+same\s+day)"
        + rf"|(?P<n>{_NUM})\s+days\s+(?P<dir>later|earlier|before|after))\b",
    ),
    (
        "window",
        _P
        + rf"(?:(?P<fut>(?:the\s+)?(?:next|coming))\s+(?:(?P<fnum>{_NUM})\s+|{_VAGUE}\s+)?(?:hours?|days?|weeks?|fortnight|months?|years?)"
        + rf"|(?:the\s+)?(?:past|last|previous|preceding)\s+(?:(?P<num>{_NUM})\s+|(?P<vague>{_VAGUE})\s+)?(?P<unit>hours|days|weeks|months|years|fortnight)"
        + r"|(?:the\s+|this\s+)(?:past|last|previous|preceding)\s+(?P<unit1>hour|day|week|month|year)"
        + r"|past\s+(?P<unit2>day|week|month|year)"
        + r"|recent\s+(?P<recent>days|weeks|months|years))\b"
        + rf"(?!\s+of\s+(?:{_MONTH_FULL}|this\b|last\b|the\b|{_YEAR}))",
    ),
    (
        "ago",
        rf"(?:(?P<num>{_NUM})\s+|(?P<vague>{_VAGUE})\s+)?(?P<unit>hours?|days?|weeks?|months?|years?)\s+ago\b",
    ),
    (
        "dur",
        rf"(?:for\s+(?:(?:more\s+than|over|nearly|almost|about|around|some|at\s+least)\s+)?(?:(?P<num>{_NUM})\s+|(?P<vague>{_VAGUE})\s+)?(?P<unit>days?|weeks?|months?|years?)"
        + r"|in\s+(?P<unit2>weeks|months|years))\b",
    ),
    (
        "cal",
        _P
        + rf"(?:(?P<part>earlier|later|{_PART})[-\s]+(?:in\s+|of\s+)?)?"
        + r"(?:(?P<rel>this\s+past|this|last|previous|the\s+previous|the\s+current|next|the\s+coming|the\s+next)|(?P<the>the))\s+"
        + r"(?P<unit>weekend|week|month|year)\b",
    ),
    (
        "mon",
        r"(?=(?:since|in|during|throughout|until|till|by|from|early|mid|late|last|this|next|the)\b)"
        + r"(?:(?P<since>since)\s+|(?:in|during|throughout|until|till|by|from)\s+)?"
        + rf"(?:(?P<part>{_PART}|last|this|next)[-\s]+)?(?P<mon>{_MONTH_FULL})(?![,.]?\s*\d)",
    ),
    (
        "year",
        r"(?=(?:since|in|during|throughout|until|till|by|from|early|mid|late|the)\b)"
        + r"(?:(?P<since>since)\s+|(?:in|during|throughout|until|till|by|from)\s+)?"
        + rf"(?:(?P<part>{_PART})[-\s]+)?(?P<year>{_YEAR})(?![\d%]|[.,]\d|s\b|-\d|\s+{_COUNTED})",
    ),
    (
        "season",
        r"(?=(?:since|in|during|throughout|over|last|this|next|early|late|the)\b)"
        + r"(?:(?P<since>since)\s+|(?:in|during|throughout|over)\s+)?"
        + r"(?:(?P<rel>last|this|next|the\s+coming|the\s+past|early|late)\s+)?(?:the\s+)?"
        + rf"(?P<season>spring|summer|autumn|winter|(?(rel)fall|(?!)))(?:\s+(?:of\s+)?(?P<year>{_YEAR}))?\b",
    ),
]


def _scoped(kind: str, pattern: str) -> str:
    pattern = re.sub(r"\(\?P<(\w+)>", lambda m: f"(?P<{kind}__{m.group(1)}>", pattern)
    pattern = re.sub(r"\(\?P=(\w+)\)", lambda m: f"(?P={kind}__{m.group(1)})", pattern)
    pattern = re.sub(r"\(\?\((\w+)\)", lambda m: f"(?({kind}__{m.group(1)})", pattern)
    return f"(?P<{kind}>{pattern})"


_SCANNER = re.compile(r"\b(?:" + "|".join(_scoped(k, p) for k, p in _ALTERNATIVES) + ")")
_EXPLICIT = re.compile(
    r"\b(?:" + "|".join(_scoped(k, p.replace(_P, "")) for k, p in _ALTERNATIVES if k in ("iso", "num", "mdy", "dmy")) + ")"
)


# "since the outbreak of the war in 2011", "since Russia intervened in September 2015": a
# date closing a clause of "since" dates what the clause tells (the outbreak) and starts a
# period running to publication, as "since 2011" does; the rest of the sentence ("strikes
# have killed hundreds since ...") happened over that period, not on that date. The clause
# is a few words with no punctuation, number or conjunction before the date.
_SINCE_CLAUSE = re.compile(
    r"since\s+(?:(?!(?:and|but|or|while|whereas|though|although|yet)\s)[a-z][\w'\u2019-]*\s+){1,9}"
)
_SINCE_REACH = 100  # characters: "since the start of the uprising against President Bashar al-Assad "


def since_clause(low: str, start: int, floor: int = 0) -> int | None:
    """Where the clause of "since" starts that the date expression at `start` of the
    lower-cased text closes ("since the war began in 2011"), not before `floor` (the end
    of the expression before); None when it closes none."""
    at = low.rfind("since", max(floor, start - _SINCE_REACH), start)
    if at < 0 or (at and low[at - 1].isalpha()) or _SINCE_CLAUSE.fullmatch(low, at, start) is None:
        return None
    return at


def _lower(text: str) -> str:
    """Lower case with the same length (so offsets carry over)."""
    low = text.lower()
    if len(low) != len(text):  # "İ" and a few others lower to two characters
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return low


# -------------------------------------------------------- words a match can hold

# What the strings matched by a piece of pattern look like, as far as runs of letters go:
# (whole, heads, tails): the strings that are all letters; the letters that open those
# holding something else (up to it); the letters that close them.
_Shape = tuple[set[str], set[str], set[str]]
_EMPTY: _Shape = ({""}, set(), set())  # matches no character: an anchor, a look-around
_NON_LETTER: _Shape = (set(), {""}, {""})


class _BeyondAnalysis(Exception):
    pass


def _letter_runs(pattern: str) -> frozenset[str] | None:
    """Every maximal run of letters a-z that a string matched by `pattern` can hold
    ("the", "day", "before", "march", "st" of "1st"...), read off the parsed pattern; None
    when the pattern repeats letters or uses a construct this does not follow.

    A try of the scanner at a word can only reach a head word further on when every
    run of letters between them is one of these ("in the city of Aleppo on Friday":
    "city" is none, so "in" cannot start a date reaching "Friday"); most tries that fail
    are skipped so, at no cost in what is found."""
    try:  # the parser behind `re` (a private module: without it, no shortcut)
        import re._constants as _sre
        import re._parser as _sre_parse
    except ImportError:
        return None
    runs: set[str] = set()  # runs closed on both sides
    groups: dict[int, _Shape] = {}

    def concat(left: _Shape, right: _Shape) -> _Shape:
        if right == _EMPTY:
            return left
        if left == _EMPTY:
            return right
        (whole_a, heads_a, tails_a), (whole_b, heads_b, tails_b) = left, right
        runs.update(tail + head for tail in tails_a for head in heads_b)
        return ({a + b for a in whole_a for b in whole_b},
                {a + head for a in whole_a for head in heads_b} | heads_a,
                {tail + b for tail in tails_a for b in whole_b} | tails_b)

    def union(shapes: list[_Shape]) -> _Shape:
        return (set().union(*(shape[0] for shape in shapes)), set().union(*(shape[1] for shape in shapes)),
                set().union(*(shape[2] for shape in shapes)))

    def letters_in(items) -> bool:
        for op, value in items:
            if op is _sre.LITERAL and "a" <= chr(value) <= "z":
                return True
            if op is _sre.RANGE and value[0] <= ord("z") and value[1] >= ord("a"):
                return True
            if op is _sre.CATEGORY and value in (_sre.CATEGORY_DIGIT, _sre.CATEGORY_SPACE):
                continue
            if op not in (_sre.LITERAL, _sre.RANGE):
                raise _BeyondAnalysis(op)
        return False

    def sequence(items) -> _Shape:
        shape = _EMPTY
        letters = ""  # a word's letters, one node each, joined before they are concatenated
        for op, value in items:
            if op is _sre.LITERAL and "a" <= chr(value) <= "z":
                letters += chr(value)
                continue
            if letters:
                shape, letters = concat(shape, ({letters}, set(), set())), ""
            shape = concat(shape, node(op, value))
        return concat(shape, ({letters}, set(), set())) if letters else shape

    def node(op, value) -> _Shape:
        if op is _sre.LITERAL:
            return ({chr(value)}, set(), set()) if "a" <= chr(value) <= "z" else _NON_LETTER
        if op is _sre.IN:
            if letters_in(value):
                raise _BeyondAnalysis("a class of letters")
            return _NON_LETTER
        if op in (_sre.AT, _sre.ASSERT, _sre.ASSERT_NOT):
            return _EMPTY
        if op is _sre.SUBPATTERN:
            shape = sequence(value[3])
            if value[0] is not None:
                groups[value[0]] = shape
            return shape
        if op is _sre.BRANCH:
            return union([sequence(branch) for branch in value[1]])
        if op is _sre.GROUPREF_EXISTS:
            return union([sequence(value[1]), sequence(value[2]) if value[2] else _EMPTY])
        if op is _sre.GROUPREF:
            return groups[value]
        if op is _sre.MAX_REPEAT:
            low, high, item = value
            shape = sequence(item)
            if high > 1 and any(text for strings in shape for text in strings):
                raise _BeyondAnalysis("repeated letters")  # (repeated non-letters look the same)
            return union([shape, _EMPTY]) if low == 0 else shape
        raise _BeyondAnalysis(op)

    try:
        parsed = _sre_parse.parse(pattern)
        if parsed.state.flags & re.IGNORECASE:
            return None
        for strings in sequence(parsed):
            runs.update(strings)
    except (_BeyondAnalysis, KeyError, AttributeError, TypeError):  # an unknown construct: no shortcut
        return None
    runs.discard("")
    return frozenset(runs)


@preload
@cache
def _scanner_runs() -> frozenset[str] | None:
    return _letter_runs(_SCANNER.pattern)


@preload
@cache
def _explicit_runs() -> frozenset[str] | None:
    return _letter_runs(_EXPLICIT.pattern)


_LETTERS = re.compile(r"[a-z]+")


def _matches(low: str, scanner: re.Pattern, runs: frozenset[str] | None = None):
    """Leftmost-longest, non-overlapping matches of `scanner` that contain a head word.
    `runs`: `_letter_runs` of the scanner's pattern (tries that cannot reach the head
    word are skipped)."""
    cursor = 0
    match = scanner.match
    for hs, he in _heads(low):
        if hs < cursor:
            continue
        for w in _WORD.finditer(low, max(cursor, hs - _LOOKBACK), he):
            word = w.group()
            if word not in _STARTERS and not word[0].isdigit():
                continue
            # The head is preceded by no letter, so the runs before it are whole.
            if runs is not None and not runs.issuperset(_LETTERS.findall(low, w.start(), hs)):
                continue
            m = match(low, w.start())
            if m is not None and m.end() > hs:
                cursor = m.end()
                yield m
                break


# ---------------------------------------------------------------- calendar helpers


def _month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    m += 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def _add_years(d: date, n: int) -> date:
    try:
        return d.replace(year=d.year + n)
    except ValueError:  # 29 February
        return d.replace(year=d.year + n, day=28)


def _part(first: date, last: date, part: str | None) -> tuple[date, date]:
    """Early / mid / late thirds, first / second halves of a period."""
    if not part:
        return first, last
    p = part.lower()
    n = (last - first).days + 1
    third = max(n // 3, 1)
    if p.startswith(("early", "the beginning", "the start")):
        return first, first + timedelta(days=third - 1)
    if p.startswith(("mid", "the middle")):
        return first + timedelta(days=third), last - timedelta(days=n - 2 * third)
    if p.startswith(("late", "the end")):
        return first + timedelta(days=2 * third), last
    if "first half" in p:
        return first, first + timedelta(days=n // 2 - 1)
    if "second half" in p:
        return first + timedelta(days=n // 2), last
    if p.endswith("week of"):  # "the first week of July", "the last week of 2016"
        if " last " in p or " final " in p:
            return max(first, last - timedelta(days=6)), last
        i = ("first", "second", "third", "fourth").index(p.split()[1])
        return first + timedelta(days=7 * i), min(last, first + timedelta(days=7 * i + 6))
    return first, last


def _number(word: str | None, vague: str | None = None) -> int:
    if vague:
        return _NUMBERS[vague.split()[-1].lower() if "couple" not in vague.lower() else "couple"]
    if not word:
        return 1
    w = word.lower()
    return int(w) if w.isdigit() else _NUMBERS.get(w, 1)


def _month(name: str) -> int:
    return _MONTHS[name[:3].lower()]


def _unit(word: str) -> str:
    w = word.lower()
    return "fortnight" if w == "fortnight" else w.rstrip("s")


def _back(pub: date, n: int, unit: str) -> date:
    """The start of an n-unit period ending on (and including) `pub`."""
    if unit == "hour":
        return pub - timedelta(days=max(1, -(-n // 24)))
    if unit == "day":
        return pub - timedelta(days=n - 1)
    if unit == "week":
        return pub - timedelta(days=7 * n - 1)
    if unit == "fortnight":
        return pub - timedelta(days=14 * n - 1)
    if unit == "month":
        return _add_months(pub, -n) + _DAY
    return _add_years(pub, -n) + _DAY


def _calendar_period(pub: date, unit: str, offset: int) -> tuple[date, date]:
    """The calendar week/month/year containing pub, shifted by `offset` periods."""
    if unit in ("week", "fortnight"):
        monday = pub - timedelta(days=pub.weekday()) + timedelta(weeks=offset)
        return monday, monday + timedelta(days=6)
    if unit == "month":
        first = _add_months(pub.replace(day=1), offset)
        return first, _month_end(first.year, first.month)
    y = pub.year + offset
    return date(y, 1, 1), date(y, 12, 31)


def _most_recent_weekday(pub: date, wd: int) -> date:
    return pub - timedelta(days=(pub.weekday() - wd) % 7)


def _resolve_year(month: int, day: int, ctx: "_Ctx") -> date | None:
    """The year of a month-day (or a month when day is 1) given no year."""
    if ctx.pub is not None:
        ref, future_ok = ctx.pub, False
    elif ctx.ref is not None:
        ref, future_ok = ctx.ref, True
    else:
        return None
    try:
        d = date(ref.year, month, day)
    except ValueError:
        try:  # 29 February of a non-leap year: the previous year may have it
            return date(ref.year - 1, month, day) if date(ref.year - 1, month, day) <= ref else None
        except ValueError:
            return None
    if d > ref:
        if (d - ref).days <= FUTURE_WINDOW_DAYS:
            return d if future_ok else None
        try:
            d = date(ref.year - 1, month, day)
        except ValueError:
            return None
    return d


# ------------------------------------------------------------------- resolution


class _Ctx:
    __slots__ = ("pub", "ref", "anchor")

    def __init__(self, pub: date | None, ref: date | None):
        self.pub = pub
        self.ref = ref  # latest explicit date of the text, used when pub is None
        self.anchor: date | None = None  # last day-precision date seen, for "the day before"


class _Groups:
    """One alternative's named groups by their short names (absent ones read None)."""

    __slots__ = ("m", "kind", "text", "names")

    def __init__(self, m: re.Match, kind: str, text: str):
        self.m, self.kind, self.text = m, kind, text
        self.names = m.re.groupindex

    def __call__(self, name: str) -> str | None:
        key = f"{self.kind}__{name}"
        return self.m.group(key) if key in self.names else None

    def end(self, name: str) -> int:
        return self.m.end(f"{self.kind}__{name}")

    def capitalised(self, name: str) -> bool:
        """Whether the group is capitalised in the original text ("May", not "may")."""
        return self.text[self.m.start(f"{self.kind}__{name}")].isupper()


# A resolver returns (first, last, ongoing, end) or None; `end` shortens the span.
Resolved = tuple[date, date, bool, "int | None"]


def _r_iso(g, ctx):
    d = date(int(g("y")), int(g("m")), int(g("d")))
    return d, d, False, None


def _num_date(a: int, b: int, y: int, pub: date | None) -> date | None:
    cands = set()
    for m, d in ((a, b), (b, a)):
        try:
            cands.add(date(y, m, d))
        except ValueError:
            pass
    if len(cands) == 1:
        return cands.pop()
    if len(cands) == 2 and pub is not None:  # ambiguous: keep the one reading not after publication
        ok = [c for c in cands if c <= pub]
        if len(ok) == 1:
            return ok[0]
    return None


def _r_num(g, ctx):
    d = _num_date(int(g("a")), int(g("b")), int(g("y")), ctx.pub)
    return None if d is None else (d, d, False, None)


def _r_md(g, ctx):
    if not g.capitalised("mon"):
        return None
    month, day = _month(g("mon")), int(g("day"))
    if g("year"):
        d = date(int(g("year")), month, day)
    else:
        d = _resolve_year(month, day, ctx)
        if d is None:
            return None
    return d, d, False, None


def _r_my(g, ctx):
    if not g.capitalised("mon"):
        return None
    y, m = int(g("year")), _month(g("mon"))
    first, last = _part(date(y, m, 1), _month_end(y, m), g("part"))
    return first, last, False, None


def _r_wd(g, ctx):
    if ctx.pub is None or not g.capitalised("wd"):
        return None
    mod = re.sub(r"\s+", " ", (g("mod") or "").lower())
    if mod in ("next", "coming"):
        return None
    d = _most_recent_weekday(ctx.pub, _WEEKDAYS[g("wd")[:3]])
    if d == ctx.pub and mod in ("last", "past", "previous", "this past"):
        d -= timedelta(days=7)
    end = None
    if g("day"):
        n = int(g("day"))
        if g("the") or g("ord"):  # "Friday the 13th": the latest such Friday, or nothing
            for _ in range(60):
                if d.day == n:
                    break
                d -= timedelta(days=7)
            else:
                return None
        elif d.day != n:  # "On Friday 12 people were killed": the number is not a day
            end = g.end("tod") if g("tod") else g.end("wd")
    return d, d, False, end


def _r_rel(g, ctx):
    if ctx.pub is None or g("future"):
        return None
    if g("today"):
        d = ctx.pub
    elif g("yday"):
        d = ctx.pub - _DAY
    else:
        d = ctx.pub - 2 * _DAY
    return d, d, False, None


def _r_anchor(g, ctx):
    """Relative to the last day-precision date before it ("On Friday ... the day before")."""
    base = ctx.anchor if ctx.anchor is not None else ctx.pub
    if base is None:
        return None
    if g("before"):
        d = base - _DAY
    elif g("same"):
        d = base
    elif ctx.anchor is None:  # "the next day", "two days later" need an anchor
        return None
    elif g("after"):
        d = base + _DAY
    else:
        n = _number(g("n"))
        d = base + timedelta(days=n if g("dir") in ("later", "after") else -n)
    return d, d, False, None


def _r_window(g, ctx):
    """Rolling periods ending at publication: "the past month", "in recent days"."""
    pub = ctx.pub
    if pub is None or g("fut"):
        return None
    if g("recent"):
        unit = _unit(g("recent"))
        n = {"day": 7, "week": 4, "month": 3, "year": 3}[unit]
    elif g("unit"):
        unit = _unit(g("unit"))
        if g("num") or g("vague"):
            n = _number(g("num"), g("vague"))
        else:  # "the past days/weeks/months": a few
            n = 1 if unit == "fortnight" else 3
    else:
        unit, n = _unit(g("unit1") or g("unit2")), 1
    return _back(pub, n, unit), pub, True, None


def _r_ago(g, ctx):
    """A point in the past, coded with the uncertainty of its unit."""
    pub = ctx.pub
    if pub is None:
        return None
    unit = _unit(g("unit"))
    vague = g("vague") or (not g("num") and g("unit").endswith("s"))  # "days ago"
    n = (_number(None, g("vague")) if g("vague") else 3) if vague else _number(g("num"))
    if unit == "hour":
        d = pub - timedelta(days=0 if vague else n // 24)
        return d, d, False, None
    if unit == "day":
        if vague:
            return pub - timedelta(days=n + 2), pub - _DAY, False, None
        d = pub - timedelta(days=n)
        return d, d, False, None
    if unit == "week":
        center, half = pub - timedelta(weeks=n), 3
    elif unit == "month":
        center, half = _add_months(pub, -n), 15
    else:
        center, half = _add_years(pub, -n), 182
    return center - timedelta(days=half), center + timedelta(days=half), False, None


def _r_dur(g, ctx):
    """Durations up to publication: "for months", "for two weeks", "(the worst) in years"."""
    pub = ctx.pub
    if pub is None:
        return None
    if g("unit2"):
        return _back(pub, 3, _unit(g("unit2"))), pub, True, None
    unit = _unit(g("unit"))
    if g("num") or g("vague"):
        n = _number(g("num"), g("vague"))
    else:
        n = 3 if g("unit").endswith("s") else 1
    return _back(pub, n, unit), pub, True, None


_PREVIOUS = ("last", "previous", "the previous", "this past")


def _r_cal(g, ctx):
    """Calendar periods: "earlier this week", "last month", "late last year", "the weekend"."""
    pub = ctx.pub
    if pub is None:
        return None
    unit = g("unit")
    part = re.sub(r"\s+", " ", g("part") or "")
    if g("the"):
        if unit == "weekend":
            rel = "the"
        elif part and not part.startswith(("earlier", "later")):
            rel = "this"  # "since the beginning of the year"
        else:
            return None
    else:
        rel = re.sub(r"\s+", " ", g("rel"))
    if rel in ("next", "the coming", "the next"):
        return None
    if unit == "weekend":
        sat = _most_recent_weekday(pub, 5)
        if rel in _PREVIOUS and pub.weekday() >= 5:
            sat -= timedelta(days=7)
        return sat, sat + _DAY, False, None
    previous = rel in _PREVIOUS
    first, last = _calendar_period(pub, unit, -1 if previous else 0)
    if part.startswith("earlier"):
        if not previous:  # "earlier this week": from its start to the day before publication
            return first, max(first, pub - _DAY), False, None
        part = "early"
    elif part.startswith("later"):
        if not previous:
            return None
        part = "late"
    first, last = _part(first, last, part)
    return first, last, False, None


def _r_mon(g, ctx):
    """A month without a year: the most recent one (not after publication)."""
    if not g.capitalised("mon"):
        return None
    m = _month(g("mon"))
    part = re.sub(r"\s+", " ", g("part") or "")
    ref = ctx.pub if ctx.pub is not None else ctx.ref
    if ref is None or part == "next":
        return None
    if part == "this":
        y = ref.year
    elif part == "last":
        y = ref.year if m < ref.month else ref.year - 1
    else:
        d = _resolve_year(m, 1, ctx)
        if d is None:
            return None
        y = d.year
    first, last = _part(date(y, m, 1), _month_end(y, m), part if part not in ("this", "last") else "")
    return first, last, False, None


def _r_year(g, ctx):
    y = int(g("year"))
    first, last = _part(date(y, 1, 1), date(y, 12, 31), g("part"))
    return first, last, False, None


def _r_season(g, ctx):
    """Northern-hemisphere seasons: "last summer", "the winter of 2016"."""
    season = g("season")
    m1, m2 = _SEASONS[season]
    rel = re.sub(r"\s+", " ", g("rel") or "")
    ref = ctx.pub if ctx.pub is not None else ctx.ref
    if g("year"):
        y = int(g("year"))  # the winter of 2016: December 2016 - February 2017
    elif ref is None or rel in ("next", "the coming"):
        return None
    else:  # the most recent such season begun by the reference date; "last": not the current one
        y = ref.year if ref >= date(ref.year, m1, 1) else ref.year - 1
        if rel == "last" and ref <= _month_end(y + 1 if m2 < m1 else y, m2):
            y -= 1
    first = date(y, m1, 1)
    last = _month_end(y + 1 if m2 < m1 else y, m2)
    if rel in ("early", "late"):
        first, last = _part(first, last, rel)
    return first, last, False, None


_RESOLVERS = {
    "iso": _r_iso, "num": _r_num, "mdy": _r_md, "dmy": _r_md, "my": _r_my, "wd": _r_wd,
    "rel": _r_rel, "anchor": _r_anchor, "window": _r_window, "ago": _r_ago, "dur": _r_dur,
    "cal": _r_cal, "mon": _r_mon, "year": _r_year, "season": _r_season,
}


def _precision(first: date, last: date) -> int:
    days = (last - first).days + 1
    return 1 if days <= 1 else 2 if days <= 7 else 3


def _explicit(kind: str, g: "_Groups") -> date | None:
    """The calendar date of a fully explicit match (iso, numeric, month-day-year), or None."""
    try:
        if kind == "iso":
            return date(int(g("y")), int(g("m")), int(g("d")))
        if kind == "num":
            return _num_date(int(g("a")), int(g("b")), int(g("y")), None)
        if g("year") and g.capitalised("mon"):
            return date(int(g("year")), _month(g("mon")), int(g("day")))
    except (ValueError, KeyError):
        pass
    return None


def _reference(text: str, low: str, matches: list[re.Match]) -> date | None:
    """Reference date when there is no publication date: the latest explicit date
    (as `latest_explicit_date`), or else the end of the latest month-year
    ("August 2016") of the text; dates after today (by the clock) are ignored, and so
    are the starts of periods ("since the war erupted in March 2011"): the report is
    written some unknown time after those, so they date nothing else of it."""
    today = date.today()
    full = partial = None
    floor = 0
    for m in matches:
        kind, after = m.lastgroup, floor
        floor = m.end()
        if kind not in ("iso", "num", "mdy", "dmy", "my"):
            continue
        g = _Groups(m, kind, text)
        if g("since") or since_clause(low, m.start(), after) is not None:
            continue
        if kind == "my":
            try:
                d = _month_end(int(g("year")), _month(g("mon"))) if g("year") and g.capitalised("mon") else None
            except (ValueError, KeyError):
                d = None
            if d is not None and d <= today and (partial is None or d > partial):
                partial = d
            continue
        d = _explicit(kind, g)
        if d is not None and d <= today and (full is None or d > full):
            full = d
    return full if full is not None else partial


# --------------------------------------------------------------------- public API


def find_dates(text: str, published: date | None) -> list[DateMention]:
    """Every date expression of `text`, resolved against `published`, in text order.

    Non-overlapping (at any position the longest reading wins), spans exact
    (`text[m.start:m.end] == m.text`), periods never past `published`. Without a
    publication date only absolute dates are resolved.
    """
    if isinstance(published, datetime):
        published = published.date()
    pub = published
    low = _lower(text)
    matches = list(_matches(low, _SCANNER, _scanner_runs()))
    ctx = _Ctx(pub, None if pub is not None else _reference(text, low, matches))
    out: list[DateMention] = []
    for m in matches:
        kind = m.lastgroup
        g = _Groups(m, kind, text)
        try:
            r = _RESOLVERS[kind](g, ctx)
        except (ValueError, OverflowError, KeyError):  # "February 30", year 10000 ...
            r = None
        if r is None:
            continue
        first, last, ongoing, end = r
        if g("since"):  # "since February 1": from there to publication
            stop_at = pub if pub is not None else ctx.ref
            if stop_at is None or stop_at < first:
                continue
            last, ongoing = stop_at, True
        if pub is not None:
            if first > pub:  # a future reference
                continue
            if last > pub:
                last = pub
        start, stop = m.start(), end if end is not None else m.end()
        if text[stop - 2:stop] in ("'s", "’s"):
            stop -= 2
        precision = _precision(first, last)
        value = first + timedelta(days=(last - first).days // 2)
        out.append(DateMention(start, stop, text[start:stop], value, precision, first, last, ongoing))
        if precision == 1 and not ongoing:
            ctx.anchor = value
    return out


def explicit_dates(text: str, _low: str | None = None) -> list[tuple[int, int, date]]:
    """Fully explicit calendar dates: with a year, numeric ones only when unambiguous.

    "April 22, 2017", "22 April 2017", "Saturday 22 Apr 2017", "2017-04-22",
    "22/04/2017"; not "04/05/2017" (April 5 or May 4).
    """
    out = []
    for m in _matches(_low if _low is not None else _lower(text), _EXPLICIT, _explicit_runs()):
        kind = m.lastgroup
        d = _explicit(kind, _Groups(m, kind, text))
        if d is not None:
            out.append((m.start(), m.end(), d))
    return out


def latest_explicit_date(text: str, _low: str | None = None) -> date | None:
    """The latest fully explicit date of the text that is not in the future (by the clock)."""
    today = date.today()
    dates = [d for _, _, d in explicit_dates(text, _low) if d <= today]
    return max(dates) if dates else None


_ISO_PREFIX = re.compile(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})(?![\d])")
_HAS_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_SLASHED = re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})\s*$")


def parse_published(value) -> date | None:
    """Lenient parsing of a metadata date: ISO 8601, RFC 822 (RSS), "m/d/yy", free text."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = str(value).strip()
    if not s:
        return None
    try:
        if m := _ISO_PREFIX.match(s):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if m := _SLASHED.match(s):
            a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if y < 100:
                y += 2000 if y < 70 else 1900
            month, day = (a, b) if a <= 12 else (b, a)  # US order unless impossible
            return date(y, month, day)
    except ValueError:
        return None
    try:
        t = email.utils.parsedate_tz(s)
        if t is not None and t[0] > 0:
            return date(t[0], t[1], t[2])
    except (ValueError, TypeError, IndexError):
        pass
    if not _HAS_YEAR.search(s):  # dateutil would make "3" the 3rd of the current month
        return None
    try:
        from dateutil import parser as _parser

        return _parser.parse(s, default=datetime(2000, 1, 1)).date()
    except (ValueError, OverflowError, TypeError, LookupError):
        return None
