"""A long war's whole toll and its origin story are background, never an event.

Wire copy about a long war closes with the war's toll ("more than 300,000 killed since the
conflict began") and how it began ("with protests in 2011"). The toll is a tally claim
(the tallies stage), not an event's fatalities; the origin story yields no event. Events
the text refers back to, and the tolls of recent strikes, stay events.
"""
from datetime import date

import pytest

from kharita.background import origin_spans, within
from kharita.casualties import parse_number, running_totals
from kharita.doc import Doc, Sentence
from kharita.lexicon import fold
from kharita.models import Report
from kharita.pipeline import Pipeline

PUBLISHED = date(2019, 6, 12)


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline()


def annotate(pipeline, text):
    return pipeline.annotate(Report.create(text, published=PUBLISHED))


# -- conflict-wide tolls: tallies, not figures of an event ---------------------------

WAR_TOLLS = [
    ("More than 410,000 people have been killed since the civil war broke out in 2012.", 410000),
    ("At least 95,000 people have died in the country's seven-year war.", 95000),
    ("The conflict, which has killed more than 120,000 people, shows no sign of ending.", 120000),
    ("Yemen's war has left more than 85,000 people dead since erupting in 2015.", 85000),
    ("The war has since killed more than 60,000 people, monitors estimate.", 60000),
    ("Nearly 70,000 civilians have been killed over the course of the war.", 70000),
    ("Some 45,000 people were killed in over four years of turmoil.", 45000),
    ("More than 250,000 people have been killed and millions forced from their homes.", 250000),
    ("Since the uprising began, more than 30,000 people have been killed.", 30000),
]


@pytest.mark.parametrize("sentence,value", WAR_TOLLS)
def test_a_war_wide_toll_is_a_tally_claim_not_a_casualty(pipeline, sentence, value):
    doc = annotate(pipeline, sentence)
    assert doc.casualties == []
    assert [t.value for t in doc.tallies] == [value]
    assert doc.tallies[0].unit in ("people", "civilians") and doc.tallies[0].period
    assert doc.events == []


def test_the_strike_keeps_its_toll_when_the_report_closes_with_the_war_toll(pipeline):
    doc = annotate(pipeline, "Government air strikes on a market in the town of Saraqib killed 14 civilians on "
                             "Tuesday, rescuers said. The war, which erupted after a crackdown on protesters in "
                             "2011, has killed more than 370,000 people.")
    assert [(e.sub_event_type, e.location, e.fatalities) for e in doc.events] == [
        ("Air/drone strike", "Saraqib", 14)]
    assert [t.value for t in doc.tallies] == [370000]


def test_a_recent_toll_in_the_present_perfect_stays_the_event_figure(pipeline):
    doc = annotate(pipeline, "Russian air strikes have killed more than 20 people in the town of Ariha on Monday, "
                             "the war monitor said.")
    assert [(e.sub_event_type, e.fatalities) for e in doc.events] == [("Air/drone strike", 20)]
    assert doc.tallies == []


def test_a_comparison_with_the_war_is_no_period(pipeline):
    doc = annotate(pipeline, "An air strike on a market in Maarat al-Numan killed 45 civilians on Tuesday, the "
                             "deadliest attack since the war began.")
    assert [(e.sub_event_type, e.fatalities) for e in doc.events] == [("Air/drone strike", 45)]
    assert doc.tallies == []


def test_a_figure_in_another_clause_than_the_period_stays(pipeline):
    doc = annotate(pipeline, "Shelling killed nine people in Douma on Monday, in a district besieged since 2013.")
    assert [c.value for c in doc.casualties] == [9]
    assert [e.fatalities for e in doc.events] == [9]


def test_running_totals_leave_comparisons_out():
    text = fold("It was the worst bombing since 2016 and the toll since 2016 is 900.")
    cues = running_totals(text, 0, len(text))
    assert [text[c.start():c.end()] for c in cues] == ["since 2016"] and cues[0].start() > text.index("toll")


# -- the war's origin story: no event -----------------------------------------------

ORIGIN = [
    "The war began in March 2011 with peaceful protests against the government in Deraa.",
    "Homs has suffered heavily in the conflict, which erupted after security forces cracked down on protesters.",
    "The uprising started as peaceful demonstrations in Daraa before spreading across the country.",
    "A crackdown on protests in Deraa, which sparked an armed rebellion, was led by the army.",
]


@pytest.mark.parametrize("sentence", ORIGIN)
def test_the_origin_story_of_the_war_yields_no_event(pipeline, sentence):
    assert annotate(pipeline, sentence).events == []


def test_figures_in_the_origin_story_join_no_event(pipeline):
    doc = annotate(pipeline, "Air strikes hit the town of Kafranbel on Sunday, killing five people. The conflict "
                             "began after troops shot dead dozens of protesters in Deraa.")
    assert [(e.location, e.fatalities) for e in doc.events] == [("Kafranbel", 5)]


def origin_of(text: str) -> list[tuple[int, int]]:
    """`origin_spans` of a one-sentence report."""
    doc = Doc(Report.create(text), sentences=[Sentence(0, len(text))])
    return origin_spans(doc, fold(text))


def test_origin_spans_cover_how_the_war_began_and_stop_at_its_later_course():
    text = ("Aleppo was ravaged by the conflict that began in 2011 with anti-government protests and has since "
            "killed thousands.")
    spans = origin_of(text)
    assert [text[a:b].strip() for a, b in spans] == ["conflict that began in 2011 with anti-government protests"]
    assert within(spans, text.index("protests"), text.index("protests") + 8)
    assert not within(spans, text.index("killed"), text.index("killed") + 6)


def test_a_since_clause_is_background_only_up_to_its_comma():
    text = "Since the war began in 2011, jets have bombed the hospital in Kafr Nabl four times."
    spans = origin_of(text)
    assert [text[a:b] for a, b in spans] == ["war began in 2011"]


# -- what is not background --------------------------------------------------------

def test_a_past_attack_the_report_refers_back_to_stays_an_event(pipeline):
    doc = annotate(pipeline, "The sarin attack on the town of Khan Sheikhoun in April 2017 killed more than 80 "
                             "people. The war has killed hundreds of thousands since it erupted in 2011.")
    assert [(e.sub_event_type, e.fatalities, e.event_date.year, e.event_date.month) for e in doc.events] == [
        ("Chemical weapon", 80, 2017, 4)]
    assert [t.value for t in doc.tallies] == [100]  # "hundreds": ACLED's value for it


def test_a_protest_of_the_day_stays_an_event(pipeline):
    doc = annotate(pipeline, "Hundreds of protesters rallied in Deraa on Friday against the government.")
    assert [e.sub_event_type for e in doc.events] == ["Peaceful protest"]


def test_the_war_monitor_is_not_the_war(pipeline):
    text = "The war monitor said the offensive began with shelling of Khan Sheikhoun on Monday."
    assert origin_of(text) == []


def test_a_toll_since_a_date_leaves_the_strike_toll_of_another_clause(pipeline):
    doc = annotate(pipeline, "Air strikes killed 12 people in the town of Ariha on Monday, where more than 300 "
                             "people have died since April.")
    assert [e.fatalities for e in doc.events] == [12]
    assert [(t.value, t.period) for t in doc.tallies] == [(300, "since April")]


@pytest.mark.parametrize("phrase,value", [("one million", 1_000_000), ("11 million", 11_000_000),
                                          ("two thousand", 2000), ("three hundred", 300)])
def test_large_numbers(phrase, value):
    assert parse_number(phrase) == (value, False)


def test_displacement_in_millions_gives_no_period_name_when_a_cue_does(pipeline):
    doc = annotate(pipeline, "Hundreds of thousands of people have been killed and 11 million displaced since the "
                             "conflict began in 2011.")
    assert {(t.value, t.unit) for t in doc.tallies} == {(100, "people"), (11_000_000, "displaced")}
    assert all(t.period == "since the conflict began" for t in doc.tallies)
