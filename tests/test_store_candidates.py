"""The store's merge candidates: its query leaves out only events `merge.same_happening`
would reject anyway, on every backend, whatever the mention's precisions and date source."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from kharita import merge
from kharita.models import Claim, Event, Report
from kharita.store import Store, _Writer, events_table

# Types from each group of compatible sub-event types, and one of its own.
TYPES = [
    ("Explosions/Remote violence", "Air/drone strike"),
    ("Explosions/Remote violence", "Shelling/artillery/missile attack"),
    ("Explosions/Remote violence", "Remote explosive/landmine/IED"),
    ("Explosions/Remote violence", "Suicide bomb"),
    ("Battles", "Armed clash"),
    ("Battles", "Government regains territory"),
    ("Battles", "Non-state actor overtakes territory"),
    ("Violence against civilians", "Attack"),
]
# (location, admin1, country, lat, lon): towns a few km apart, their provinces, a country.
PLACES = [
    ("Saraqib", "Idlib", "Syria", 35.8623, 36.8006),
    ("Sarmin", "Idlib", "Syria", 35.9056, 36.7267),
    ("Ariha", "Idlib", "Syria", 35.8134, 36.6092),
    ("Idlib", "Idlib", "Syria", 35.93, 36.63),
    ("Maarat al-Numan", "Idlib", "Syria", 35.6433, 36.6742),
    ("Aleppo", "Aleppo", "Syria", 36.2021, 37.1343),
    ("Syria", "", "Syria", 35.0, 38.5),
]
DAY = date(2021, 6, 15)


def random_event(rng: random.Random, i: int, report: Report) -> Event:
    event_type, sub_event_type = rng.choice(TYPES)
    location, admin1, country, lat, lon = rng.choice(PLACES)
    region = location in (admin1, country)
    geo_precision = 3 if region else rng.choice([1, 1, 2, 3, None])
    located = rng.random() > 0.08
    day = DAY + timedelta(days=rng.choice([0, 0, 1, -1, 2, 5, -6, 8, 20, -30, 33]))
    fatalities = rng.choice([0, 0, 3, 5, 12, 40])
    claims = [Claim(kind="fatalities", value=fatalities, victims="people")] if fatalities else []
    return Event(
        event_id_cnty=f"CND{i:09d}", event_date=day, year=day.year, time_precision=rng.choice([1, 1, 2, 3]),
        date_source=rng.choice(["text", "text", "published", "ingested"]),
        disorder_type="Political violence", event_type=event_type, sub_event_type=sub_event_type,
        actor1=rng.choice(["", "Military Forces of Syria (2000-)", "HTS: Hayat Tahrir al-Sham"]),
        side1=rng.choice(["", "government", "opposition"]), country=country, admin1=admin1, location=location,
        latitude=lat + rng.uniform(-0.02, 0.02) if located else None,
        longitude=lon + rng.uniform(-0.02, 0.02) if located else None,
        geo_precision=geo_precision, fatalities=fatalities, claims=claims, report_ids=[report.id],
    )


def reports(rng: random.Random, first: int, count: int) -> list[tuple[Report, list[Event]]]:
    items = []
    for i in range(first, first + count):
        report = Report.create(f"Candidate test report {i}.", published=DAY)
        items.append((report, [random_event(rng, i, report)]))
    return items


def located(event: Event | merge.EventKey) -> bool:
    return event.latitude is not None and event.longitude is not None


def blocked_together(mention: Event, key: merge.EventKey) -> bool:
    """Blocking's own limit, beneath the rules: a mention with coordinates is compared with
    events that have them (in a box), one without with events of the same place name."""
    if located(mention):
        return located(key)
    return key.location.lower() == mention.location.lower()


@pytest.mark.parametrize("seed", [1, 2])
def test_the_candidate_query_keeps_every_event_that_could_be_the_same_happening(db_url, seed):
    rng = random.Random(seed)
    store = Store(db_url)
    store.add_many(reports(rng, 0, 250))
    with store.engine.connect() as conn:
        stored = [merge.EventKey(*row) for row in conn.execute(
            select(*[events_table.c[name] for name in merge.KEY_COLUMNS]))]
    fetched = matched = coarse = 0
    with store.engine.begin() as conn:
        writer = _Writer(conn, store._statements)
        try:
            for _, (mention,) in reports(rng, 1000, 250):
                candidates = {key.event_id_cnty for key in store._candidates(writer, mention)}
                same = {key.event_id_cnty for key in stored
                        if blocked_together(mention, key) and merge.same_happening(mention, key).same}
                assert same <= candidates, (mention, same - candidates)
                fetched += len(candidates)
                matched += len(same)
                coarse += sum(key.event_type == mention.event_type and blocked_together(mention, key)
                              and abs((key.event_date - mention.event_date).days) <= merge.MONTH_DAYS
                              and key.date_source != "ingested" != mention.date_source for key in stored)
        finally:
            writer.close()
    store.close()
    assert matched >= 30  # the corpus holds enough happenings told twice to mean something
    # Blocking by type, date and place alone gives far more: the rules' own limits are in the query.
    assert fetched * 10 <= coarse, (fetched, matched, coarse)


def test_a_mention_of_unknown_date_has_no_candidates(tmp_path):
    rng = random.Random(3)
    store = Store(tmp_path / "k.db")
    (report, (event,)), = reports(rng, 0, 1)
    store.add(report, [event.model_copy(update={"date_source": "text", "time_precision": 1})])
    other = Report.create("Another telling, with no date.", published=DAY)
    twin = event.model_copy(update={"event_id_cnty": "CND900000000", "date_source": "ingested",
                                    "report_ids": [other.id]})
    with store.engine.begin() as conn:
        writer = _Writer(conn, store._statements)
        assert store._candidates(writer, twin) == []
        writer.close()
    store.close()
