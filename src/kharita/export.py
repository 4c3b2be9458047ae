"""Exports: ACLED CSV, GeoJSON and Parquet, written from `Event`s.

The ACLED CSV has ACLED's columns in ACLED's order, so it loads wherever ACLED
data does; GeoJSON and Parquet carry the extras too (weapons, claims, evidence).
"""
from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .models import ACLED_COLUMNS, Event

FORMATS = ("acled-csv", "geojson", "parquet")
HEALTH_FORMATS = ("csv", "geojson")

# The health-care register's columns: WHO SSA fields with the event they come from.
HEALTH_COLUMNS = (
    "event_id", "event_date", "time_precision", "country", "admin1", "location", "latitude", "longitude",
    "attack_type", "facility_types", "resources_affected", "facility_damage", "health_workers_killed",
    "health_workers_injured", "patients_killed", "patients_injured", "perpetrator", "perpetrator_named",
    "independent_sources", "certainty", "sources", "claims", "report_ids",
)


def write_acled_csv(events: Iterable[Event], path: str | Path) -> int:
    count = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=ACLED_COLUMNS)
        writer.writeheader()
        for event in events:
            row = event.acled_row()
            writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
            count += 1
    return count


def to_feature(event: Event) -> dict:
    properties = event.model_dump(mode="json", exclude={"latitude", "longitude"})
    return {
        "type": "Feature",
        "id": event.event_id_cnty,
        "geometry": {"type": "Point", "coordinates": [event.longitude, event.latitude]},
        "properties": properties,
    }


def feature_collection(events: Iterable[Event]) -> dict:
    """Events with coordinates as a GeoJSON FeatureCollection (RFC 7946: lon, lat)."""
    return {
        "type": "FeatureCollection",
        "features": [to_feature(e) for e in events if e.latitude is not None and e.longitude is not None],
    }


def write_geojson(events: Iterable[Event], path: str | Path) -> int:
    """The FeatureCollection of `feature_collection`, written a feature at a time: memory
    stays that of one event however many are exported."""
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('{"type": "FeatureCollection", "features": [')
        for event in events:
            if event.latitude is None or event.longitude is None:
                continue
            handle.write(", " if count else "")
            handle.write(json.dumps(to_feature(event), ensure_ascii=False))
            count += 1
        handle.write("]}")
    return count


# ACLED columns typed as ACLED publishes them; nested extras kept as JSON text so
# the file reads in any Parquet tool without a custom schema.
_PARQUET_SCHEMA = pa.schema(
    [pa.field(c, pa.string()) for c in ACLED_COLUMNS]
    + [pa.field("geonames_id", pa.int64()), pa.field("weapons", pa.list_(pa.string())),
       pa.field("injuries", pa.int64()), pa.field("plover_event", pa.string()), pa.field("plover_mode", pa.string()),
       pa.field("confidence", pa.float64()), pa.field("report_ids", pa.list_(pa.string())),
       pa.field("claims_json", pa.string()), pa.field("evidence_json", pa.string())]
)
_TYPED = {"year": pa.int32(), "time_precision": pa.int8(), "inter1": pa.int8(), "inter2": pa.int8(),
          "interaction": pa.int16(), "iso": pa.int16(), "latitude": pa.float64(), "longitude": pa.float64(),
          "geo_precision": pa.int8(), "fatalities": pa.int32(), "event_date": pa.date32()}
_PARQUET_SCHEMA = pa.schema([pa.field(f.name, _TYPED.get(f.name, f.type)) for f in _PARQUET_SCHEMA])


def events_table(events: Iterable[Event]) -> pa.Table:
    rows = []
    for e in events:
        row = e.model_dump(include=set(ACLED_COLUMNS) | {"geonames_id", "weapons", "injuries", "plover_event",
                                                          "plover_mode", "confidence", "report_ids"})
        row["claims_json"] = json.dumps([c.model_dump(mode="json") for c in e.claims], ensure_ascii=False)
        row["evidence_json"] = json.dumps(
            {k: [s.model_dump() for s in v] for k, v in e.evidence.items()}, ensure_ascii=False)
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=_PARQUET_SCHEMA)


PARQUET_ROW_GROUP = 2_000  # events per row group, converted and written together (a few MB)


def write_parquet(events: Iterable[Event], path: str | Path) -> int:
    """Events as Parquet (zstd), a row group at a time: memory stays that of one group."""
    count = 0
    with pq.ParquetWriter(path, _PARQUET_SCHEMA, compression="zstd") as writer:
        chunk: list[Event] = []
        for event in itertools.chain(events, [None]):
            if event is not None:
                chunk.append(event)
            if chunk and (event is None or len(chunk) >= PARQUET_ROW_GROUP):
                writer.write_table(events_table(chunk))
                count += len(chunk)
                chunk = []
    return count


def write(events: Iterable[Event], fmt: str, path: str | Path) -> int:
    """Write events in one of `FORMATS`, streaming them (pass `Store.iter_events` for
    exports of any size); returns how many were written."""
    writers = {"acled-csv": write_acled_csv, "geojson": write_geojson, "parquet": write_parquet}
    if fmt not in writers:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return writers[fmt](events, path)


def health_row(event: Event) -> dict:
    """One row of the health-care register (the event must have a health record)."""
    record = event.health
    assert record is not None
    claims = "; ".join(f"{c.value} {c.victims or ''} {c.kind} ({c.source or 'unattributed'})".replace("  ", " ")
                       for c in event.claims)
    return {
        "event_id": event.event_id_cnty, "event_date": event.event_date.isoformat(),
        "time_precision": event.time_precision, "country": event.country, "admin1": event.admin1,
        "location": event.location, "latitude": event.latitude, "longitude": event.longitude,
        "attack_type": record.attack_type, "facility_types": "; ".join(record.facility_types),
        "resources_affected": "; ".join(record.resources_affected), "facility_damage": record.facility_damage,
        "health_workers_killed": record.health_workers_killed, "health_workers_injured": record.health_workers_injured,
        "patients_killed": record.patients_killed, "patients_injured": record.patients_injured,
        "perpetrator": event.actor1, "perpetrator_named": record.perpetrator_named,
        "independent_sources": record.independent_sources, "certainty": record.certainty,
        "sources": event.source, "claims": claims, "report_ids": "; ".join(event.report_ids),
    }


def write_health(events: Iterable[Event], fmt: str, path: str | Path) -> int:
    """Write the register of attacks on health care as CSV or GeoJSON."""
    rows = [health_row(e) for e in events if e.health is not None]
    if fmt == "csv":
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=HEALTH_COLUMNS)
            writer.writeheader()
            writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    elif fmt == "geojson":
        features = [{"type": "Feature", "id": row["event_id"],
                     "geometry": {"type": "Point", "coordinates": [row["longitude"], row["latitude"]]},
                     "properties": row} for row in rows if row["latitude"] is not None]
        Path(path).write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                              encoding="utf-8")
        rows = features
    else:
        raise ValueError(f"unknown health register format {fmt!r}; choose one of {', '.join(HEALTH_FORMATS)}")
    return len(rows)
