"""Merge at scale: events/s and peak memory merging N events into a fresh SQLite store.

    .venv/bin/python bench/merge_scale.py --sizes 10000 100000 [1000000]

The events are resampled from real ones: FA-KES dev (../shared/eval/fakes/dev.csv) goes
through the pipeline once; its events are then copied with new ids and reports and
their dates shifted at random over a span that grows with N (constant events per day,
`--per-day`), so the store grows with realistic places, types and duplicates. Evidence spans are dropped from the copies to keep the
database small; merging does not read them. Each size runs in a fresh process-local
store; time per event should stay flat (blocking keeps candidates few) but for the
log factor of the B-tree indexes, so total time grows no faster than n log n: the last
lines give, for each step between sizes, the fitted exponent and the n log n ratio.
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from throughput import DEFAULT_CSV, load_reports

from kharita.models import Event, Report
from kharita.pipeline import Pipeline
from kharita.store import Store

REPORT_EVENTS = 3  # events per synthetic report, about FA-KES's average


def seed_events(csv_path: Path) -> list[Event]:
    pipeline = Pipeline()
    events = [e for report in load_reports(csv_path) for e in pipeline(report)]
    return [e.model_copy(update={"evidence": {}, "claims": [c.model_copy(update={"evidence": []}) for c in e.claims],
                                 "notes": e.notes[:120], "health": None}) for e in events]


def resampled(seed: list[Event], n: int, rng: random.Random, per_day: float):
    """n events in reports of REPORT_EVENTS, ids and dates new, spread so that about
    `per_day` events fall on each day (a corpus that grows by covering more time)."""
    start = date(2012, 1, 1)
    span = max(365, int(n / per_day))
    for index in range(0, n, REPORT_EVENTS):
        report = Report.create(f"synthetic report {index}", published=start)
        shift = timedelta(days=rng.randrange(span))
        batch = []
        for k in range(min(REPORT_EVENTS, n - index)):
            event = rng.choice(seed)
            day = event.event_date.replace(year=2012) if event.event_date.month != 2 or event.event_date.day < 29 \
                else event.event_date.replace(year=2012, day=28)
            batch.append(event.model_copy(update={
                "event_id_cnty": f"SYN{index + k:012d}", "event_date": day + shift,
                "year": (day + shift).year, "report_ids": [report.id]}))
        yield report, batch


def run(seed: list[Event], n: int, rng: random.Random, per_day: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "merge.db")
        started, cpu_started = time.perf_counter(), time.process_time()
        for report, batch in resampled(seed, n, rng, per_day):
            store.add(report, batch)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        counts = store.counts()
        size_mb = (Path(tmp) / "merge.db").stat().st_size / 2**20
        store.close()
    return {"events_in": n, "per_day": per_day, "events_out": counts["events"], "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2),
            "load_average": round(os.getloadavg()[0], 1),
            "events_per_s": round(n / seconds), "us_per_event": round(1e6 * seconds / n),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "db_mb": round(size_mb)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-day", type=float, default=3.0,
                        help="events per day of the resampled corpus (FA-KES-like places, so all in one country)")
    args = parser.parse_args()
    if not args.csv.exists():
        sys.exit(f"{args.csv} not found (it lives in ../shared/eval/fakes)")
    seed = seed_events(args.csv)
    results = []
    for n in args.sizes:
        results.append(run(seed, n, random.Random(args.seed), args.per_day))
        print(json.dumps(results[-1]), flush=True)
    for growth in time_growth(results):
        print(json.dumps(growth), flush=True)


def time_growth(results: list[dict]) -> list[dict]:
    """For each step between sizes: how much total time grew, the exponent k of n^k that
    fits it, and what n log n would give (time per event should grow no faster than log n)."""
    steps = []
    for small, large in itertools.pairwise(results):
        n0, n1 = small["events_in"], large["events_in"]
        # CPU time: the machine may be shared, and waiting for a core is not merging's cost.
        t0, t1 = small["cpu_seconds"], large["cpu_seconds"]
        if n1 <= n0 or t0 <= 0:
            continue
        steps.append({"from": n0, "to": n1, "cpu_time_ratio": round(t1 / t0, 2),
                      "exponent": round(math.log(t1 / t0) / math.log(n1 / n0), 3),
                      "n_log_n_ratio": round(n1 * math.log(n1) / (n0 * math.log(n0)), 2)})
    return steps


if __name__ == "__main__":
    main()
