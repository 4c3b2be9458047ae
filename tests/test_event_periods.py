"""When an event happened, when the sentence telling it also names a period: an ongoing
campaign is no event, a comparison's yardstick is no date, a past event the report refers
back to keeps its own date. Reports written for these tests, published on Wednesday
5 February 2020 unless said otherwise."""
from datetime import date
from pathlib import Path

import pytest

from kharita.dates import since_clause
from kharita.evaluation import fakes
from kharita.lexicon import fold
from kharita.models import Report
from kharita.pipeline import Pipeline

SHARED = Path(__file__).resolve().parents[1].parent / "shared"  # as in conftest.py
FAKES_DEV = SHARED / "eval" / "fakes" / "dev.csv"

PUBLISHED = date(2020, 2, 5)
MONDAY = date(2020, 2, 3)


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline()


def annotate(pipeline, text: str, published: date = PUBLISHED):
    return pipeline.annotate(Report.create(text, published=published))


def events(pipeline, text: str, published: date = PUBLISHED):
    return annotate(pipeline, text, published).events


def date_evidence(event) -> list[str]:
    return [span.text for span in event.evidence.get("event_date", [])]


# ------------------------------------------------------------- ongoing campaigns: no event


@pytest.mark.parametrize("text", [
    "Jets have struck the town of Saraqib in Idlib province since 2015.",
    "Rebels have fought government forces for control of Saraqib since 2012.",
    "Jets have pounded the town of Saraqib for months.",
    "The town of Saraqib has been under rebel control since 2015 and is bombed by government jets every week.",
    # the period opened by a clause of "since": the strikes span it, they did not happen in 2015
    ("Russian warplanes have killed hundreds of civilians in Idlib province with their strikes since "
     "Moscow intervened in 2015."),
])
def test_an_ongoing_campaign_is_no_event(pipeline, text):
    assert events(pipeline, text) == []


def test_a_campaign_told_after_the_event_adds_no_date_to_it(pipeline):
    [event] = events(pipeline, "Government warplanes struck the market in Saraqib on Monday, killing nine people. "
                               "Saraqib has been hit by air strikes almost daily since 2015.")
    assert (event.sub_event_type, event.location) == ("Air/drone strike", "Saraqib")
    assert (event.event_date, event.time_precision) == (MONDAY, 1)
    assert date_evidence(event) == ["on Monday"]
    assert event.fatalities == 9


def test_a_dated_strike_in_a_campaign_sentence_is_an_event(pipeline):
    [event] = events(pipeline, "Jets have pounded the town of Saraqib for months, and on Monday a strike killed "
                               "ten people there.")
    assert (event.event_date, event.time_precision, event.fatalities) == (MONDAY, 1, 10)


def test_a_campaign_clause_beside_the_event_does_not_date_it(pipeline):
    # "for more than a year" belongs to the siege the relative clause tells, not to the raids
    [event] = events(pipeline, "Government helicopters dropped barrel bombs on the town of Saraqib near an airbase "
                               "which rebels have besieged for more than a year.")
    assert event.sub_event_type == "Air/drone strike"
    assert (event.event_date, event.date_source) == (PUBLISHED, "published")


def test_a_running_count_over_a_long_period_is_a_tally_not_an_event(pipeline):
    doc = annotate(pipeline, "Air strikes have destroyed 12 hospitals in Idlib province since October.")
    assert doc.events == []
    [tally] = doc.tallies
    assert (tally.value, tally.unit, tally.since) == (12, "hospitals", date(2019, 10, 1))


def test_a_few_days_since_a_day_still_date_an_event(pipeline):
    # four days are no campaign: the event is coded over them (ACLED precision 2)
    [event] = events(pipeline, "Air strikes have destroyed two hospitals in Idlib province since February 1.")
    assert event.sub_event_type == "Air/drone strike"
    assert (event.event_date, event.time_precision) == (MONDAY, 2)


# ------------------------------------------------------------- comparisons: the yardstick is no date


def test_the_first_bombing_since_the_war_began_is_dated_by_its_own_day(pipeline):
    [event] = events(pipeline, "The first bombing in the town of Jableh since the start of the war in 2011 left "
                               "four people dead on Monday.")
    assert (event.event_date, event.time_precision) == (MONDAY, 1)
    assert date_evidence(event) == ["on Monday"]


def test_the_worst_attack_in_years_is_dated_by_the_report(pipeline):
    [event] = events(pipeline, "The car bomb that struck the town of Jableh was the deadliest attack there in years.")
    assert event.sub_event_type == "Remote explosive/landmine/IED"
    assert (event.event_date, event.date_source) == (PUBLISHED, "published")


# ------------------------------------------------------------- past events keep their own date


def test_a_past_attack_the_report_refers_back_to_keeps_its_date(pipeline):
    [event] = events(pipeline, "The sarin attack on the Damascus suburb of Ghouta in August 2013 killed hundreds "
                               "of civilians.")
    assert event.sub_event_type == "Chemical weapon"
    assert (event.event_date, event.time_precision) == (date(2013, 8, 16), 3)
    assert date_evidence(event) == ["in August 2013"]


def test_the_event_a_since_clause_tells_keeps_its_day(pipeline):
    # the shelling since then is a campaign; the capture that opened the period is an event of its day
    [event] = events(pipeline, "The town of Saraqib has been shelled almost daily since government forces "
                               "captured it on October 12, 2019.")
    assert (event.sub_event_type, event.location) == ("Government regains territory", "Saraqib")
    assert (event.event_date, event.time_precision) == (date(2019, 10, 12), 1)


def test_a_bare_month_is_the_last_such_month_before_publication(pipeline):
    [event] = events(pipeline, "A major offensive in May saw militants encircle the town of Saraqib.",
                     published=date(2016, 8, 15))
    assert (event.event_date, event.time_precision) == (date(2016, 5, 16), 3)


def test_a_day_of_the_month_of_publication_stays_that_day(pipeline):
    [event] = events(pipeline, "Government forces recaptured the town of Saraqib on May 3.", published=date(2020, 5, 5))
    assert (event.event_date, event.time_precision) == (date(2020, 5, 3), 1)


# ------------------------------------------------------------- on a real benchmark (../shared)


@pytest.mark.shared
def test_events_dated_years_before_their_report_are_past_events_with_their_own_date(pipeline):
    """On FA-KES dev, an event dated over a year before its report is one the report refers
    back to with its own date ("in August 2013"): never a campaign's or a comparison's period."""
    if not FAKES_DEV.exists():
        pytest.skip("../shared is not here: FA-KES dev is not available")
    seen = 0
    for article in fakes.read_csv(FAKES_DEV):
        report = fakes.report_for(article)
        doc = pipeline.annotate(report)
        mentions = {(d.start, d.end): d for d in doc.dates}
        for event in doc.events:
            if report.published is None or (report.published - event.event_date).days <= 365:
                continue
            seen += 1
            [span] = event.evidence["event_date"]
            mention = mentions[(span.start, span.end)]
            assert not mention.ongoing, (article.unit_id, span.text)
            assert since_clause(fold(report.text), mention.start) is None, (article.unit_id, span.text)
    assert seen > 0  # the benchmark has such past events (the 2013 Ghouta attack among them)
