"""Reports of the same happening become one event; a wrong merge can be split for good."""
from datetime import date, timedelta

import pytest

from kharita import merge
from kharita.models import Report
from kharita.pipeline import Pipeline
from kharita.store import Store

FIRST = ("Warplanes struck a hospital in the town of Ariha in Idlib province on Monday, killing four "
         "patients, a medic said.")
SECOND = ("Air strikes hit the main hospital of Ariha, in Idlib province, on Monday. Local media said the raid "
          "killed three doctors.")
ELSEWHERE = "Warplanes struck the town of Taftanaz in Idlib province on Monday, killing two civilians, rescuers said."


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline()


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "k.db")


def ingest(store, pipeline, text, published=date(2020, 2, 5), url=None):
    report = Report.create(text, published=published, url=url)
    store.add(report, pipeline(report))
    return report


def test_two_reports_of_one_strike_are_one_event_with_both_claims(store, pipeline):
    first = ingest(store, pipeline, FIRST)
    second = ingest(store, pipeline, SECOND)
    [event] = store.events()
    assert set(event.report_ids) == {first.id, second.id}
    assert {(c.value, c.victims, c.source) for c in event.claims} == {
        (4, "patients", "a medic"), (3, "doctors", "Local media")}
    assert event.fatalities == 3  # ACLED: the lowest of the sources' figures
    mentions = store.mentions(event.event_id_cnty)
    assert len(mentions) == 2
    assert any("same event type" in reason and "km apart" in reason for _, reason in mentions)
    assert {s.report_id for spans in event.evidence.values() for s in spans} == {first.id, second.id}


def test_the_same_report_twice_is_one_report_and_one_event(store, pipeline):
    ingest(store, pipeline, FIRST)
    ingest(store, pipeline, FIRST)
    assert store.counts() == {"reports": 1, "events": 1, "mentions": 1}


def test_a_strike_on_another_town_is_another_event(store, pipeline):
    ingest(store, pipeline, FIRST)
    ingest(store, pipeline, ELSEWHERE)
    assert sorted(e.location for e in store.events()) == ["Ariha", "Taftanaz"]


def test_a_month_apart_is_another_event(store, pipeline):
    ingest(store, pipeline, FIRST)
    ingest(store, pipeline, FIRST.replace("on Monday", "on 3 March 2020"), published=date(2020, 3, 5))
    assert len(store.events()) == 2


def test_split_survives_restart_and_later_reports(tmp_path, pipeline):
    path = tmp_path / "k.db"
    store = Store(path)
    first = ingest(store, pipeline, FIRST)
    second = ingest(store, pipeline, SECOND)
    [merged] = store.events()
    moved_to = store.split(merged.event_id_cnty, second.id)
    store.close()

    store = Store(path)  # restart
    events = {e.event_id_cnty: e for e in store.events()}
    assert len(events) == 2
    assert events[moved_to].report_ids == [second.id]
    assert [r for e in events.values() for r in e.report_ids].count(first.id) == 1
    # Re-ingesting either report changes nothing; the split holds.
    ingest(store, pipeline, SECOND)
    ingest(store, pipeline, FIRST)
    assert len(store.events()) == 2
    with pytest.raises(ValueError, match="nothing to split"):
        store.split(moved_to, second.id)


def test_same_happening_rules(pipeline):
    [a] = pipeline(Report.create(FIRST, published=date(2020, 2, 5)))
    assert merge.same_happening(a, a).same
    next_day = a.model_copy(update={"event_date": a.event_date + timedelta(days=1)})
    assert not merge.same_happening(next_day, a).same  # ACLED: one event per day and place
    later = a.model_copy(update={"event_date": a.event_date + timedelta(days=3)})
    assert merge.same_happening(later.model_copy(update={"time_precision": 2}), a).same  # "earlier this week"
    government = a.model_copy(update={"side1": "government"})
    opposition = a.model_copy(update={"side1": "opposition"})
    assert "different sides" in merge.same_happening(opposition, government).reason
    battle = a.model_copy(update={"event_type": "Battles"})
    assert not merge.same_happening(battle, a).same


def test_merging_stays_incremental(store, pipeline):
    """Each new report is compared with a few blocked candidates, not with every event."""
    for day in range(40):
        text = ELSEWHERE.replace("on Monday", f"on {(date(2020, 1, 1) + timedelta(days=day)).strftime('%d %B %Y')}")
        ingest(store, pipeline, text, published=date(2020, 1, 1) + timedelta(days=day + 1))
    assert store.counts()["events"] == 40
    [mention] = pipeline(Report.create(ELSEWHERE.replace("on Monday", "on 10 January 2020"),
                                       published=date(2020, 1, 11), url="https://example.org/other"))
    with store.engine.connect() as conn:
        candidates = store._candidates(conn, mention)
    assert len(candidates) <= 63  # the date window, not the whole store
    assert all(abs((c.event_date - mention.event_date).days) <= 31 for c in candidates)
