"""Shared fixtures: a small hand-built report and event, the flagship sample's path, and
databases (SQLite files; PostgreSQL schemas when KHARITA_TEST_PG_URL names a server)."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from kharita.models import Claim, Event, Report

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FLAGSHIP = SHARED / "samples" / "000_0935f1ffdb46c564.txt"


@pytest.fixture(scope="session")
def flagship_report() -> Report:
    """The flagship sample with its publication date, as `make demo` ingests it."""
    if not FLAGSHIP.exists():
        pytest.skip("../shared is not here: the flagship sample is not available")
    return Report.create(FLAGSHIP.read_text(encoding="utf-8"), published=date(2017, 4, 23))


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL server of $KHARITA_TEST_PG_URL (postgresql+psycopg://user:pw@host/db);
    tests needing it skip when it is unset or unreachable."""
    url = os.environ.get("KHARITA_TEST_PG_URL")
    if not url:
        pytest.skip("KHARITA_TEST_PG_URL is not set: PostgreSQL tests skipped")
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        pytest.skip(f"PostgreSQL of KHARITA_TEST_PG_URL is unreachable: {exc.orig}")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A URL of the test server whose tables live in a schema of their own, dropped afterwards."""
    schema = f"kharita_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(pg_server)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    # `public` stays on the path: PostGIS, when created, lives there.
    yield f"{pg_server}{'&' if '?' in pg_server else '?'}options=-csearch_path%3D{schema},public"
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path: Path) -> str:
    """A fresh, empty database on each backend: a SQLite file, a PostgreSQL schema."""
    if request.param == "sqlite":
        return str(tmp_path / "k.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def report() -> Report:
    return Report.create(
        "Warplanes struck the town of Saraqib on Monday, killing five civilians, a medic said.",
        title="Strikes on Saraqib", outlet="Test Wire", published=date(2020, 2, 4),
    )


@pytest.fixture
def event(report: Report) -> Event:
    def span(phrase: str):
        start = report.text.index(phrase)
        return report.span(start, start + len(phrase))

    return Event(
        event_id_cnty="SYR000000000001", event_date=date(2020, 2, 3), year=2020, time_precision=1,
        disorder_type="Political violence", event_type="Explosions/Remote violence",
        sub_event_type="Air/drone strike", actor1="Military Forces of Syria (2000-)", inter1=1,
        actor2="Civilians (Syria)", inter2=7, interaction=17, civilian_targeting="Civilian targeting",
        iso=760, region="Middle East", country="Syria", admin1="Idlib", location="Saraqib",
        latitude=35.8623, longitude=36.8006, geo_precision=1, source="Test Wire", fatalities=5,
        claims=[Claim(kind="fatalities", value=5, victims="civilians", source="a medic",
                      evidence=[span("killing five civilians")])],
        report_ids=[report.id],
        evidence={"sub_event_type": [span("Warplanes struck")], "location": [span("Saraqib")],
                  "fatalities": [span("killing five civilians")]},
    )
