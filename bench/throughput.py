"""Throughput of the whole pipeline, ingest to stored events, on FA-KES dev.

    .venv/bin/python bench/throughput.py [--csv ../shared/eval/fakes/dev.csv] [--repeat 3]
        [--size N] [--batch 50] [--no-store] [--spacy] [--profile] [--json]

Prints reports/s (wall clock, and per CPU second of this process: the one to compare side
by side on a busy machine) and peak resident memory, one process on one core. The gazetteer and
dictionaries load before the clock starts (they load once per process in real use too), and
so is each pass's empty database created (`store_setup_seconds`, about 0.03 s each);
a few reports warm the caches first.

`--size N` resamples N reports from the corpus: copies get their own id (a distinct url)
and a publication date shifted by whole weeks, so they are new reports to the store and
their relative dates resolve to new days, as a backfill of years of news would.
`--spacy` times spaCy's small English pipeline, NER alone, on the same reports in the
same run: the reference the issue's ">= 20x" is measured against (extra `[baseline]`).
`--profile` prints the hot path (pyinstrument, extra `[bench]`).
Not a test: these machines are shared and noisy, so compare runs side by side.
"""
from __future__ import annotations

import argparse
import csv
import itertools
import json
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
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


def resample(seed: list[Report], size: int) -> Iterator[Report]:
    """`size` reports cycling over `seed`; the k-th copy of a report is published k weeks
    later (so weekdays keep their meaning) under a url of its own (so its id differs)."""
    for n in range(size):
        base = seed[n % len(seed)]
        copy = n // len(seed)
        if copy == 0:
            yield base
            continue
        published = base.published + timedelta(weeks=copy) if base.published else None
        yield Report.create(base.text, title=base.title, outlet=base.outlet, published=published,
                            published_inferred=base.published_inferred, url=f"https://resampled.invalid/{copy}/{n}")


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_pipeline(reports: list[Report], pipeline: Pipeline, store: Store | None, batch: int) -> int:
    """Every report through the pipeline (and into the store); returns the number of events."""
    events = 0
    pending: list[tuple[Report, list]] = []
    for report in reports:
        found = pipeline(report)
        events += len(found)
        if store is None:
            continue
        if batch <= 1:
            store.add(report, found)
            continue
        pending.append((report, found))
        if len(pending) >= batch:
            store.add_many(pending)
            pending.clear()
    if store is not None and pending:
        store.add_many(pending)
    return events


def run_spacy(reports: list[Report]) -> dict:
    """spaCy small English, NER alone (the other components disabled), one process."""
    from kharita.evaluation.geoparse import BaselineUnavailable, load_baseline_model

    try:
        nlp = load_baseline_model()  # the geoparse baseline's model: NER alone
    except BaselineUnavailable as exc:
        sys.exit(f"--spacy: {exc}")
    for _ in nlp.pipe(r.text for r in reports[:5]):
        pass
    start = time.perf_counter()
    entities = sum(len(doc.ents) for doc in nlp.pipe((r.text for r in reports), batch_size=32))
    elapsed = time.perf_counter() - start
    return {"reports_per_s": round(len(reports) / elapsed, 1), "entities": entities, "seconds": round(elapsed, 3)}


def profile(reports: list[Report], pipeline: Pipeline) -> str:
    try:
        from pyinstrument import Profiler
    except ImportError:
        sys.exit("--profile needs the [bench] extra: pip install -e '.[bench]'")
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for report in reports:
        pipeline.annotate(report)
    profiler.stop()
    return profiler.output_text(unicode=False, color=False, show_all=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the corpus (without --size)")
    parser.add_argument("--size", type=int, help="resample this many reports from the corpus (one pass)")
    parser.add_argument("--batch", type=int, default=50, help="reports per store transaction (1: one each)")
    parser.add_argument("--no-store", action="store_true", help="time extraction only, no database writes")
    parser.add_argument("--spacy", action="store_true", help="time spaCy's small NER on the same reports")
    parser.add_argument("--profile", action="store_true", help="print the hot path (pyinstrument)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not args.csv.exists():
        sys.exit(f"{args.csv} not found (it lives in ../shared/eval/fakes)")

    seed = load_reports(args.csv)
    pipeline = Pipeline()
    for report in seed[:5]:  # warm-up: caches, lazily built matchers
        pipeline(report)
    if args.profile:
        print(profile(seed, pipeline))
        return

    passes = [list(resample(seed, args.size))] if args.size else [seed] * args.repeat
    events = 0
    with tempfile.TemporaryDirectory() as tmp:
        # Creating a database (schema, migrations) is set-up, like loading the pipeline: done
        # once per store, not per report, so it is timed apart.
        setup_start = time.perf_counter()
        stores = [None if args.no_store else Store(Path(tmp) / f"bench{run}.db") for run in range(len(passes))]
        setup = time.perf_counter() - setup_start
        start, cpu_start = time.perf_counter(), time.process_time()
        for reports, store in zip(passes, stores):
            events += run_pipeline(reports, pipeline, store, args.batch)
            if store is not None:
                store.close()
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
    processed = sum(map(len, passes))
    result = {
        "reports": processed,
        "seconds": round(elapsed, 3),
        "reports_per_s": round(processed / elapsed, 1),
        # CPU time of this process (SQLite runs in it): the figure to compare side by side
        # on a shared machine, where wall time also counts waiting for the other jobs.
        "cpu_seconds": round(cpu, 3),
        "reports_per_cpu_s": round(processed / cpu, 1),
        "events_per_report": round(events / processed, 2),
        "peak_rss_mb": peak_rss_mb(),
        "store": not args.no_store,
        "store_setup_seconds": round(setup, 3),
        "batch": args.batch,
    }
    if args.spacy:
        reference = run_spacy(list(itertools.islice(itertools.chain.from_iterable(passes), len(seed))))
        result["spacy_ner"] = reference
        result["ratio_to_spacy"] = round(result["reports_per_s"] / reference["reports_per_s"], 1)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['reports']} reports in {result['seconds']} s: {result['reports_per_s']} reports/s "
          f"({'with SQLite writes, batches of ' + str(args.batch) if result['store'] else 'without writes'}), "
          f"{result['events_per_report']} events/report, peak RSS {result['peak_rss_mb']} MB")
    if args.spacy:
        print(f"spaCy small NER alone on {len(seed)} of the same reports: {result['spacy_ner']['reports_per_s']} "
              f"reports/s; Kharita end to end is {result['ratio_to_spacy']}x that")


if __name__ == "__main__":
    main()
