import pytest

from kharita import casualties, text
from kharita.doc import Doc
from kharita.models import Report


def figures(sentence: str):
    doc = Doc(Report.create(sentence))
    text.annotate(doc)
    casualties.annotate(doc)
    return [(c.kind, c.value, c.victims, c.approximate, c.source.source if c.source else None) for c in doc.casualties]


@pytest.mark.parametrize("sentence, expected", [
    ("Local media said the raid killed three doctors.", [("fatalities", 3, "doctors", False, "Local media")]),
    ("A medic said four patients were killed.", [("fatalities", 4, "patients", False, "A medic")]),
    ("At least 16 civilians were killed and 30 others wounded, according to the health ministry.",
     [("fatalities", 16, "civilians", True, "the health ministry"),
      ("injuries", 30, "others", False, "the health ministry")]),
    ("The death toll rose to twenty-five, a rescuer told reporters.", [("fatalities", 25, None, False, None)]),
    ("Dozens of people were killed in the market.", [("fatalities", 12, "people", True, None)]),
    ("Shelling wounded 1,200 residents over the week.", [("injuries", 1200, "residents", False, None)]),
])
def test_figures_and_their_sources(sentence, expected):
    assert figures(sentence) == expected


@pytest.mark.parametrize("sentence", [
    "Residents travel up to 100 km (62 miles) to reach a hospital.",
    "The war began in 2011 and has not stopped.",
    "Seven hospitals have been rebuilt since the spring.",
])
def test_numbers_that_are_not_casualties(sentence):
    assert figures(sentence) == []


def test_parse_number():
    assert casualties.parse_number("three") == (3, False)
    assert casualties.parse_number("twenty five") == (25, False)
    assert casualties.parse_number("two hundred") == (200, False)
    assert casualties.parse_number("dozens") == (12, True)
    assert casualties.parse_number("1,200") == (1200, False)
    assert casualties.parse_number("umpteen") is None


@pytest.mark.parametrize("sentence, expected", [
    # A year before the figure is no figure; the count after it is.
    ("Published March 3 2019 Twenty-two villagers were killed in the raid.", [("fatalities", 22, "villagers")]),
    # The count of everyone covers the groups it includes.
    ("Forty people, including 11 children, were killed on Sunday.", [("fatalities", 40, "people")]),
    ("Death toll in Monday's bombing of the market rises to 31.", [("fatalities", 31, None)]),
    # "killed 5" is not the toll in "2 killed, 5 injured".
    ("Two killed, 5 injured in rocket attack on the town", [("fatalities", 2, None), ("injuries", 5, None)]),
])
def test_figures_in_headline_and_lead_wording(sentence, expected):
    assert [f[:3] for f in figures(sentence)] == expected


def test_a_tally_of_the_past_months_is_not_a_toll():
    assert figures("More than 3,000 people have been killed during the past month, the monitor said.") == []


def test_eliminated_counts_the_dead_only_with_the_people_it_counts():
    assert [f[:3] for f in figures("Troops eliminated 70 terrorists in the desert.")] == [
        ("fatalities", 70, "terrorists")]
    assert figures("The army destroyed 5 tanks and two depots.") == []
