"""Who holds which place when: claims from events and statements, merged into timelines."""
from datetime import date

import pytest
from typer.testing import CliRunner

from kharita import control
from kharita.cli import app
from kharita.models import Report
from kharita.pipeline import Pipeline
from kharita.store import Store


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline()


def claims(pipeline, text, published=date(2020, 2, 5)):
    return pipeline.annotate(Report.create(text, published=published)).control


def test_a_recapture_after_years_of_rebel_rule(pipeline):
    found = claims(pipeline, "The town of Saraqib, in Idlib province, has been controlled by rebels since March 2015. "
                             "Government forces recaptured Saraqib on Monday.")
    periods = control.timeline(found)
    assert [(p.side, p.start, p.precision) for p in periods] == [
        ("opposition", date(2015, 3, 1), 3), ("government", date(2020, 2, 3), 1)]
    assert periods[0].end == date(2020, 2, 3)
    assert [s.text for s in periods[0].claims[0].evidence] == ["Saraqib", "controlled by", "rebels", "since March 2015"]


def test_held_adjectives_and_withdrawals(pipeline):
    [held] = claims(pipeline, "Shelling hit the rebel-held town of Ariha in Idlib province on Monday.")
    assert (held.place, held.side, held.kind, held.start) == ("Ariha", "opposition", "held", date(2020, 2, 5))
    [left] = claims(pipeline, "Rebels withdrew from the town of Kafr Nabl in Idlib province on Tuesday.")
    assert (left.place, left.side, left.lost_by, left.kind) == ("Kafranbel", "", "opposition", "withdrawal")


def test_contradicting_reports_make_a_place_contested(pipeline):
    first = claims(pipeline, "Government forces captured the town of Saraqib in Idlib province on Monday.")
    second = claims(pipeline, "Rebels seized the town of Saraqib in Idlib province on Monday.")
    [period] = control.timeline(first + second)
    assert period.side == control.CONTESTED and len(period.claims) == 2


def test_no_claim_for_countries_provinces_or_relative_places(pipeline):
    assert claims(pipeline, "Syria has been controlled by the government since 1970.") == []
    assert claims(pipeline, "Government forces recaptured villages north of Hama on Monday.") == []


def test_flagship_timelines(flagship_report, pipeline):
    by_place: dict[str, list] = {}
    for claim in pipeline.annotate(flagship_report).control:
        by_place.setdefault(claim.place, []).append(claim)
    halfaya = control.timeline(by_place["Halfaya"])
    assert [(p.side, p.start) for p in halfaya] == [("opposition", date(2016, 8, 1)), ("government", date(2017, 4, 23))]
    taibat = control.timeline(by_place["Tayyibat al Imam"])
    assert [(p.side, p.precision) for p in taibat] == [("government", 2)]
    assert date(2017, 4, 17) <= taibat[0].start <= date(2017, 4, 23)


def test_control_command(tmp_path, pipeline):
    db = tmp_path / "k.db"
    store = Store(db)
    report = Report.create("Government forces recaptured the town of Saraqib in Idlib province on Monday, "
                           "after rebels had held it since March 2015.", published=date(2020, 2, 5))
    doc = pipeline.annotate(report)
    store.add(report, doc.events, doc.control)
    runner = CliRunner()
    result = runner.invoke(app, ["control", "Saraqib", "--db", str(db)])
    assert result.exit_code == 0 and "government: from 2020-02-03" in result.stdout
    result = runner.invoke(app, ["control", "--date", "2020-02-04", "--format", "json", "--db", str(db)])
    assert [(r["place"], r["side"]) for r in __import__("json").loads(result.stdout)] == [("Saraqib", "government")]
    assert runner.invoke(app, ["control", "--db", str(db)]).exit_code != 0
