"""The command line, as a user runs it: ingest, list, export; bad input reported, not fatal."""
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kharita.cli import app

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
runner = CliRunner()


def kharita(*args: str, db: Path):
    return runner.invoke(app, [*args, "--db", str(db)])


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "k.db"
    result = kharita("ingest", str(SAMPLES), db=path)
    assert result.exit_code == 0, result.output
    return path


def test_ingesting_the_samples_stores_reports_and_events(db):
    events = json.loads(kharita("events", "--format", "json", db=db).stdout)
    assert len(events) >= 5
    assert {e["country"] for e in events} >= {"Syria", "Yemen", "Mali"}


def test_ingesting_again_changes_nothing(db):
    before = json.loads(kharita("events", "--format", "json", db=db).stdout)
    result = kharita("ingest", str(SAMPLES), db=db)
    assert result.exit_code == 0
    assert "0 new report(s)" in result.stdout
    assert json.loads(kharita("events", "--format", "json", db=db).stdout) == before


def test_filters(db):
    syria = json.loads(kharita("events", "--place", "Syria", "--format", "json", db=db).stdout)
    assert syria and all(e["country"] == "Syria" for e in syria)
    strikes = json.loads(kharita("events", "--type", "Air/drone strike", "--format", "json", db=db).stdout)
    assert strikes and all(e["sub_event_type"] == "Air/drone strike" for e in strikes)
    assert kharita("events", "--from", "not-a-date", db=db).exit_code != 0


def test_table_output_lists_events(db):
    result = kharita("events", db=db)
    assert result.exit_code == 0 and "event(s)" in result.stdout


@pytest.mark.parametrize("fmt, name", [("acled-csv", "e.csv"), ("geojson", "e.geojson"), ("parquet", "e.parquet")])
def test_export(db, tmp_path, fmt, name):
    out = tmp_path / name
    result = kharita("export", "--format", fmt, "-o", str(out), db=db)
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0


def test_a_bad_file_is_reported_and_the_good_ones_still_ingested(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "empty.txt").write_text("")
    (folder / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    (folder / "good.txt").write_text(
        "Shelling hits Saraqib\n\nGovernment artillery shelled the town of Saraqib in Idlib province "
        "on Monday, killing two civilians, local rescuers said.\n")
    result = kharita("ingest", str(folder), "--published", "2020-01-14", db=tmp_path / "k.db")
    assert result.exit_code == 1
    assert "empty.txt" in result.output and "blob.txt" in result.output
    assert "1 new report(s)" in result.stdout
    events = json.loads(kharita("events", "--format", "json", db=tmp_path / "k.db").stdout)
    assert [e["sub_event_type"] for e in events] == ["Shelling/artillery/missile attack"]
    assert events[0]["fatalities"] == 2 and events[0]["event_date"] == "2020-01-13"
