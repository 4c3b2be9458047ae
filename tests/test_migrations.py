"""Alembic migrations: a fresh database gets exactly the schema store.py describes (on
SQLite and PostgreSQL), databases from before migrations open and upgrade, newer ones
are refused, the `kharita db` commands say where a database stands."""
from __future__ import annotations

import sqlite3
import uuid
import warnings

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, make_url, select, text
from typer.testing import CliRunner

from kharita.cli import app
from kharita.models import Report
from kharita.store import (
    SCHEMA_VERSION,
    EventFilter,
    SchemaError,
    Store,
    _alembic_config,
    database_state,
    event_summary,
    head_revision,
    metadata,
    watch_feeds_table,
    watch_files_table,
    watch_items_table,
)

# The schema as Kharita wrote it before migrations (schema_version 1), statement by statement.
V1_SCHEMA = """
CREATE TABLE kharita_meta ("key" VARCHAR NOT NULL, value VARCHAR NOT NULL, PRIMARY KEY ("key"));
CREATE TABLE reports (id VARCHAR(32) NOT NULL, title TEXT, text TEXT NOT NULL, url TEXT, outlet TEXT,
    language VARCHAR(8), published DATE, published_inferred BOOLEAN NOT NULL, origin TEXT,
    ingested_at VARCHAR(32) NOT NULL, PRIMARY KEY (id));
CREATE TABLE events (event_id VARCHAR(40) NOT NULL, event_date DATE NOT NULL, time_precision INTEGER NOT NULL,
    event_type VARCHAR(64) NOT NULL, sub_event_type VARCHAR(64) NOT NULL, actor1 TEXT, actor2 TEXT,
    assoc_actors TEXT, country VARCHAR(64), admin1 VARCHAR(128), location VARCHAR(256), latitude FLOAT,
    longitude FLOAT, geo_precision INTEGER, side1 VARCHAR(32), date_source VARCHAR(16),
    fatalities INTEGER NOT NULL, health_attack BOOLEAN NOT NULL, record TEXT NOT NULL, PRIMARY KEY (event_id));
CREATE INDEX ix_events_block ON events (event_type, event_date);
CREATE INDEX ix_events_place ON events (latitude, longitude);
CREATE INDEX ix_events_date ON events (event_date);
CREATE INDEX ix_events_type ON events (event_type, sub_event_type);
CREATE TABLE cannot_link (mention_a VARCHAR(40) NOT NULL, mention_b VARCHAR(40) NOT NULL,
    PRIMARY KEY (mention_a, mention_b));
CREATE TABLE mentions (mention_id VARCHAR(40) NOT NULL, report_id VARCHAR(32) NOT NULL,
    event_id VARCHAR(40) NOT NULL, reason TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (mention_id),
    FOREIGN KEY(report_id) REFERENCES reports (id) ON DELETE CASCADE);
CREATE INDEX ix_mentions_event ON mentions (event_id);
CREATE INDEX ix_mentions_report ON mentions (report_id);
CREATE TABLE control_claims (claim_id VARCHAR(32) NOT NULL, report_id VARCHAR(32) NOT NULL,
    place_key VARCHAR(200) NOT NULL, place VARCHAR(256) NOT NULL, start_date DATE NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (claim_id), FOREIGN KEY(report_id) REFERENCES reports (id) ON DELETE CASCADE);
CREATE INDEX ix_control_place ON control_claims (place_key);
CREATE INDEX ix_control_name ON control_claims (place);
CREATE TABLE event_reports (event_id VARCHAR(40) NOT NULL, report_id VARCHAR(32) NOT NULL,
    PRIMARY KEY (event_id, report_id), FOREIGN KEY(event_id) REFERENCES events (event_id) ON DELETE CASCADE,
    FOREIGN KEY(report_id) REFERENCES reports (id) ON DELETE CASCADE);
CREATE INDEX ix_event_reports_report ON event_reports (report_id);
INSERT INTO kharita_meta VALUES ('schema_version', '1');
"""


def schema_differences(url: str) -> list:
    """What the database lacks or has beyond store.py's tables (PostGIS's point aside)."""
    def ours(obj, name, type_, reflected, compare_to):
        if type_ == "table":
            return name in metadata.tables
        return not (type_ in ("column", "index") and name in ("geom", "ix_events_geom", "ix_events_geog"))

    engine = create_engine(url)
    with engine.connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # expression indexes and PostGIS types: checked below
        context = MigrationContext.configure(conn, opts={"include_object": ours, "compare_type": True})
        diffs = compare_metadata(context, metadata)
        # Reflection skips expression indexes (lower(admin1), ...): compare their names at least.
        if conn.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        else:
            query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE 'ix_%'"
        present = set(conn.execute(text(query)).scalars()) - {"ix_events_geom", "ix_events_geog"}
    engine.dispose()
    described = {index.name for table in metadata.tables.values() for index in table.indexes}
    return diffs + [("missing index", name) for name in sorted(described - present)] + [
        ("unknown index", name) for name in sorted(present - described)]


def downgrade(store: Store, revision: str) -> None:
    """Take the store's database back to an Alembic revision, as an older Kharita left it."""
    config = _alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
    config.attributes.pop("connection")


def test_a_new_database_gets_the_described_schema(db_url):
    store = Store(db_url)
    assert store.revision == head_revision()
    assert store.schema_version == SCHEMA_VERSION
    store.close()
    assert schema_differences(Store(db_url).engine.url.render_as_string(hide_password=False)) == []


def test_downgrade_and_upgrade_again(db_url, report, event):
    store = Store(db_url)
    store.add(report, [event])
    downgrade(store, "0001")
    assert store.schema_version == 1
    store.close()
    store = Store(db_url)  # upgrades again; the new columns are filled from the records
    assert store.revision == head_revision()
    assert store.events(EventFilter(side="civilians")) == []
    assert store.events(EventFilter(text="saraqib")) == [event]
    store.close()


def test_watch_tables_made_by_an_older_kharita_watch_are_adopted(db_url):
    # Before migration 0005, `kharita watch` created its tables itself on a 0004 database.
    store = Store(db_url)
    downgrade(store, "0004")
    with store.engine.begin() as conn:
        metadata.create_all(conn, tables=[watch_feeds_table, watch_items_table, watch_files_table])
        conn.execute(watch_feeds_table.insert().values(url="https://example.org/feed.xml", checked_at="2026-11-01"))
    store.close()
    store = Store(db_url)  # upgrades to 0005 around the tables it finds
    assert store.revision == head_revision()
    with store.engine.connect() as conn:
        assert conn.execute(select(watch_feeds_table.c.url)).scalars().all() == ["https://example.org/feed.xml"]
    store.close()
    assert schema_differences(Store(db_url).engine.url.render_as_string(hide_password=False)) == []


def test_migration_0006_gives_stored_events_their_summaries(db_url, report, event):
    store = Store(db_url)
    store.add(report, [event])
    downgrade(store, "0005")  # as a database of the previous Kharita holds it
    assert store.schema_version == 5
    store.close()
    store = Store(db_url)  # upgrades: the summaries come from the stored records
    assert (store.revision, store.schema_version) == (head_revision(), SCHEMA_VERSION)
    (summary,) = store.events_page(EventFilter(), raw=True, evidence=False).items
    assert summary == event_summary(event) and '"evidence"' not in summary
    assert store.events() == [event]  # the record itself unchanged
    store.close()
    assert schema_differences(Store(db_url).engine.url.render_as_string(hide_password=False)) == []


def test_migration_0007_puts_merge_candidates_in_one_index(db_url, report, event):
    store = Store(db_url)
    store.add(report, [event])
    downgrade(store, "0006")
    assert store.schema_version == 6
    store.close()
    store = Store(db_url)  # upgrades: the candidate index replaces the blocking one
    assert (store.revision, store.schema_version) == (head_revision(), SCHEMA_VERSION)
    other = Report.create("Jets struck Saraqib on Monday; five civilians died, a medic said.",
                          published=report.published)
    twin = event.model_copy(update={"event_id_cnty": "SYR000000000002", "report_ids": [other.id]})
    store.add(other, [twin])
    assert store.counts() == {"reports": 2, "events": 1, "mentions": 2}  # found through the new index
    store.close()
    assert schema_differences(Store(db_url).engine.url.render_as_string(hide_password=False)) == []


def make_v1_database(path, report: Report, event) -> None:
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    db.execute("INSERT INTO reports VALUES (?, ?, ?, NULL, ?, 'en', ?, 0, NULL, '2020-02-05T00:00:00+00:00')",
               (report.id, report.title, report.text, report.outlet, report.published.isoformat()))
    db.execute("INSERT INTO events VALUES (?, ?, 1, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, 1, ?, 'text', ?, 0, ?)",
               (event.event_id_cnty, event.event_date.isoformat(), event.event_type, event.sub_event_type,
                event.actor1, event.actor2, event.country, event.admin1, event.location, event.latitude,
                event.longitude, event.side1, event.fatalities, event.model_dump_json()))
    db.execute("INSERT INTO mentions VALUES (?, ?, ?, 'started this event', ?)",
               (event.event_id_cnty, report.id, event.event_id_cnty, event.model_dump_json()))
    db.execute("INSERT INTO event_reports VALUES (?, ?)", (event.event_id_cnty, report.id))
    db.commit()
    db.close()


def test_a_database_from_before_migrations_opens_and_upgrades(tmp_path, report, event):
    path = tmp_path / "v1.db"
    event = event.model_copy(update={"side1": "government", "side2": "civilians", "notes": "Strikes hit the market."})
    make_v1_database(path, report, event)
    state = database_state(path)
    assert (state.revision, state.schema_version, state.up_to_date) == (None, 1, False)

    store = Store(path)
    assert (store.revision, store.schema_version) == (head_revision(), SCHEMA_VERSION)
    assert store.events() == [event]
    assert store.events(EventFilter(side="civilians")) == [event]  # side2, filled from the record
    assert store.events(EventFilter(text="market")) == [event]  # notes, likewise
    assert store.add(report, [event]) is False
    assert store.events_page(EventFilter(), raw=True, evidence=False).items == [event_summary(event)]
    store.close()
    assert schema_differences(f"sqlite:///{path}") == []


def test_a_database_of_an_unknown_revision_is_refused(db_url):
    store = Store(db_url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff_from_the_future'"))
    store.close()
    with pytest.raises(SchemaError, match="newer than this Kharita"):
        Store(db_url)


def test_db_commands(tmp_path):
    runner = CliRunner()
    path = str(tmp_path / "cli.db")
    missing = runner.invoke(app, ["db", "current", "--db", path])
    assert missing.exit_code == 1 and "no database" in missing.output
    upgraded = runner.invoke(app, ["db", "upgrade", "--db", path])
    assert upgraded.exit_code == 0 and "upgraded from nothing" in upgraded.output
    current = runner.invoke(app, ["db", "current", "--db", path])
    assert current.exit_code == 0 and f"{head_revision()} (schema version {SCHEMA_VERSION})" in current.output
    again = runner.invoke(app, ["db", "upgrade", "--db", path])
    assert "already at the newest revision" in again.output


def test_a_postgresql_url_given_as_a_path_still_works(pg_url):
    from pathlib import Path

    store = Store(Path(pg_url))  # what a Path-typed --db option hands over: "postgresql+psycopg:/..."
    assert store.dialect == "postgresql"
    assert "***" in store.url or make_url(pg_url).password is None  # no password in messages
    store.close()


def test_a_schema_does_not_adopt_the_tables_of_one_further_down_the_path(pg_url, report, event):
    """A store whose schema is empty creates its tables there, even when a schema later on
    its search path holds a Kharita database (it would otherwise write into that one)."""
    below = f"kharita_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{below}"'))
    try:
        # pg_url ends with "search_path=<its schema>,public"; `below` goes between them.
        assert pg_url.endswith(",public")
        lower = Store(pg_url.rsplit("%3D", 1)[0] + f"%3D{below},public")
        lower.add(report, [event])
        store = Store(pg_url[: -len(",public")] + f",{below},public")
        assert store.revision == head_revision()
        assert store.counts()["reports"] == 0
        assert lower.counts()["reports"] == 1
        lower.close()
        store.close()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{below}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_database_without_postgis(pg_server):
    """A database of its own (so without the PostGIS extension), dropped afterwards."""
    name = f"kharita_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_postgresql_without_postgis_uses_plain_columns(pg_database_without_postgis, report, event):
    store = Store(pg_database_without_postgis)
    if store.postgis:
        pytest.skip("this role may create PostGIS in a new database: the plain path is tested by forcing it")
    assert store.dialect == "postgresql"
    store.add(report, [event])
    assert store.events(EventFilter(bbox=(36.0, 35.0, 37.0, 36.0))) == [event]
    assert store.events(EventFilter(near=(35.8623, 36.7006, 10.0))) == [event]  # ~9 km west
    assert store.events(EventFilter(near=(35.8623, 36.7006, 8.0))) == []
    assert schema_differences(pg_database_without_postgis) == []
    store.close()
