"""Shared fixtures: a small hand-built report and event, and the flagship sample's path."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kharita.models import Claim, Event, Report

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FLAGSHIP = SHARED / "samples" / "000_0935f1ffdb46c564.txt"


@pytest.fixture(scope="session")
def flagship_report() -> Report:
    """The flagship sample with its publication date, as `make demo` ingests it."""
    if not FLAGSHIP.exists():
        pytest.skip("../shared is not here: the flagship sample is not available")
    return Report.create(FLAGSHIP.read_text(encoding="utf-8"), published=date(2017, 4, 23))


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
