"""The dates stage, by example: a report published on Sunday 23 April 2017."""
from datetime import date

import pytest

from kharita.dates import (
    explicit_dates,
    find_dates,
    latest_explicit_date,
    parse_published,
)

PUB = date(2017, 4, 23)  # a Sunday


def one(text: str, published: date | None = PUB):
    """The single date mention of `text` (and its span checks out)."""
    found = find_dates(text, published)
    assert len(found) == 1, found
    m = found[0]
    assert text[m.start:m.end] == m.text
    return m


def d(s: str) -> date:
    return date.fromisoformat(s)


# ---------------------------------------------------------------- the brief's examples


def test_by_friday_is_the_friday_before_publication():
    m = one("By Friday, the pro-Assad forces were advancing on Halfaya.")
    assert m.text == "By Friday"
    assert (m.value, m.precision) == (d("2017-04-21"), 1)


def test_earlier_this_week_is_monday_to_the_day_before_publication():
    m = one("Earlier this week the militias moved into Taibat al-Imam.")
    assert (m.first, m.last) == (d("2017-04-17"), d("2017-04-22"))
    assert m.value == d("2017-04-19")  # midpoint
    assert m.precision == 2


def test_last_month_is_coded_at_its_middle_day():
    m = one("Only last month, a rebel counter-offensive reached Hama.")
    assert (m.first, m.last) == (d("2017-03-01"), d("2017-03-31"))
    # midpoint rule: first + (last - first) // 2 -> the 16th of a 31-day month
    assert m.value == d("2017-03-16")
    assert m.precision == 3
    assert not m.ongoing


def test_over_the_past_month_is_an_ongoing_month_up_to_publication():
    m = one("Latamneh has been attacked with chlorine over the past month.")
    assert m.text == "over the past month"
    assert (m.first, m.last) == (d("2017-03-24"), PUB)
    assert m.ongoing and m.precision == 3


def test_since_a_date_runs_to_publication():
    m = one("Since February 1 the town has been shelled daily.")
    assert m.text == "Since February 1"
    assert (m.first, m.last) == (d("2017-02-01"), PUB)
    assert m.ongoing and m.precision == 3
    assert m.first <= m.value <= m.last


def test_on_april_4():
    m = one("the nerve agent attack on April 4 and")
    assert (m.value, m.precision) == (d("2017-04-04"), 1)


def test_month_year_has_month_precision():
    m = one("It has been controlled by rebels since August 2016.")
    assert m.first == d("2016-08-01") and m.ongoing and m.precision == 3
    m = one("The battle of August 2016 was fierce.")
    assert (m.first, m.last, m.value, m.precision) == (d("2016-08-01"), d("2016-08-31"), d("2016-08-16"), 3)


def test_full_date():
    m = one("A statement dated April 22, 2017 said")
    assert (m.text, m.value, m.precision) == ("April 22, 2017", d("2017-04-22"), 1)


@pytest.mark.parametrize("junk", ["Friday the 45th", "on Febtober 3", "April 45", "February 30, 2017", "99/99/2017"])
def test_junk_yields_nothing(junk):
    assert find_dates(junk, PUB) == []
    assert find_dates(junk, None) == []


def test_december_in_a_january_report_is_last_year():
    m = one("The siege began on December 28.", date(2017, 1, 5))
    assert m.value == d("2016-12-28")


# ---------------------------------------------------------------- days


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Today, we're trying to retrieve three bodies", "2017-04-23"),
        ("clashes this morning", "2017-04-23"),
        ("shelling tonight", "2017-04-23"),
        ("killed yesterday", "2017-04-22"),
        ("airstrikes last night", "2017-04-22"),
        ("the day before yesterday", "2017-04-21"),
        ("on Sunday", "2017-04-23"),  # publication day itself
        ("last Sunday", "2017-04-16"),  # "last" on that weekday: the one before
        ("on Monday", "2017-04-17"),
        ("Saturday night", "2017-04-22"),
        ("early on Tuesday", "2017-04-18"),
        ("three days ago", "2017-04-20"),
        ("Friday the 13th", "2017-01-13"),
    ],
)
def test_day_expressions(text, expected):
    m = one(text)
    assert (m.value, m.precision) == (d(expected), 1)


def test_the_day_before_counts_from_the_previous_date():
    found = find_dates("The hospital was hit on Friday. The day before, a market was struck.", PUB)
    assert [m.value for m in found] == [d("2017-04-21"), d("2017-04-20")]


def test_a_number_after_a_weekday_is_a_day_only_when_it_fits():
    assert one("On Friday 21 April the town fell").value == d("2017-04-21")
    m = one("On Friday 86 people were killed")
    assert m.text == "On Friday" and m.value == d("2017-04-21")


def test_possessive_is_left_out_of_the_span():
    assert one("Saturday's attack killed 12").text == "Saturday"


# ---------------------------------------------------------------- weeks, months, years


@pytest.mark.parametrize(
    "text, first, last, precision, ongoing",
    [
        ("this week", "2017-04-17", "2017-04-23", 2, False),
        ("last week", "2017-04-10", "2017-04-16", 2, False),
        ("late last week", "2017-04-14", "2017-04-16", 2, False),
        ("in the past week", "2017-04-17", "2017-04-23", 2, True),
        ("the past few days", "2017-04-21", "2017-04-23", 2, True),
        ("in recent days", "2017-04-17", "2017-04-23", 2, True),
        ("over the weekend", "2017-04-22", "2017-04-23", 2, False),
        ("earlier this month", "2017-04-01", "2017-04-22", 3, False),
        ("this month", "2017-04-01", "2017-04-23", 3, False),
        ("the past two weeks", "2017-04-10", "2017-04-23", 3, True),
        ("for two weeks", "2017-04-10", "2017-04-23", 3, True),
        ("two weeks ago", "2017-04-06", "2017-04-12", 2, False),
        ("for months", "2017-01-24", "2017-04-23", 3, True),
        ("in March", "2017-03-01", "2017-03-31", 3, False),
        ("in early March", "2017-03-01", "2017-03-10", 3, False),
        ("since March", "2017-03-01", "2017-04-23", 3, True),
        ("last year", "2016-01-01", "2016-12-31", 3, False),
        ("late last year", "2016-09-01", "2016-12-31", 3, False),
        ("this year", "2017-01-01", "2017-04-23", 3, False),
        ("since 2011", "2011-01-01", "2017-04-23", 3, True),
        ("in 2016", "2016-01-01", "2016-12-31", 3, False),
        ("in March 2011", "2011-03-01", "2011-03-31", 3, False),
        ("since the beginning of the year", "2017-01-01", "2017-04-23", 3, True),
        ("since Friday", "2017-04-21", "2017-04-23", 2, True),
        ("in the summer of 2016", "2016-06-01", "2016-08-31", 3, False),
    ],
)
def test_periods(text, first, last, precision, ongoing):
    m = one(text)
    assert m.text == text
    assert (m.first, m.last, m.precision, m.ongoing) == (d(first), d(last), precision, ongoing)
    assert m.value == m.first + (m.last - m.first) // 2


def test_nothing_after_publication():
    for text in ["tomorrow", "next week", "later this week", "talks in May", "on May 3, 2017", "in two weeks"]:
        assert find_dates(text, PUB) == [], text


def test_periods_containing_publication_stop_at_it():
    m = one("in 2017")
    assert m.last == PUB and m.value <= PUB


def test_may_the_verb_and_people_counts_are_not_dates():
    assert find_dates("470000 may have died in 2000 attacks", PUB) == []
    assert find_dates("UN envoy Jan Egeland said; Russia Today reported", PUB) == []


# ---------------------------------------------------------------- a whole report


REPORT = (
    "Only last month, a rebel counter-offensive had reached Hama. Earlier this month, they "
    "completed the recapture. Earlier this week the foreign militias moved into Taibat al-Imam. "
    "By Friday, the pro-Assad forces were advancing on the town of Halfaya, controlled by rebels "
    "since August 2016. Latamneh has been attacked with chlorine munitions over the past month, "
    "near Khan Sheikhoun, hit by a nerve agent attack on April 4. Posted April 22, 2017."
)


def test_a_report_in_text_order_without_overlaps():
    found = find_dates(REPORT, PUB)
    assert [m.text for m in found] == [
        "last month", "Earlier this month", "Earlier this week", "By Friday",
        "since August 2016", "over the past month", "on April 4", "April 22, 2017",
    ]
    for a, b in zip(found, found[1:]):
        assert a.end <= b.start
    assert all(REPORT[m.start:m.end] == m.text and m.value <= PUB for m in found)


def test_without_publication_only_absolute_dates():
    found = find_dates(REPORT, None)
    assert [(m.text, m.first, m.last) for m in found] == [
        # "since" runs to the latest explicit date of the text
        ("since August 2016", d("2016-08-01"), d("2017-04-22")),
        # a month-day takes the latest explicit year of the text
        ("on April 4", d("2017-04-04"), d("2017-04-04")),
        ("April 22, 2017", d("2017-04-22"), d("2017-04-22")),
    ]
    assert find_dates("on April 4 and last week", None) == []  # no year anywhere


def test_without_publication_the_start_of_a_period_is_no_reference():
    """A report with no date of its own: "March 2011" opens the war's period ("since it
    began in March 2011"), the report was written some unknown time after it, so a bare
    "May" cannot be read against it (it would be May 2011, years off)."""
    text = ("A major offensive in May saw the militants encircle the town. Thousands have been killed "
            "since the uprising began in March 2011.")
    assert [m.text for m in find_dates(text, None)] == ["in March 2011"]
    # the same month-year told as a past event still anchors a bare month
    text = "The siege of the town began in March 2016. In May the army broke it."
    found = find_dates(text, None)
    assert [(m.text, m.first) for m in found] == [("in March 2016", d("2016-03-01")), ("In May", d("2016-05-01"))]


@pytest.mark.parametrize("published, first, last", [
    (date(2016, 8, 15), "2016-05-01", "2016-05-31"),  # the last May before publication
    (date(2016, 5, 5), "2016-05-01", "2016-05-05"),  # this May, up to publication
    (date(2016, 3, 10), "2015-05-01", "2015-05-31"),  # May not yet come: the year before
])
def test_a_bare_month_is_the_latest_such_month_by_publication(published, first, last):
    m = one("A major offensive in May saw the militants encircle the town.", published)
    assert (m.first, m.last) == (d(first), d(last))


def test_a_day_of_the_month_of_publication_stays_that_day():
    m = one("The town fell on May 3.", date(2016, 5, 5))
    assert (m.value, m.precision) == (d("2016-05-03"), 1)


@pytest.mark.parametrize("text, clause", [
    ("the first blast since the outbreak of the war in 2011", "since the outbreak of the war "),
    ("deaths from its strikes since Moscow intervened in September 2015", "since Moscow intervened "),
    ("held by rebels ever since they stormed it on March 3", "since they stormed it "),
])
def test_a_date_closing_a_clause_of_since(text, clause):
    from kharita.dates import since_clause

    low = text.lower()
    [m] = find_dates(text, PUB)
    at = since_clause(low, m.start)
    assert at is not None and low[at:m.start] == clause.lower()


@pytest.mark.parametrize("text", [
    "the town has been quiet since the truce, and in 2015 it was shelled",  # a comma ends the clause
    "rebels held it since the war and in 2015 they lost it",  # so does a conjunction
    "an attack since 12 fighters died in 2015",  # a number: no clause of words
    "since the talks between the two sides that the envoy had hosted in the capital in 2015",  # too long
])
def test_no_clause_of_since(text):
    from kharita.dates import since_clause

    [m] = [m for m in find_dates(text, PUB) if "2015" in m.text]
    assert since_clause(text.lower(), m.start) is None


# ---------------------------------------------------------------- explicit dates


def test_explicit_dates():
    text = "Published 2017-04-20. Updated Saturday 22 April 2017, then 23/04/2017; not 04/05/2017 nor April 4."
    got = explicit_dates(text)
    assert [x[2] for x in got] == [d("2017-04-20"), d("2017-04-22"), d("2017-04-23")]
    assert all(text[s:e] for s, e, _ in got)
    assert text[got[1][0]:got[1][1]] == "Saturday 22 April 2017"
    assert latest_explicit_date(text) == d("2017-04-23")
    assert latest_explicit_date("no dates here, only Friday") is None


# ---------------------------------------------------------------- metadata dates


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2017-04-23", "2017-04-23"),
        ("2017-04-23T08:00:00Z", "2017-04-23"),
        ("Sun, 23 Apr 2017 08:00:00 +0000", "2017-04-23"),
        ("4/23/17", "2017-04-23"),
        ("4/5/17", "2017-04-05"),
        ("23/4/2017", "2017-04-23"),
        ("April 23, 2017", "2017-04-23"),
    ],
)
def test_parse_published(value, expected):
    assert parse_published(value) == d(expected)


@pytest.mark.parametrize("value", ["", "garbage", "3", "Febtober 3", "2017-13-45", None])
def test_parse_published_gives_up_quietly(value):
    assert parse_published(value) is None


def test_head_scan_finds_what_the_plain_word_boundary_pattern_finds():
    """`_heads` is written for speed; on random text it must find the spans the plain
    `\\b(?:words)\\b|\\b(?:19|20)\\d\\d(?!\\d)` pattern finds."""
    import random
    import re

    from kharita.dates import _HEAD_WORDS, _heads

    plain = re.compile(r"\b(?:" + "|".join(sorted(set(_HEAD_WORDS), key=len, reverse=True)) + r")\b"
                       + r"|\b(?:19|20)\d\d(?!\d)")
    rng = random.Random(3)
    pieces = sorted(set(_HEAD_WORDS)) + ["2017", "19999", "1920s", "a2017", "x", "_", "-", "é", "\n", "mayday", "ago"]
    for _ in range(20000):
        text = "".join(rng.choice(pieces) + rng.choice(["", " ", "_", ".", "9", "s"]) for _ in range(rng.randint(1, 8)))
        assert list(_heads(text)) == [m.span() for m in plain.finditer(text)], text


def test_letter_runs_of_a_pattern():
    from kharita.dates import _letter_runs, _scanner_runs

    assert _letter_runs(r"\bin\s+(?:the\s+)?(?:city|town)s?(?=\s)") == {"in", "the", "city", "citys", "town", "towns"}
    assert _letter_runs(r"(?P<d>\d\d?)(?:st|nd)\b") == {"st", "nd"}
    assert _letter_runs(r"(?:ab)+") is None  # letters repeated without bound
    assert _letter_runs(r"day\w") is None  # a class holding letters
    runs = _scanner_runs()
    assert {"yesterday", "before", "the", "st", "since", "ago"} <= runs
    assert not {"city", "army", "russia"} & runs  # "russia" only in a look-behind


def test_tries_skipped_by_letter_runs_change_nothing():
    """`_matches` skips a try when a run of letters between it and the head word is no
    run a date can hold; on random text it must find what trying every word finds."""
    import random

    from kharita.dates import _EXPLICIT, _SCANNER, _explicit_runs, _lower, _matches, _scanner_runs

    rng = random.Random(11)
    pieces = ["in", "the", "on", "of", "a", "an", "since", "last", "early", "late", "city", "Aleppo", "army",
              "Friday", "Friday's", "March", "May", "3rd", "21", "2017", "12/04/2017", "2016-05-01", "day", "days",
              "ago", "week", "month", "before", "after", "the day before", "two", "few", "years", "morning", ",",
              ".", "-", ";", "\n", "spring", "fall", "tomorrow", "yesterday", "for", "hours", "mid", "at least"]
    for _ in range(1500):
        low = _lower(" ".join(rng.choice(pieces) for _ in range(rng.randint(1, 14))))
        for scanner, runs in ((_SCANNER, _scanner_runs()), (_EXPLICIT, _explicit_runs())):
            assert [m.span() for m in _matches(low, scanner, runs)] == [m.span() for m in _matches(low, scanner)], low
