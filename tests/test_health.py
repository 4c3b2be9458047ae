"""The register of attacks on health care (WHO SSA fields), from reports written for these tests."""
import csv
import json
from datetime import date

import pytest
from typer.testing import CliRunner

from kharita.cli import app
from kharita.models import Report
from kharita.pipeline import Pipeline
from kharita.store import Store

HOSPITAL = ("An air strike hit the main hospital in the town of Ariha in Idlib province on Monday, killing two "
            "nurses and three patients, a doctor said. The strike put the hospital out of service.")
MARKET = "Shelling hit a market in the town of Ariha in Idlib province on Monday, killing four civilians."


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline()


def test_a_strike_on_a_hospital_is_coded_for_the_register(pipeline):
    [event] = pipeline(Report.create(HOSPITAL, published=date(2020, 2, 5)))
    record = event.health
    assert record.attack_type == "heavy weapons"
    assert record.facility_types == ["hospital"]
    assert record.facility_damage == "destroyed"
    assert (record.health_workers_killed, record.patients_killed) == (2, 3)
    assert record.resources_affected == ["health facility", "health personnel", "patients"]
    assert record.certainty == "probable"  # one named source
    assert record.evidence["facility_types"][0].text == "hospital"


def test_an_attack_elsewhere_is_not_in_the_register(pipeline):
    [event] = pipeline(Report.create(MARKET, published=date(2020, 2, 5)))
    assert event.health is None


def test_health_command_writes_csv_and_geojson(tmp_path, pipeline):
    db = tmp_path / "k.db"
    store = Store(db)
    for text in (HOSPITAL, MARKET):
        report = Report.create(text, published=date(2020, 2, 5))
        store.add(report, pipeline(report))
    runner = CliRunner()
    out = tmp_path / "health.csv"
    result = runner.invoke(app, ["health", "--format", "csv", "-o", str(out), "--db", str(db)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 1 and rows[0]["location"] == "Ariha" and rows[0]["patients_killed"] == "3"
    result = runner.invoke(app, ["health", "--format", "geojson", "--db", str(db)])
    assert json.loads(result.stdout)["features"][0]["properties"]["attack_type"] == "heavy weapons"
    assert runner.invoke(app, ["health", "--format", "xlsx", "--db", str(db)]).exit_code != 0
