"""End to end on the flagship sample (northern Hama and Idlib, April 2017).

Asserts the must-rows (1-6, 8) and seven of the eight should-rows (7, 9-14) of
`../shared/samples/000_0935f1ffdb46c564.expected.md` (sub-event type, place, admin1, date,
actors) and that every filled field of every event cites evidence spans that are exact
substrings of the report. Skips without ../shared.
"""
from __future__ import annotations

from datetime import date

import pytest

from kharita.models import METADATA_FIELDS
from kharita.names import name_key
from kharita.pipeline import Pipeline


@pytest.fixture(scope="module")
def flagship(flagship_report):
    return flagship_report, Pipeline()(flagship_report)


def find(events, sub_event_type, *names):
    keys = {name_key(n) for n in names}
    return [e for e in events if e.sub_event_type == sub_event_type and name_key(e.location) in keys]


def test_row1_government_regains_halfaya(flagship):
    _, events = flagship
    [event] = find(events, "Government regains territory", "Halfaya")
    assert event.admin1 == "Hama" and event.country == "Syria"
    assert event.event_date == date(2017, 4, 23) and event.time_precision == 1
    assert event.actor1 == "Military Forces of Syria (2000-)"
    assert event.geo_precision == 1 and event.geonames_id is not None


def test_row3_air_strikes_on_latamneh_over_the_past_month(flagship):
    _, events = flagship
    [event] = find(events, "Air/drone strike", "Latamneh", "Al-Lataminah", "Lataminah")
    assert event.admin1 == "Hama"
    assert (event.event_date.year, event.event_date.month, event.time_precision) == (2017, 4, 3)
    assert {"incendiary", "thermobaric"} <= set(event.weapons)
    assert "Russia" in event.actor1


def test_row5_strike_on_the_hospital_near_abdin_keeps_both_claims(flagship):
    _, events = flagship
    [event] = find(events, "Air/drone strike", "Abdin")
    assert event.admin1 == "Idlib"
    assert event.event_date == date(2017, 4, 23)
    assert event.fatalities == 3  # the lowest figure of two sources
    claims = {(c.value, c.victims, c.source) for c in event.claims if c.kind == "fatalities"}
    assert (3, "doctors", "Pro-opposition media") in claims
    assert (4, "patients", "A first responder") in claims


def test_row6_nerve_agent_attack_on_khan_sheikhoun(flagship):
    _, events = flagship
    [event] = find(events, "Chemical weapon", "Khan Sheikhoun", "Khan Shaykhun")
    assert event.admin1 == "Idlib"
    assert event.event_date == date(2017, 4, 4) and event.time_precision == 1
    assert "nerve agent" in event.weapons


def test_every_filled_field_has_exact_evidence(flagship):
    report, events = flagship
    assert events
    for event in events:
        for name in event.filled_fields():
            if name in ("event_date", "year", "time_precision", "date_source") and event.date_source == "published":
                continue  # the date came from the report's metadata, not its text
            spans = event.evidence.get(name)
            assert spans, f"{event.sub_event_type} at {event.location}: no evidence for {name}"
            for span in spans:
                assert report.text[span.start:span.end] == span.text
        assert not METADATA_FIELDS & set(event.evidence)
        nested = [s for c in event.claims for s in c.evidence]
        if event.health:
            nested += [s for spans in event.health.evidence.values() for s in spans]
        for span in nested:
            assert report.text[span.start:span.end] == span.text


def test_health_register_has_the_hospital_strike_with_both_claims(flagship):
    _, events = flagship
    [strike] = find(events, "Air/drone strike", "Abdin")
    record = strike.health
    assert record is not None and record.attack_type == "heavy weapons"
    assert record.facility_damage == "destroyed"
    assert record.health_workers_killed == 3 and record.patients_killed == 4
    assert {"health personnel", "patients"} <= set(record.resources_affected)
    assert record.certainty == "confirmed" and record.perpetrator_named
    sources = {c.source for c in strike.claims if c.victims in ("doctors", "patients")}
    assert sources == {"Pro-opposition media", "A first responder"}
    assert not any(e.health for e in events if e.sub_event_type == "Chemical weapon")


SECOND_REPORT = (
    "Strike destroys cave hospital in Idlib countryside\n\n"
    "An air strike on Sunday destroyed an underground hospital near the village of Abdin in southern "
    "Idlib province, local rescuers said. A nurse at a nearby clinic said five people were killed.\n"
)


def test_twice_or_with_a_second_report_the_hospital_strike_is_one_event(flagship_report, tmp_path):
    from kharita.models import Report
    from kharita.store import Store

    pipeline = Pipeline()
    store = Store(tmp_path / "k.db")
    store.add(flagship_report, pipeline(flagship_report))
    count = store.counts()["events"]
    store.add(flagship_report, pipeline(flagship_report))
    assert store.counts()["events"] == count

    second = Report.create(SECOND_REPORT, published=date(2017, 4, 23))
    store.add(second, pipeline(second))
    strikes = [e for e in store.events() if e.sub_event_type == "Air/drone strike" and e.location == "Abdin"]
    assert len(strikes) == 1
    [strike] = strikes
    assert set(strike.report_ids) == {flagship_report.id, second.id}
    assert strike.fatalities == 3  # three doctors (pro-opposition media) is the lowest figure
    assert {c.value for c in strike.claims if c.kind == "fatalities"} >= {3, 4, 5}
    assert store.counts()["events"] == count  # joined, not added


def test_row2_taibat_al_imam_earlier_this_week(flagship):
    _, events = flagship
    [event] = find(events, "Government regains territory", "Taibat al-Imam", "Tayyibat al Imam")
    assert event.admin1 == "Hama" and event.time_precision == 2
    assert date(2017, 4, 17) <= event.event_date <= date(2017, 4, 23)


def test_row4_chlorine_on_latamneh(flagship):
    _, events = flagship
    [event] = find(events, "Chemical weapon", "Latamneh")
    assert event.admin1 == "Hama" and event.weapons == ["chlorine"]
    assert (event.event_date.month, event.time_precision) == (4, 3)


def test_row8_bombing_of_qaboun(flagship):
    _, events = flagship
    strikes = find(events, "Air/drone strike", "Qaboun")
    assert strikes and all(e.admin1 == "Damascus" for e in strikes)
    assert all(e.actor1 == "Military Forces of Syria (2000-)" for e in strikes)


# -- should-rows ---------------------------------------------------------------------


def test_row7_khan_sheikhoun_hospital_bombed_during_the_assault(flagship):
    _, events = flagship
    [event] = find(events, "Air/drone strike", "Khan Sheikhoun", "Khan Shaykhun")
    assert event.admin1 == "Idlib"
    assert event.event_date == date(2017, 4, 4) and event.time_precision == 1
    assert event.actor1 == "Military Forces of Syria (2000-)"


def test_row9_advance_on_halfaya_by_friday(flagship):
    _, events = flagship
    [event] = find(events, "Armed clash", "Halfaya")
    assert event.event_date == date(2017, 4, 21) and event.time_precision == 1  # "By Friday", told on Sunday
    assert event.actor1 == "Military Forces of Syria (2000-)"


def test_row10_russian_bombing_of_halfaya_in_the_photo_of_april_22(flagship):
    _, events = flagship
    [event] = find(events, "Air/drone strike", "Halfaya")
    assert event.event_date == date(2017, 4, 22)
    assert event.actor1 == "Military Forces of Russia"


def test_row11_rebel_counter_offensive_gains_ground_last_month(flagship):
    _, events = flagship
    [event] = find(events, "Non-state actor overtakes territory", "Hama", "Hamah")  # "reached as close as 5 km from"
    assert event.admin1 == "Hama" and event.actor1 == "Opposition Rebels (Syria)"
    assert (event.event_date.year, event.event_date.month, event.time_precision) == (2017, 3, 3)


def test_row12_recapture_north_of_hama_earlier_this_month(flagship):
    _, events = flagship
    [event] = find(events, "Government regains territory", "Hama", "Hamah")
    assert event.geo_precision == 2 and event.time_precision == 3
    assert (event.event_date.year, event.event_date.month) == (2017, 4)


def test_row13_rebel_offensive_in_jobar_last_month(flagship):
    _, events = flagship
    [event] = find(events, "Armed clash", "Jobar")  # its own clause, not outranked by the airstrikes after "but"
    assert event.admin1 == "Damascus"
    assert (event.event_date.year, event.event_date.month, event.time_precision) == (2017, 3, 3)
    assert event.actor1 == "Opposition Rebels (Syria)"


def test_row14_free_idlib_army_mobilises(flagship):
    _, events = flagship
    [event] = [e for e in events if e.actor1 == "Free Idlib Army"]
    assert event.event_type == "Strategic developments" and event.admin1 == "Hama"
    assert event.geo_precision == 3
