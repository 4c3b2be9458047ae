from datetime import date

import pytest
from sqlalchemy import text

from kharita.store import SCHEMA_VERSION, EventFilter, SchemaError, Store


def test_a_report_and_its_events_round_trip(tmp_path, report, event):
    store = Store(tmp_path / "k.db")
    assert store.add(report, [event]) is True
    assert store.report(report.id) == report
    assert store.event(event.event_id_cnty) == event
    assert store.counts() == {"reports": 1, "events": 1, "mentions": 1}


def test_adding_the_same_report_twice_changes_nothing(tmp_path, report, event):
    store = Store(tmp_path / "k.db")
    store.add(report, [event])
    assert store.add(report, [event]) is False
    assert store.counts() == {"reports": 1, "events": 1, "mentions": 1}


def test_filters(tmp_path, report, event):
    store = Store(tmp_path / "k.db")
    store.add(report, [event])
    assert store.events(EventFilter(date_from=date(2020, 2, 1), date_to=date(2020, 2, 3))) == [event]
    assert store.events(EventFilter(date_from=date(2020, 2, 4))) == []
    assert store.events(EventFilter(event_type="air/drone strike")) == [event]
    assert store.events(EventFilter(event_type="Explosions/Remote violence")) == [event]
    assert store.events(EventFilter(event_type="Battles")) == []
    assert store.events(EventFilter(place="idlib")) == [event]
    assert store.events(EventFilter(actor="Syria")) == [event]
    assert store.events(EventFilter(actor="Russia")) == []


def test_filter_values_are_parameters_not_sql(tmp_path, report, event):
    store = Store(tmp_path / "k.db")
    store.add(report, [event])
    assert store.events(EventFilter(place="x' OR '1'='1")) == []
    assert store.counts()["events"] == 1


def test_a_failed_write_leaves_nothing_behind(tmp_path, report, event):
    store = Store(tmp_path / "k.db")
    broken = event.model_copy(update={"event_date": None})  # violates NOT NULL inside the transaction
    with pytest.raises(Exception):
        store.add(report, [broken])
    assert store.counts() == {"reports": 0, "events": 0, "mentions": 0}
    assert store.add(report, [event]) is True


def test_schema_is_versioned_and_newer_databases_are_refused(tmp_path):
    path = tmp_path / "k.db"
    assert Store(path).schema_version == SCHEMA_VERSION
    store = Store(path)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE kharita_meta SET value = :v WHERE key = 'schema_version'"), {"v": str(SCHEMA_VERSION + 1)})
    store.close()
    with pytest.raises(SchemaError, match="newer"):
        Store(path)
