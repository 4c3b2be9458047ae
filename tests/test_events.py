"""Event coding on short reports written for these tests: one behaviour per test."""
from datetime import date

import pytest

from kharita.models import Report
from kharita.pipeline import Pipeline

PUBLISHED = date(2020, 2, 5)  # a Wednesday


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline()


def code(pipeline, text: str, published: date = PUBLISHED):
    report = Report.create(text, published=published)
    return report, pipeline(report)


def test_government_recapture(pipeline):
    _, [event] = code(pipeline, "Syrian government forces recaptured the town of Saraqib from rebels on Monday.")
    assert event.sub_event_type == "Government regains territory"
    assert event.event_type == "Battles" and event.disorder_type == "Political violence"
    assert (event.location, event.admin1, event.country) == ("Saraqib", "Idlib", "Syria")
    assert event.actor1 == "Military Forces of Syria (2000-)" and event.inter1 == 1
    assert event.actor2 == "Opposition Rebels (Syria)" and event.inter2 == 2 and event.interaction == 12
    assert (event.event_date, event.time_precision) == (date(2020, 2, 3), 1)
    assert event.plover_event == "FIGHT"


def test_rebel_capture(pipeline):
    _, [event] = code(pipeline, "Rebels seized the village of Kafr Nabl after heavy fighting on Tuesday.")
    assert event.sub_event_type == "Non-state actor overtakes territory"


def test_foreign_air_strike_on_civilians_with_a_sourced_toll(pipeline):
    _, [event] = code(pipeline, "Russian warplanes bombed the town of Ariha in Idlib province on Monday, killing seven "
                                "civilians, according to rescuers.")
    assert event.sub_event_type == "Air/drone strike"
    assert event.actor1 == "Military Forces of Russia" and event.inter1 == 8  # a state's forces abroad
    assert event.actor2 == "Civilians (Syria)" and event.civilian_targeting == "Civilian targeting"
    assert event.interaction == 78
    assert event.fatalities == 7 and event.claims[0].source == "rescuers"


def test_conflicting_tolls_keep_both_claims_and_the_lowest_figure(pipeline):
    _, [event] = code(pipeline, "Government artillery shelled the town of Ariha on Monday, killing five people, "
                                "activists said. The health ministry said three people were killed.")
    assert event.sub_event_type == "Shelling/artillery/missile attack"
    assert event.fatalities == 3
    assert sorted((c.value, c.source) for c in event.claims) == [(3, "The health ministry"), (5, "activists")]


def test_chemical_weapon_is_its_own_event(pipeline):
    _, events = code(pipeline, "Regime helicopters dropped barrel bombs and chlorine on the town of Saraqib in Idlib "
                                "province on Sunday.")
    assert {e.sub_event_type for e in events} == {"Air/drone strike", "Chemical weapon"}
    chemical = next(e for e in events if e.sub_event_type == "Chemical weapon")
    assert chemical.weapons == ["chlorine"]


def test_roadside_bomb(pipeline):
    _, [event] = code(pipeline, "A roadside bomb struck an army patrol near Gao on Sunday, killing two soldiers.")
    assert event.sub_event_type == "Remote explosive/landmine/IED" and event.country == "Mali"
    assert event.fatalities == 2 and "IED" in event.weapons


def test_protest(pipeline):
    _, [event] = code(pipeline, "Hundreds of protesters rallied in Taiz on Friday against rising prices.")
    assert event.sub_event_type == "Peaceful protest" and event.event_type == "Protests"
    assert event.actor1 == "Protesters (Yemen)" and event.inter1 == 6
    assert event.country == "Yemen"


@pytest.mark.parametrize("text", [
    "The foreign ministers met in Geneva on Monday to discuss humanitarian aid for Idlib.",
    "Floods damaged hundreds of homes in Latakia after days of heavy rain.",
    "Rebels threatened to attack Hama if the talks fail.",
    "The army may try to retake Saraqib next month.",
])
def test_no_event(pipeline, text):
    assert code(pipeline, text)[1] == []


def test_a_headline_and_its_story_are_one_event(pipeline):
    _, events = code(pipeline, "Shelling hits Ariha\n\nGovernment artillery shelled Ariha on Monday, local rescuers said.")
    assert len(events) == 1 and events[0].event_date == date(2020, 2, 3)


def test_detail_sentences_join_the_event_before_them(pipeline):
    _, [event] = code(pipeline, "Air strikes hit a clinic in the town of Ariha in Idlib province on Monday. "
                                "Local media said the raids killed two nurses. A medic said six patients were wounded.")
    assert event.fatalities == 2 and event.injuries == 6
    assert event.actor2 == "Health Workers (Syria)"


def test_unknown_village_located_by_its_relation_to_a_known_town(pipeline):
    _, [event] = code(pipeline, "Warplanes struck the village of Kfar Zibdeen, about 8 km east of Saraqib, on Monday.")
    assert event.location == "Kfar Zibdeen"
    assert event.geo_precision == 2 and event.admin1 == "Idlib"
    assert "8 km east of Saraqib" in event.notes


def test_every_field_cites_its_evidence(pipeline):
    report, [event] = code(pipeline, "Russian warplanes bombed the town of Ariha in Idlib province on Monday, "
                                     "killing seven civilians, according to rescuers.")
    assert event.evidence["location"][0].text == "Ariha"
    assert event.evidence["event_date"][0].text == "on Monday"
    assert event.evidence["actor1"][0].text == "Russian warplanes"
    assert "killing seven civilians" in event.evidence["fatalities"][0].text
    for spans in event.evidence.values():
        for span in spans:
            assert report.text[span.start:span.end] == span.text
