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
