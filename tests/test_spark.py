"""The Spark backfill: same events as `kharita ingest` + `kharita export`, bad input rejected.

Runs Spark in local mode (local[2]) with one session for the module; skipped without
pyspark or Java. The blocking tests at the end are pure Python and always run.
"""
from __future__ import annotations

import json
import math
import random
import shutil
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kharita.cli import app
from kharita.merge import km_between
from kharita.spark import blocking

runner = CliRunner()

# Reports written for these tests: several outlets telling the same happenings (they merge),
# others apart in type, place or time, over three months and two countries.
REPORTS: dict[str, list[dict]] = {
    "a.jsonl": [
        {"title": "Air strikes hit Saraqib", "outlet": "North Wire", "published": "2019-03-04",
         "text": "Warplanes struck the town of Saraqib in Idlib province on Sunday, March 3, 2019, killing five "
                 "civilians, local rescuers said. The strikes destroyed a bakery near the main market."},
        {"title": "Shelling kills two in Maarat al-Numan", "outlet": "North Wire", "published": "2019-03-05",
         "text": "Government artillery shelled Maarat al-Numan on March 4, 2019, killing two women, according to "
                 "a local council official."},
        {"title": "Clashes north of Aleppo", "outlet": "Levant Daily", "published": "2019-02-28",
         "text": "Rebel fighters clashed with government forces near Tal Rifaat, north of Aleppo, on February 27, "
                 "2019. Four fighters were killed in the fighting, a monitoring group said."},
    ],
    "b.jsonl": [
        {"title": "Saraqib raid toll rises", "outlet": "Levant Daily", "published": "2019-03-04",
         "text": "At least seven civilians were killed when warplanes struck Saraqib, in Idlib province, on March "
                 "3, 2019, a civil defence volunteer said. Rescuers were still searching the rubble on Monday."},
        {"title": "Car bomb in Azaz", "outlet": "Border News", "published": "2019-03-10",
         "text": "A car bomb exploded in the town of Azaz near the Turkish border on March 9, 2019, killing three "
                 "people and wounding ten, police said."},
        {"title": "Protest in Beirut", "outlet": "Cedar Post", "published": "2019-03-12",
         "text": "Hundreds of people protested peacefully in Beirut on March 11, 2019 against rising fuel prices, "
                 "organisers said."},
    ],
    "nested/c.jsonl": [
        {"title": "Azaz explosion", "outlet": "North Wire", "published": "2019-03-10",
         "text": "Three people were killed on March 9, 2019 when a car bomb went off in Azaz, north of Aleppo, a "
                 "local official said."},
        {"title": "Fighting near Tal Rifaat", "outlet": "Border News", "published": "2019-02-28",
         "text": "Fighting broke out between rebels and government forces near Tal Rifaat on February 27, 2019, "
                 "leaving five fighters dead, an activist said."},
        {"title": "Strike on Taiz", "outlet": "Gulf Monitor", "published": "2019-04-02",
         "text": "Coalition aircraft bombed a market in Taiz, Yemen, on April 1, 2019, killing six civilians, "
                 "medics said."},
        {"title": "Taiz market bombed", "outlet": "Sana Times", "published": "2019-04-02",
         "text": "Six civilians died on April 1, 2019 after an air strike hit a crowded market in the city of "
                 "Taiz, hospital staff said."},
    ],
}


def _java() -> bool:
    return shutil.which("java") is not None


needs_spark = pytest.mark.skipif(not _java(), reason="Java is not installed (CI installs default-jre-headless)")


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    if not _java():
        pytest.skip("Java is not installed")
    from kharita.spark import job

    session = job.session("local[2]", app_name="kharita-tests")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("backfill") / "in"
    for name, records in REPORTS.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return root


def _single_process(inputs: Path, tmp: Path, *options: str) -> list[dict]:
    """The reference: `kharita ingest` into SQLite, then `kharita export --format parquet`."""
    db, out = tmp / "reference.db", tmp / "reference.parquet"
    result = runner.invoke(app, ["ingest", str(inputs), "--db", str(db), *options])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["export", "--format", "parquet", "-o", str(out), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return _rows(pq.read_table(out))


def _spark_rows(output: Path) -> list[dict]:
    table = ds.dataset(output, format="parquet", partitioning="hive").to_table()
    return _rows(table.drop_columns(["event_month"]))


def _rows(table: pa.Table) -> list[dict]:
    return sorted(table.to_pylist(), key=lambda row: row["event_id_cnty"])


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> list[dict]:
    return _single_process(corpus, tmp_path_factory.mktemp("reference"))


@needs_spark
def test_backfill_equals_ingest_then_export(spark, corpus, reference, tmp_path):
    from kharita.spark.job import run

    counts = run(spark, str(corpus), str(tmp_path / "events"), partitions=4)
    rows = _spark_rows(tmp_path / "events")
    assert rows == reference  # every column, every row
    assert counts.read == counts.reports == sum(len(r) for r in REPORTS.values())
    assert counts.rejected == 0 and counts.merged_events == len(rows)
    assert counts.events > counts.merged_events  # reports of one happening were merged...
    assert any(len(row["report_ids"]) > 1 for row in rows)
    assert counts.components > 1  # ...apart from the others, in several blocking components
    months = sorted(p.name for p in (tmp_path / "events").iterdir() if p.name.startswith("event_month="))
    assert months == ["event_month=2019-02", "event_month=2019-03", "event_month=2019-04"]


@needs_spark
def test_parquet_input_gives_the_same_events(spark, corpus, reference, tmp_path):
    from kharita.spark.job import run

    # The same records in one Parquet file, in the order ingest reads the JSON lines.
    records = [r for name in sorted(REPORTS, key=lambda n: n.split("/")) for r in REPORTS[name]]
    table = pa.Table.from_pylist([{**r, "published": date.fromisoformat(r["published"])} for r in records])
    (tmp_path / "in").mkdir()
    pq.write_table(table, tmp_path / "in" / "reports.parquet")
    counts = run(spark, str(tmp_path / "in"), str(tmp_path / "events"), fmt="parquet", partitions=3)
    assert counts.read == len(records) and counts.rejected == 0
    assert _spark_rows(tmp_path / "events") == reference


@needs_spark
def test_text_files_equal_ingest_of_the_same_folder(spark, tmp_path):
    from kharita.spark.job import run

    folder = tmp_path / "texts"
    for number, record in enumerate(r for records in REPORTS.values() for r in records):
        path = folder / ("later" if number % 3 == 0 else "") / f"report-{number:02d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(record["title"] + "\n\n" + record["text"] + "\n", encoding="utf-8")
    reference = _single_process(folder, tmp_path, "--published", "2019-04-30")
    counts = run(spark, str(folder), str(tmp_path / "events"), fmt="text", published=date(2019, 4, 30),
                 partitions=2)
    assert counts.read == counts.reports == sum(len(r) for r in REPORTS.values())
    assert _spark_rows(tmp_path / "events") == reference


@needs_spark
def test_bad_lines_are_counted_and_written_to_the_rejects_file(spark, tmp_path):
    good = REPORTS["a.jsonl"][0]
    lines = [
        json.dumps(good).encode(),
        b'{"text": "Shelling hit the village at dawn", "title": ',  # cut short
        b"",  # blank lines are skipped, not rejected
        json.dumps({"text": "   ", "title": "Nothing here"}).encode(),
        b"\x00\x01\x02PK\x03\x04 not a line of text \x00\xff",
        json.dumps({"text": "Shelling was reported. " * 200}).encode(),  # over --max-bytes below
        json.dumps({"text": "A protest was held in Homs on March 2, 2019.", "published": "last Tuesday-ish"}).encode(),
    ]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "mixed.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    result = runner.invoke(app, ["spark", "run", "--input", str(tmp_path / "in"), "--output", str(tmp_path / "events"),
                                 "--rejects", str(tmp_path / "rejects"), "--max-bytes", "2000", "--partitions", "2"])
    assert result.exit_code == 0, result.output
    assert "read 6, rejected 5, reports 1" in result.output
    rejects = [json.loads(line) for part in sorted((tmp_path / "rejects").glob("part-*.json"))
               for line in part.read_text(encoding="utf-8").splitlines()]
    by_line = {r["line"]: r for r in rejects}
    assert sorted(by_line) == [2, 4, 5, 6, 7]
    assert all(r["source"] == str(tmp_path / "in" / "mixed.jsonl") for r in rejects)
    assert by_line[2]["reason"].startswith("invalid JSON")
    assert "empty" in by_line[4]["reason"]
    assert "binary" in by_line[5]["reason"]
    assert by_line[6]["reason"].startswith("too large")
    assert "not a recognisable date" in by_line[7]["reason"]
    assert _spark_rows(tmp_path / "events")  # the good line's events were still written


# -- blocking (pure Python) ------------------------------------------------------------------

def _destination(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    """The point `km` from (lat, lon) along `bearing` (degrees), on the sphere."""
    delta, theta = km / blocking.EARTH_RADIUS_KM, math.radians(bearing)
    phi1, lam1 = math.radians(lat), math.radians(lon)
    phi2 = math.asin(math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta))
    lam2 = lam1 + math.atan2(math.sin(theta) * math.sin(delta) * math.cos(phi1),
                             math.cos(delta) - math.sin(phi1) * math.sin(phi2))
    return math.degrees(phi2), (math.degrees(lam2) + 540) % 360 - 180


def test_places_that_can_match_are_in_adjacent_cubes_anywhere_on_earth():
    rng = random.Random(7)
    starts = [(89.9, 10.0), (-89.5, 170.0), (0.0, 179.99), (35.9, 36.6), (64.1, -21.9)]
    starts += [(rng.uniform(-90, 90), rng.uniform(-180, 180)) for _ in range(400)]
    for lat, lon in starts:
        for _ in range(5):
            other = _destination(lat, lon, rng.uniform(0, blocking.MAX_REACH_KM), rng.uniform(0, 360))
            assert km_between(lat, lon, *other) <= blocking.MAX_REACH_KM + 1e-6
            a, b = blocking.cube(lat, lon), blocking.cube(*other)
            assert b in blocking.adjacent_geo_keys(a), (lat, lon, other)


def test_dates_that_can_match_are_in_adjacent_buckets():
    start = date(2011, 1, 1)
    for offset in range(0, 400, 3):
        day = start + timedelta(days=offset)
        for gap in range(0, 32):
            assert abs(blocking.time_bucket(day + timedelta(days=gap)) - blocking.time_bucket(day)) <= 1


def test_components_join_adjacent_cells_and_only_those():
    strike = "Explosions/Remote violence"
    day = date(2019, 3, 3)
    here = blocking.mention_cells(strike, day, blocking.geo_keys(35.86, 36.80, "Saraqib"))
    near = blocking.mention_cells(strike, day + timedelta(days=20), blocking.geo_keys(35.65, 36.67, "Maarat"))
    far = blocking.mention_cells(strike, day, blocking.geo_keys(13.58, 44.02, "Taiz"))
    other_type = blocking.mention_cells("Battles", day, blocking.geo_keys(35.86, 36.80, "Saraqib"))
    by_name = blocking.mention_cells(strike, day, blocking.geo_keys(None, None, "saraqib"))
    sets = blocking.link_cells([here, near, far, other_type, by_name])
    ids = blocking.component_ids(sets)
    assert ids[here[0]] == ids[near[0]] == ids[by_name[0]]
    assert len({ids[here[0]], ids[far[0]], ids[other_type[0]]}) == 3


def test_a_footprint_reaching_another_component_joins_it():
    kind = "Battles"
    # The last day of a time bucket, so that 20 days later is the next bucket and 40 days
    # earlier the one before.
    day = date(2019, 3, 3)
    day += timedelta(days=(blocking.TIME_BUCKET_DAYS - 1 - day.toordinal()) % blocking.TIME_BUCKET_DAYS)
    later, earlier = day + timedelta(days=20), day - timedelta(days=40)
    # One event: mention A (bucket t, cube 0) gives its date, mention B (bucket t+1, cube 1)
    # its place. A lone mention at (bucket t-1, cube 2) is adjacent to neither of them...
    a = blocking.mention_cells(kind, day, [("xyz", 0, 0, 0)])
    b = blocking.mention_cells(kind, later, [("xyz", 1, 0, 0)])
    lone = blocking.mention_cells(kind, earlier, [("xyz", 2, 0, 0)])
    sets = blocking.link_cells([a, b, lone])
    ids = blocking.component_ids(sets)
    assert ids[a[0]] == ids[b[0]] != ids[lone[0]]
    # ...but the event, dated by A and placed by B, can be compared from it.
    footprint = blocking.footprint(kind, [blocking.time_bucket(day), blocking.time_bucket(later)],
                                   [("xyz", 0, 0, 0), ("xyz", 1, 0, 0)])
    assert blocking.close_components(sets, [(a[0], footprint)]) == 1
    ids = blocking.component_ids(sets)
    assert ids[a[0]] == ids[lone[0]]
    assert blocking.close_components(sets, [(a[0], footprint)]) == 0  # closed now


def test_cells_travel_as_text_and_come_back_equal():
    for cell in [("Battles", 23456, ("xyz", -3, 0, 41)), ("Protests", -1, ("name", "ḥalfāyā \"north\""))]:
        text = blocking.cell_text(cell)
        assert isinstance(text, str)
        assert blocking.cell_from_text(text) == cell


def test_components_are_spread_so_that_partitions_hold_about_as_many_mentions():
    sizes = {0: 900, 1: 500, 2: 400, 3: 300, 4: 300, 5: 200, 6: 100, 7: 100, 8: 100}
    slots = blocking.assign_slots(sizes, 3)
    assert set(slots) == set(sizes) and set(slots.values()) <= {0, 1, 2}
    loads = [sum(n for c, n in sizes.items() if slots[c] == slot) for slot in range(3)]
    assert sorted(loads) == [900, 1000, 1000]  # the largest alone; no slot holds two of the three largest
    assert blocking.assign_slots(sizes, 3) == slots  # the same sizes, the same slots
    assert set(blocking.assign_slots({5: 10}, 4).values()) <= set(range(4))
