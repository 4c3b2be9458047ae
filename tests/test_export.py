import csv
import json

import pyarrow.parquet as pq

from kharita import export
from kharita.models import ACLED_COLUMNS


def test_acled_csv_has_acleds_columns_in_order(tmp_path, event):
    path = tmp_path / "events.csv"
    assert export.write([event], "acled-csv", path) == 1
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == ACLED_COLUMNS
    assert rows[0]["sub_event_type"] == "Air/drone strike"
    assert rows[0]["event_date"] == "2020-02-03"
    assert rows[0]["fatalities"] == "5"


def test_geojson_points_are_lon_lat_with_evidence(tmp_path, event):
    path = tmp_path / "events.geojson"
    export.write([event], "geojson", path)
    collection = json.loads(path.read_text())
    feature = collection["features"][0]
    assert feature["geometry"]["coordinates"] == [event.longitude, event.latitude]
    assert feature["properties"]["evidence"]["location"][0]["text"] == "Saraqib"


def test_events_without_coordinates_are_left_out_of_geojson(event):
    unlocated = event.model_copy(update={"latitude": None, "longitude": None})
    assert export.feature_collection([unlocated])["features"] == []


def test_parquet_is_typed(tmp_path, event):
    path = tmp_path / "events.parquet"
    export.write([event], "parquet", path)
    table = pq.read_table(path)
    row = table.to_pylist()[0]
    assert row["fatalities"] == 5 and row["latitude"] == event.latitude
    assert str(table.schema.field("event_date").type) == "date32[day]"
    assert json.loads(row["claims_json"])[0]["source"] == "a medic"


def test_unknown_format_is_a_clear_error(tmp_path, event):
    import pytest

    with pytest.raises(ValueError, match="unknown export format"):
        export.write([event], "xlsx", tmp_path / "x")


def test_exports_stream_many_events_in_chunks(tmp_path, event, monkeypatch):
    # Row groups of two: five events are written as three groups and read back whole.
    monkeypatch.setattr(export, "PARQUET_ROW_GROUP", 2)
    events = [event.model_copy(update={"event_id_cnty": f"TST{i:012d}", "fatalities": i}) for i in range(5)]
    unlocated = event.model_copy(update={"event_id_cnty": "TST000000000099", "latitude": None, "longitude": None})
    assert export.write(iter(events), "parquet", tmp_path / "e.parquet") == 5
    parquet = pq.ParquetFile(tmp_path / "e.parquet")
    assert parquet.num_row_groups == 3
    assert [r["fatalities"] for r in parquet.read().to_pylist()] == [0, 1, 2, 3, 4]
    assert export.write(iter([*events, unlocated]), "geojson", tmp_path / "e.geojson") == 5
    collection = json.loads((tmp_path / "e.geojson").read_text())
    assert collection == export.feature_collection([*events, unlocated])
    assert export.write(iter([]), "parquet", tmp_path / "none.parquet") == 0
    assert pq.read_table(tmp_path / "none.parquet").num_rows == 0
    assert export.write(iter([]), "geojson", tmp_path / "none.geojson") == 0
    assert json.loads((tmp_path / "none.geojson").read_text()) == {"type": "FeatureCollection", "features": []}
