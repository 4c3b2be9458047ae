"""The store on both backends: SQLite always, PostgreSQL when KHARITA_TEST_PG_URL is set
(`db_url` in conftest.py gives each test a fresh database or schema)."""
import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from kharita.models import Event, Report
from kharita.store import (
    SCHEMA_VERSION,
    SUMMARY_EXCLUDE,
    EventFilter,
    SchemaError,
    Store,
    event_summary,
    great_circle_km,
)


@pytest.fixture
def store(db_url):
    store = Store(db_url)
    yield store
    store.close()


def test_a_report_and_its_events_round_trip(store, report, event):
    assert store.add(report, [event]) is True
    assert store.report(report.id) == report
    assert store.event(event.event_id_cnty) == event
    assert store.counts() == {"reports": 1, "events": 1, "mentions": 1}


def test_adding_the_same_report_twice_changes_nothing(store, report, event):
    store.add(report, [event])
    assert store.add(report, [event]) is False
    assert store.counts() == {"reports": 1, "events": 1, "mentions": 1}


def test_filters(store, report, event):
    store.add(report, [event])
    assert store.events(EventFilter(date_from=date(2020, 2, 1), date_to=date(2020, 2, 3))) == [event]
    assert store.events(EventFilter(date_from=date(2020, 2, 4))) == []
    assert store.events(EventFilter(event_type="air/drone strike")) == [event]
    assert store.events(EventFilter(event_type="Explosions/Remote violence")) == [event]
    assert store.events(EventFilter(event_type="Battles")) == []
    assert store.events(EventFilter(place="idlib")) == [event]
    assert store.events(EventFilter(actor="Syria")) == [event]
    assert store.events(EventFilter(actor="Russia")) == []


def test_filter_values_are_parameters_not_sql(store, report, event):
    store.add(report, [event])
    assert store.events(EventFilter(place="x' OR '1'='1")) == []
    assert store.events(EventFilter(text="%")) == []  # LIKE wildcards are literal characters
    assert store.counts()["events"] == 1


def test_a_failed_write_leaves_nothing_behind(store, report, event):
    broken = event.model_copy(update={"event_date": None})  # violates NOT NULL inside the transaction
    with pytest.raises(Exception):
        store.add(report, [broken])
    assert store.counts() == {"reports": 0, "events": 0, "mentions": 0}
    assert store.add(report, [event]) is True


def test_schema_is_versioned_and_newer_databases_are_refused(db_url):
    store = Store(db_url)
    assert store.schema_version == SCHEMA_VERSION
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE kharita_meta SET value = :v WHERE key = 'schema_version'"), {"v": str(SCHEMA_VERSION + 1)})
    store.close()
    with pytest.raises(SchemaError, match="newer"):
        Store(db_url)


def test_backend_is_reported(store):
    assert store.dialect in ("sqlite", "postgresql")
    assert store.postgis is False or store.dialect == "postgresql"


# -- a small corpus of distinct happenings --------------------------------------------

# (sub-event type, event type, date, location, admin1, country, lat, lon, fatalities, side1, side2, notes)
HAPPENINGS = [
    ("Air/drone strike", "Explosions/Remote violence", date(2020, 1, 6), "Saraqib", "Idlib", "Syria",
     35.8623, 36.8006, 5, "government", "civilians", "Strike on a market."),
    ("Shelling/artillery/missile attack", "Explosions/Remote violence", date(2020, 1, 8), "Ariha", "Idlib", "Syria",
     35.8134, 36.6092, 2, "government", "", "Shells hit the bakery."),
    ("Armed clash", "Battles", date(2020, 1, 8), "Kafr Nabl", "Idlib", "Syria",
     35.6136, 36.5614, 9, "opposition", "government", ""),
    ("Armed clash", "Battles", date(2020, 2, 10), "Aleppo", "Aleppo", "Syria",
     36.2021, 37.1343, 0, "government", "opposition", "Fighting near the airport."),
    ("Peaceful protest", "Protests", date(2020, 2, 14), "Beirut", "Beirut", "Lebanon",
     33.8938, 35.5018, 0, "", "", "Protesters marched downtown."),
    ("Air/drone strike", "Explosions/Remote violence", date(2020, 3, 2), "Mosul", "Nineveh", "Iraq",
     36.3350, 43.1189, 12, "", "government", "Drone hit a convoy."),
    ("Attack", "Violence against civilians", date(2020, 3, 30), "Suva", "Central", "Fiji",
     -18.1416, 178.4419, 1, "", "civilians", ""),
    ("Attack", "Violence against civilians", date(2020, 4, 1), "Apia", "Tuamasaga", "Samoa",
     -13.8333, -171.7667, 3, "", "civilians", ""),
]


def make_event(i: int, row: tuple, report: Report) -> Event:
    sub, etype, day, location, admin1, country, lat, lon, fatalities, side1, side2, notes = row
    return Event(
        event_id_cnty=f"TST{i:012d}", event_date=day, year=day.year, time_precision=1,
        disorder_type="Political violence", event_type=etype, sub_event_type=sub,
        actor1=f"Actor {i}", actor2="Civilians" if side2 == "civilians" else "", country=country, admin1=admin1,
        location=location, latitude=lat, longitude=lon, geo_precision=1, fatalities=fatalities,
        side1=side1, side2=side2, notes=notes, report_ids=[report.id],
    )


def add_corpus(store: Store, rows=HAPPENINGS, start: int = 0) -> list[Event]:
    events = []
    for i, row in enumerate(rows, start):
        report = Report.create(f"Report number {i} about {row[3]}.", published=row[2])
        event = make_event(i, row, report)
        assert store.add(report, [event])
        events.append(event)
    assert store.counts()["events"] == start + len(rows)  # none merged: distinct happenings
    return events


def ids(events) -> list[str]:
    return [e.event_id_cnty for e in events]


def test_richer_filters(store):
    add_corpus(store)
    assert ids(store.events(EventFilter(sub_event_type="air/drone STRIKE"))) == ["TST000000000000", "TST000000000005"]
    assert ids(store.events(EventFilter(side="Opposition"))) == ["TST000000000002", "TST000000000003"]
    assert len(store.events(EventFilter(side="civilians"))) == 3  # side2
    assert len(store.events(EventFilter(country="syria"))) == 4
    assert store.events(EventFilter(country="Syri")) == []  # exact, not a substring
    assert ids(store.events(EventFilter(admin1="ALEPPO"))) == ["TST000000000003"]
    assert ids(store.events(EventFilter(text="BAKERY"))) == ["TST000000000001"]  # notes
    assert ids(store.events(EventFilter(text="actor 4"))) == ["TST000000000004"]  # actors
    assert ids(store.events(EventFilter(text="mosul"))) == ["TST000000000005"]  # location
    assert ids(store.events(EventFilter(fatalities_min=5, fatalities_max=9))) == ["TST000000000000",
                                                                                 "TST000000000002"]
    assert ids(store.events(EventFilter(country="Syria", side="government", fatalities_min=1))) == [
        "TST000000000000", "TST000000000001", "TST000000000002"]


def test_sorting_breaks_ties_by_event_id(store):
    add_corpus(store)
    by_fatalities = store.events(EventFilter(sort="-fatalities"))
    assert [e.fatalities for e in by_fatalities] == sorted((e.fatalities for e in by_fatalities), reverse=True)
    tied = [e.event_id_cnty for e in by_fatalities if e.fatalities == 0]
    assert tied == sorted(tied, reverse=True)
    newest_first = store.events(EventFilter(sort="-event_date"))
    assert ids(newest_first) == list(reversed(ids(store.events(EventFilter(sort="event_date")))))
    with pytest.raises(ValueError, match="sort must be one of"):
        store.events(EventFilter(sort="location"))


def test_bounding_boxes(store):
    add_corpus(store)
    idlib = (36.4, 35.5, 36.9, 35.9)  # (min_lon, min_lat, max_lon, max_lat)
    assert ids(store.events(EventFilter(bbox=idlib))) == ["TST000000000000", "TST000000000001", "TST000000000002"]
    # West of east: the box crosses the antimeridian (Fiji at 178.4 E, Samoa at 171.8 W).
    assert ids(store.events(EventFilter(bbox=(170.0, -25.0, -170.0, -10.0)))) == ["TST000000000006",
                                                                                  "TST000000000007"]
    assert store.events(EventFilter(bbox=(-170.0, -25.0, 170.0, -10.0))) == []  # the rest of the world there
    with pytest.raises(ValueError, match="bbox latitudes"):
        store.events(EventFilter(bbox=(30.0, 40.0, 40.0, 30.0)))


def test_radius_uses_the_exact_great_circle_distance(store):
    events = add_corpus(store)
    saraqib = (35.8623, 36.8006)
    distances = {e.event_id_cnty: great_circle_km(*saraqib, e.latitude, e.longitude) for e in events}
    for radius in (1.0, 20.0, 36.0, 200.0, 1000.0):
        expected = sorted(k for k, km in distances.items() if km <= radius)
        assert ids(store.events(EventFilter(near=(*saraqib, radius)))) == expected, radius
    # Ariha is ~18 km away and inside the square around a 17.5 km circle, but not in it.
    assert 17.5 < distances["TST000000000001"] < 18.5
    assert ids(store.events(EventFilter(near=(*saraqib, 17.5)))) == ["TST000000000000"]
    # Across the antimeridian: Suva and Apia are ~1150 km apart.
    assert ids(store.events(EventFilter(near=(-18.1416, 178.4419, 1200.0)))) == ["TST000000000006",
                                                                                "TST000000000007"]
    with pytest.raises(ValueError, match="radius"):
        store.events(EventFilter(near=(*saraqib, -1.0)))


def test_postgis_and_plain_columns_answer_alike(store):
    if not store.postgis:
        pytest.skip("no PostGIS in this database")
    add_corpus(store)
    queries = [EventFilter(bbox=(36.4, 35.5, 36.9, 35.9)), EventFilter(bbox=(170.0, -25.0, -170.0, -10.0)),
               EventFilter(near=(35.8623, 36.8006, 17.5)), EventFilter(near=(35.8623, 36.8006, 1000.0)),
               EventFilter(near=(-18.1416, 178.4419, 1200.0))]
    with_postgis = [ids(store.events(q)) for q in queries]
    store.postgis = False  # the latitude/longitude path, as without PostGIS
    assert [ids(store.events(q)) for q in queries] == with_postgis
    with store.engine.connect() as conn:  # the point column is filled by the database itself
        assert conn.execute(text("SELECT count(*) FROM events WHERE geom IS NOT NULL")).scalar_one() == len(HAPPENINGS)


def walk(store: Store, flt: EventFilter) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = store.events_page(EventFilter(**{**flt.__dict__, "cursor": cursor}))
        pages.append(ids(page.items))
        cursor = page.next_cursor
        if cursor is None:
            return pages


@pytest.mark.parametrize("sort", ["event_date", "-event_date", "fatalities", "-fatalities"])
def test_cursor_pages_cover_every_event_once(store, sort):
    # Many ties: the same few dates and figures, so pages split runs of equal keys.
    rows = [(*HAPPENINGS[i % len(HAPPENINGS)][:2], date(2020, 1, 1) + timedelta(days=60 * (i % 3)),
             f"Place {i}", "Idlib", "Syria", 30.0 + i, 40.0, i % 4, "government", "", "")
            for i in range(23)]
    add_corpus(store, rows)
    everything = ids(store.events(EventFilter(sort=sort)))
    pages = walk(store, EventFilter(sort=sort, limit=5))
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert [i for page in pages for i in page] == everything
    # Exactly full last page: no empty page after it.
    assert [len(p) for p in walk(store, EventFilter(sort=sort, limit=23))] == [23]
    # Filters apply to every page.
    flt = EventFilter(sort=sort, limit=2, fatalities_min=2)
    assert [i for page in walk(store, flt) for i in page] == ids(store.events(EventFilter(sort=sort,
                                                                                         fatalities_min=2)))


@pytest.mark.parametrize("sort", ["event_date", "-fatalities"])
def test_iter_events_reads_a_page_at_a_time_what_events_returns(store, sort):
    rows = [(*HAPPENINGS[i % len(HAPPENINGS)][:2], date(2020, 1, 1) + timedelta(days=i % 4),
             f"Place {i}", "Idlib", "Syria", 30.0 + i, 40.0, i % 3, "government", "", "") for i in range(11)]
    add_corpus(store, rows)
    everything = ids(store.events(EventFilter(sort=sort)))
    assert ids(store.iter_events(EventFilter(sort=sort), page_size=3)) == everything
    # A limit caps the total, an offset skips the first ones, across pages.
    assert ids(store.iter_events(EventFilter(sort=sort, limit=7), page_size=3)) == everything[:7]
    assert ids(store.iter_events(EventFilter(sort=sort, offset=2, limit=5), page_size=2)) == everything[2:7]
    assert ids(store.iter_events(EventFilter(sort=sort, fatalities_min=2), page_size=2)) == \
        ids(store.events(EventFilter(sort=sort, fatalities_min=2)))


def test_cursors_are_stable_under_inserts(store):
    add_corpus(store)
    first = store.events_page(EventFilter(limit=3))
    assert ids(first.items) == ["TST000000000000", "TST000000000001", "TST000000000002"]
    # Events added before the cursor's position (an earlier date) and after it.
    add_corpus(store, [(*HAPPENINGS[0][:2], date(2019, 6, 1), "Early", "Idlib", "Syria", 20.0, 20.0, 1, "", "", ""),
                       (*HAPPENINGS[0][:2], date(2021, 6, 1), "Late", "Idlib", "Syria", 21.0, 21.0, 1, "", "", "")],
               start=len(HAPPENINGS))
    rest = []
    cursor = first.next_cursor
    while cursor:
        page = store.events_page(EventFilter(limit=3, cursor=cursor))
        rest += ids(page.items)
        cursor = page.next_cursor
    assert rest == [f"TST{i:012d}" for i in (3, 4, 5, 6, 7, 9)]  # no repeat; the later insert is seen


def test_cursor_is_opaque_and_checked(store):
    add_corpus(store)
    cursor = store.events_page(EventFilter(limit=2, country="Syria")).next_cursor
    assert cursor and all(c.isalnum() or c in "-_" for c in cursor)  # URL-safe as it is
    with pytest.raises(ValueError, match="invalid cursor"):
        store.events_page(EventFilter(limit=2, cursor="not-a-cursor"))
    with pytest.raises(ValueError, match="invalid cursor"):
        store.events_page(EventFilter(limit=2, cursor=cursor[:-3]))
    with pytest.raises(ValueError, match="other filters"):
        store.events_page(EventFilter(limit=2, country="Iraq", cursor=cursor))
    with pytest.raises(ValueError, match="sorted by"):
        store.events_page(EventFilter(limit=2, country="Syria", sort="-fatalities", cursor=cursor))
    assert len(store.events_page(EventFilter(limit=5, country="Syria", cursor=cursor)).items) == 2


def test_raw_pages_are_the_stored_records(store):
    events = add_corpus(store)
    page = store.events_page(EventFilter(limit=3), raw=True)
    assert all(isinstance(item, str) for item in page.items)
    assert [Event.model_validate_json(item) for item in page.items] == events[:3]


def test_pages_without_evidence_are_the_stored_summaries(store, report, event):
    """Every write keeps the event's summary (its record less the evidence spans) beside the
    record: new events, events rebuilt by a merge and by a split alike."""
    add_corpus(store)
    store.add(report, [event])  # evidence spans on the event and on its claim
    again = Report.create("Another report about the strike on Saraqib.", published=event.event_date)
    store.add(again, [event.model_copy(update={"event_id_cnty": "SYR000000000002", "report_ids": [again.id],
                                               "fatalities": 4})])
    merged = store.event(event.event_id_cnty)
    assert set(merged.report_ids) == {report.id, again.id} and merged.evidence  # merged, with its evidence

    def pages_agree() -> None:
        events = store.events()
        summaries = store.events_page(EventFilter(), raw=True, evidence=False).items
        assert summaries == [event_summary(e) for e in events]
        assert all('"evidence"' not in s for s in summaries)
        light = store.events_page(EventFilter(), evidence=False).items
        assert light == [Event.model_validate(e.model_dump(exclude=SUMMARY_EXCLUDE)) for e in events]
        assert [e.evidence for e in light] == [{}] * len(events)

    pages_agree()
    store.split(event.event_id_cnty, again.id)
    assert len(store.events()) == len(HAPPENINGS) + 2
    pages_agree()
    # Pages with and without evidence are the same pages: a cursor serves both.
    first = store.events_page(EventFilter(limit=3, sort="-fatalities"), evidence=False)
    rest = store.events_page(EventFilter(sort="-fatalities", cursor=first.next_cursor))
    assert ids(first.items + rest.items) == ids(store.events(EventFilter(sort="-fatalities")))


def test_histogram(store):
    add_corpus(store)
    assert store.histogram(EventFilter(country="Syria"), "day") == [
        (date(2020, 1, 6), 1, 5), (date(2020, 1, 8), 2, 11), (date(2020, 2, 10), 1, 0)]
    # 2020-01-06 was a Monday: weeks start on Mondays.
    assert store.histogram(EventFilter(), "week") == [
        (date(2020, 1, 6), 3, 16), (date(2020, 2, 10), 2, 0), (date(2020, 3, 2), 1, 12), (date(2020, 3, 30), 2, 4)]
    assert store.histogram(EventFilter(limit=1), "month") == [
        (date(2020, 1, 1), 3, 16), (date(2020, 2, 1), 2, 0), (date(2020, 3, 1), 2, 13), (date(2020, 4, 1), 1, 3)]
    assert store.histogram(EventFilter(country="Chad"), "month") == []
    with pytest.raises(ValueError, match="interval"):
        store.histogram(EventFilter(), "year")


def test_add_many_stores_what_add_would(db_url, tmp_path):
    reports = [Report.create(f"Report number {i} about {row[3]}.", published=row[2]) for i, row in enumerate(HAPPENINGS)]
    items = [(r, [make_event(i, row, r)]) for i, (r, row) in enumerate(zip(reports, HAPPENINGS))]
    # A second report of the first happening, which merges into it.
    again = Report.create("Another report about Saraqib.", published=HAPPENINGS[0][2])
    items.append((again, [make_event(99, HAPPENINGS[0], again)]))
    one_by_one = Store(tmp_path / "one-by-one.db")
    expected = [one_by_one.add(*item) for item in items]
    batched = Store(db_url)
    assert batched.add_many(items + items[:2], batch_size=3) == expected + [False, False]
    assert batched.counts() == one_by_one.counts()
    assert batched.events() == one_by_one.events()


def _stored(store: Store) -> dict:
    """Every row that merging writes, in a stable order (timestamps aside)."""
    tables = {"events": "event_id, record", "mentions": "mention_id, report_id, event_id, reason, record",
              "event_reports": "event_id, report_id", "cannot_link": "mention_a, mention_b"}
    with store.engine.connect() as conn:
        return {name: conn.execute(text(f"SELECT {columns} FROM {name} ORDER BY {columns}")).all()
                for name, columns in tables.items()}


def test_a_batch_merges_as_one_report_after_another(db_url, tmp_path):
    """Within one transaction each mention sees the events, mentions and splits written
    before it: a batch stores exactly what `add` one report at a time stores."""
    saraqib = HAPPENINGS[0]
    reports = [Report.create(f"Report {i} about the strike on Saraqib.", published=saraqib[2]) for i in range(4)]
    mentions = [make_event(i, saraqib, r) for i, r in enumerate(reports)]
    # The fourth report repeats the second's mention id (the same mention twice: stored once).
    mentions[3] = mentions[3].model_copy(update={"event_id_cnty": mentions[1].event_id_cnty})
    items = [(r, [m]) for r, m in zip(reports, mentions)]
    one_by_one, batched = Store(tmp_path / "one-by-one.db"), Store(db_url)
    for target in (one_by_one, batched):
        # A user split the second report off the first one's event; the second report
        # is then ingested anew (its rows deleted): the split still holds.
        for item in items[:2]:
            target.add(*item)
        target.split(mentions[0].event_id_cnty, reports[1].id)
        with target.engine.begin() as conn:
            conn.execute(text("DELETE FROM reports WHERE id = :id"), {"id": reports[1].id})
            conn.execute(text("DELETE FROM events WHERE event_id = :id"), {"id": mentions[1].event_id_cnty})
    assert [one_by_one.add(*item) for item in items[1:]] == [True, True, True]
    assert batched.add_many(items[1:], batch_size=10) == [True, True, True]
    assert _stored(batched) == _stored(one_by_one)
    reasons = {m: r for m, _, _, r, _ in _stored(batched)["mentions"]}
    assert reasons[mentions[1].event_id_cnty] == "started this event"  # not back into the first's event
    assert batched.counts() == {"reports": 4, "events": 2, "mentions": 3}
    one_by_one.close()
    batched.close()


def test_page_statements_are_compiled_once_per_shape(store):
    add_corpus(store)
    first = store.events(EventFilter(country="Syria", date_from=date(2020, 1, 7), limit=10))
    second = store.events(EventFilter(country="Lebanon", date_from=date(2020, 1, 1), limit=3))
    assert ids(first) == ["TST000000000001", "TST000000000002", "TST000000000003"]
    assert ids(second) == ["TST000000000004"]
    assert len(store._page_statements) == 1  # same filters set, other values: one statement
    crossing = store.events(EventFilter(bbox=(170.0, -20.0, -170.0, -10.0)))  # two longitude spans
    plain = store.events(EventFilter(bbox=(170.0, -20.0, 180.0, -10.0)))
    assert ids(crossing) == ["TST000000000006", "TST000000000007"] and ids(plain) == ["TST000000000006"]
    assert len(store._page_statements) == 3
    assert ids(store.events(EventFilter(text="_"))) == []  # LIKE wildcards stay literal in a reused statement
    assert ids(store.events(EventFilter(text="market"))) == ["TST000000000000"]


def test_a_failed_batch_keeps_the_batches_before_it(store, report, event):
    items = [(Report.create(f"Report number {i} about {row[3]}."), row) for i, row in enumerate(HAPPENINGS[:4])]
    good = [(r, [make_event(i, row, r)]) for i, (r, row) in enumerate(items)]
    broken = (report, [event.model_copy(update={"report_ids": ["no-such-report"]})])  # a foreign key fails
    with pytest.raises(IntegrityError):
        store.add_many([*good, broken], batch_size=2)  # batches: [0, 1] [2, 3] [broken]
    assert store.counts()["reports"] == 4


def _pg_only(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL")


def _in_thread(target) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(target=lambda: result.append(target()))
    thread.start()
    return thread, result


def test_two_writers_store_one_report_once(db_url, report, event):
    first = Store(db_url)
    _pg_only(first)
    second = Store(db_url)
    with first.engine.begin() as conn:
        assert first.add(report, [event], conn=conn)
        thread, result = _in_thread(lambda: second.add(report, [event]))
        time.sleep(0.5)  # the second writer waits on the first's uncommitted row
        assert thread.is_alive()
    thread.join(10)
    assert result == [False]
    assert second.counts() == {"reports": 1, "events": 1, "mentions": 1}
    first.close()
    second.close()


def test_concurrent_batches_of_the_same_reports_store_each_once(db_url, tmp_path):
    first = Store(db_url)
    _pg_only(first)
    second = Store(db_url)
    reports = [Report.create(f"Report number {i} about {row[3]}.", published=row[2]) for i, row in enumerate(HAPPENINGS)]
    items = [(r, [make_event(i, row, r)]) for i, (r, row) in enumerate(zip(reports, HAPPENINGS))]
    # Opposite orders: each batch locks event types the other one also needs.
    thread, result = _in_thread(lambda: first.add_many(items, batch_size=3))
    theirs = second.add_many(list(reversed(items)), batch_size=3)
    thread.join(30)
    mine = result[0]
    assert [a != b for a, b in zip(mine, reversed(theirs))] == [True] * len(items)  # each stored by one of them
    reference = Store(tmp_path / "reference.db")
    reference.add_many(items)
    assert first.counts() == reference.counts()
    assert first.events() == reference.events()
    for store in (first, second, reference):
        store.close()


def test_two_writers_merge_one_happening_into_one_event(db_url, report, event):
    first = Store(db_url)
    _pg_only(first)
    second = Store(db_url)
    other = Report.create("Jets hit Saraqib on Monday; five people died, rescuers said.", published=date(2020, 2, 4))
    twin = event.model_copy(update={"event_id_cnty": "SYR000000000002", "report_ids": [other.id]})
    with first.engine.begin() as conn:
        first.add(report, [event], conn=conn)
        thread, result = _in_thread(lambda: second.add(other, [twin]))
        time.sleep(0.5)  # without the lock it would not see the first event and start its own
    thread.join(10)
    assert result == [True]
    assert second.counts() == {"reports": 2, "events": 1, "mentions": 2}
    assert sorted(second.event(event.event_id_cnty).report_ids) == sorted([report.id, other.id])
    first.close()
    second.close()


def test_of_equally_close_events_a_mention_joins_the_lowest_id(store):
    # Two tellings of one strike that a user split apart, then a third telling exactly like
    # both: it joins the event with the lower id, whatever order the database returns rows in.
    strike = ("Air/drone strike", "Explosions/Remote violence", date(2020, 5, 3), "Saraqib", "Idlib", "Syria",
              35.8622, 36.8006, 2, "", "", "")
    reports = [Report.create(f"Telling {n} of the Saraqib strike.", published=date(2020, 5, 3)) for n in range(3)]
    first, second, third = (make_event(40 + n, strike, report) for n, report in enumerate(reports))
    store.add(reports[0], [first])
    store.add(reports[1], [second])
    assert store.event_of_mention(second.event_id_cnty) == first.event_id_cnty
    apart = store.split(first.event_id_cnty, reports[1].id)
    store.add(reports[2], [third])
    assert store.event_of_mention(third.event_id_cnty) == min(first.event_id_cnty, apart)
