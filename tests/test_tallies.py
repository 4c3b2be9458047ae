"""Running counts over a period are kept as claims of their report, never as events."""
from datetime import date

import pytest

from kharita.models import Report
from kharita.pipeline import Pipeline
from kharita.store import Store

PUBLISHED = date(2017, 4, 23)
TALLY = ("Since February 1, government and Russian jets have struck more than a dozen medical facilities across "
         "Idlib and Hama provinces, the health directorate said. The bombing has destroyed at least five "
         "hospitals, two field hospitals and one medical warehouse.")


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline()


def annotate(pipeline, text):
    return pipeline.annotate(Report.create(text, published=PUBLISHED))


def test_a_tally_and_its_continuation_are_counts_with_period_places_and_source(pipeline):
    doc = annotate(pipeline, TALLY)
    got = [(t.value, t.approximate, t.unit, t.verb) for t in doc.tallies]
    assert got == [(12, True, "medical facilities", "struck"), (5, True, "hospitals", "destroyed"),
                   (2, False, "field hospitals", "destroyed"), (1, False, "medical warehouse", "destroyed")]
    first = doc.tallies[0]
    assert first.since == date(2017, 2, 1) and first.period == "Since February 1"
    assert first.places == ["Idlib", "Hama"] and first.source == "the health directorate"
    assert [s.text for s in first.evidence[:2]] == ["more than a dozen medical facilities", "Since February 1"]
    assert all(doc.text[s.start:s.end] == s.text for t in doc.tallies for s in t.evidence)
    assert doc.events == []  # a tally is not an event


def test_a_toll_of_one_event_is_no_tally(pipeline):
    doc = annotate(pipeline, "Air strikes on the town of Saraqib killed 12 civilians on Monday.")
    assert doc.tallies == [] and len(doc.events) == 1


def test_a_campaign_without_a_count_is_no_tally(pipeline):
    doc = annotate(pipeline, "Government forces have bombarded the town of Qaboun for months.")
    assert doc.tallies == []


def test_tallies_are_stored_with_their_report_and_survive_reingest(pipeline, tmp_path):
    store = Store(tmp_path / "k.db")
    report = Report.create(TALLY, published=PUBLISHED)
    doc = pipeline.annotate(report)
    assert store.add(report, doc.events, doc.control, tallies=doc.tallies)
    assert not store.add_many([(report, doc.events, doc.control, doc.tallies)]) == [True]  # the same report: no-op
    stored = store.tallies(report.id)
    assert [t for _, t in stored] == doc.tallies
    assert store.tallies("no-such-report") == []
