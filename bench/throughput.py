"""Throughput of the whole pipeline, ingest to stored events, on FA-KES dev.

    .venv/bin/python bench/throughput.py [--csv ../shared/eval/fakes/dev.csv] [--repeat 3] [--no-store]

Prints reports/s and peak resident memory. The gazetteer and dictionaries load
before the clock starts (they load once per process in real use too); the first
pass warms caches and is not timed when --repeat > 1.
Not a test: these machines are shared and noisy, so compare runs side by side.
"""
from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from kharita.dates import latest_explicit_date
from kharita.models import Report
from kharita.pipeline import Pipeline
from kharita.store import Store

DEFAULT_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "fakes" / "dev.csv"


def load_reports(path: Path) -> list[Report]:
    csv.field_size_limit(sys.maxsize)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    reports = []
    for row in rows:
        text = row["article_content"]
        reports.append(Report.create(text, title=row.get("article_title"), outlet=row.get("source"),
                                     published=latest_explicit_date(text), published_inferred=True))
    return reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the corpus")
    parser.add_argument("--no-store", action="store_true", help="time extraction only, no database writes")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not args.csv.exists():
        sys.exit(f"{args.csv} not found (it lives in ../shared/eval/fakes)")

    reports = load_reports(args.csv)
    pipeline = Pipeline()
    for report in reports[:5]:  # warm-up: caches, lazily built matchers
        pipeline(report)

    events = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.repeat):
            store = None if args.no_store else Store(Path(tmp) / f"bench{run}.db")
            for report in reports:
                found = pipeline(report)
                events += len(found)
                if store is not None:
                    store.add(report, found)
            if store is not None:
                store.close()
    elapsed = time.perf_counter() - start
    processed = len(reports) * args.repeat
    result = {
        "reports": processed,
        "seconds": round(elapsed, 3),
        "reports_per_s": round(processed / elapsed, 1),
        "events_per_report": round(events / processed, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "store": not args.no_store,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['reports']} reports in {result['seconds']} s: {result['reports_per_s']} reports/s "
              f"({'with' if result['store'] else 'without'} SQLite writes), "
              f"{result['events_per_report']} events/report, peak RSS {result['peak_rss_mb']} MB")


if __name__ == "__main__":
    main()
