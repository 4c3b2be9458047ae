"""Load benchmark of the REST API: `/api/events` page queries (a bounding box and a date
range, sorted by date) over 100k stored events, on SQLite and on PostgreSQL.

    .venv/bin/python bench/api_load.py                       # both backends, 100k events
    .venv/bin/python bench/api_load.py --backends postgresql --duration 30 --workers 2

Not a test. For each backend it builds (once; reused while it holds `--events` events, or
`--rebuild`) a store of events resampled from real ones: FA-KES dev
(../shared/eval/fakes/dev.csv, else samples/) goes through the pipeline once, and its events
are copied with new ids, dates spread over ten years and coordinates moved by up to half a
degree, then stored through `Store.add_many` (so merged where they are the same happening);
PostgreSQL gets a row-for-row copy of that SQLite store.
It then serves the store with `kharita serve --workers N` on 127.0.0.1 and drives it with
`wrk` (Debian package `wrk`) for `--duration` seconds per backend, after a warm-up, over a
fixed set of pseudo-random queries (same seed, same queries for both backends), and prints
requests/s and latency percentiles (p50, p90, p99, as wrk measures them) per backend. Pages
are of event summaries (no evidence spans), as the API lists them by default; `--evidence`
asks for whole events (`evidence=true`) instead.

PostgreSQL: `--pg-url` (default $KHARITA_BENCH_PG or the local kharita_bench database). The
tables of that database are dropped and rebuilt when the store is (re)built: point it at a
database that holds nothing else.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from throughput import DEFAULT_CSV, load_reports

from kharita.ingest import Rejected, read_paths
from kharita.models import Event, Report
from kharita.pipeline import Pipeline
from kharita.store import Store

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = os.environ.get("KHARITA_BENCH_PG",
                            "postgresql+psycopg://kharita:kharita@127.0.0.1:5432/kharita_bench")
DEFAULT_SQLITE = Path(tempfile.gettempdir()) / "kharita-api-load.db"
START = date(2012, 1, 1)
SPAN_DAYS = 3650
REPORT_EVENTS = 3
SEED = 20261124


def seed_events() -> list[Event]:
    """Real events to copy: FA-KES dev through the pipeline (or samples/ without ../shared)."""
    pipeline = Pipeline()
    if DEFAULT_CSV.exists():
        reports = load_reports(DEFAULT_CSV)
    else:
        reports = [r for r in read_paths([str(ROOT / "samples")]) if not isinstance(r, Rejected)]
    events = [e for report in reports for e in pipeline(report) if e.latitude is not None]
    if not events:
        sys.exit("no located seed events")
    return events


def resampled(seed: list[Event], n: int, rng: random.Random):
    """(report, events) with n events in all: ids new, dates spread over SPAN_DAYS, places moved."""
    for index in range(0, n, REPORT_EVENTS):
        report = Report.create(f"synthetic report {index} for the API load benchmark", published=START)
        batch = []
        for k in range(min(REPORT_EVENTS, n - index)):
            event = rng.choice(seed)
            day = START + timedelta(days=rng.randrange(SPAN_DAYS))
            lat = max(-90.0, min(90.0, event.latitude + rng.uniform(-0.5, 0.5)))
            lon = max(-180.0, min(180.0, event.longitude + rng.uniform(-0.5, 0.5)))
            batch.append(event.model_copy(update={
                "event_id_cnty": f"SYN{index + k:012d}", "event_date": day, "year": day.year,
                "latitude": round(lat, 5), "longitude": round(lon, 5), "report_ids": [report.id]}))
        yield report, batch


def reset_postgres(url: str) -> None:
    """Drop Kharita's tables (and Alembic's), not those of extensions such as PostGIS."""
    from sqlalchemy import MetaData, create_engine

    from kharita.store import metadata

    engine = create_engine(url)
    existing = MetaData()
    existing.reflect(engine, only=lambda name, _: name in metadata.tables or name == "alembic_version")
    existing.drop_all(engine)
    engine.dispose()


def copy_rows(source: str, target: str) -> None:
    """Copy every row of the store at `source` into the (empty) store at `target`: the events
    are merged already, and merging them again through PostgreSQL round trips would take
    half an hour where a bulk copy takes minutes."""
    from sqlalchemy import create_engine

    from kharita.store import meta_table, metadata

    read, write = create_engine(source), create_engine(target)
    with read.connect() as src, write.begin() as dst:
        for table in metadata.sorted_tables:
            if table is meta_table:  # the schema's own bookkeeping: the target has its own
                continue
            rows = src.execution_options(stream_results=True).execute(table.select()).mappings()
            for chunk in rows.partitions(2000):
                dst.execute(table.insert(), [dict(r) for r in chunk])
    read.dispose()
    write.dispose()


def build(url: str, seed: list[Event], n: int, rebuild: bool, sqlite_url: str) -> dict:
    """The store at `url` holding about n resampled events; built only when needed. SQLite is
    built through `Store.add_many`; another database gets a copy of the SQLite store."""
    store = Store(url)
    events = store.counts()["events"]
    store.close()
    how, seconds = "reused", None
    if rebuild or not 0.7 * n <= events <= n:
        started = time.perf_counter()
        if url.startswith("sqlite"):
            path = Path(url.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            store = Store(url)
            store.add_many(resampled(seed, n, random.Random(SEED)))
            store.close()
            how = "Store.add_many"
        else:
            build(sqlite_url, seed, n, False, sqlite_url)
            reset_postgres(url)
            Store(url).close()  # the schema, empty
            copy_rows(sqlite_url, url)
            how = "copied from the SQLite store"
        seconds = round(time.perf_counter() - started, 1)
    store = Store(url)
    events = store.counts()["events"]
    with store.engine.begin() as conn:  # fresh planner statistics
        conn.exec_driver_sql("ANALYZE")
    store.close()
    return {"events": events, "built": how, "build_seconds": seconds}


def query_paths(seed: list[Event], count: int, limit: int, evidence: bool = False) -> list[str]:
    """Page queries a map client makes: a box of 1-2 degrees around a place events happen
    at, and a date range of one to six months, sorted by date (with `evidence`, of whole events)."""
    rng = random.Random(SEED + 1)
    paths = []
    for _ in range(count):
        event = rng.choice(seed)
        half = rng.uniform(0.5, 1.0)
        box = (event.longitude - half, event.latitude - half, event.longitude + half, event.latitude + half)
        box = (max(box[0], -180), max(box[1], -90), min(box[2], 180), min(box[3], 90))
        first = START + timedelta(days=rng.randrange(SPAN_DAYS - 180))
        last = first + timedelta(days=rng.randrange(30, 181))
        paths.append(f"/api/events?bbox={','.join(f'{v:.3f}' for v in box)}&date_from={first}&date_to={last}"
                     f"&limit={limit}" + ("&evidence=true" if evidence else ""))
    return paths


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url: str, workers: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "KHARITA_DB": url}
    env.pop("KHARITA_API_TOKEN", None)
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("kharita")), "serve", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"kharita serve exited: {process.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(base + "/openapi.json", timeout=5) as resp:
                if resp.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.3)
    stop(process)
    sys.exit("kharita serve did not answer within 60 s")


def stop(process: subprocess.Popen) -> None:
    """Stop the server we started: its process group (uvicorn's workers with it)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def serving_pids(server: subprocess.Popen, url: str) -> tuple[list[int], list[int]]:
    """The server's processes (its session: uvicorn and its workers), and the PostgreSQL
    backends serving the benchmark database (none for SQLite)."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    backend = re.compile(rf"postgres: (\S+: )?{re.escape(str(target.username))} {re.escape(str(target.database))} ")
    server_pids, database_pids = [], []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is None:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[3]) == server.pid:
            server_pids.append(int(entry.name))
        elif target.get_backend_name() == "postgresql" and backend.match(cmdline):  # ("15/main: " on Debian)
            database_pids.append(int(entry.name))
    return server_pids, database_pids


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used (those still alive)."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def page_sizes(base: str, paths: list[str], sample: int = 50) -> tuple[float, float]:
    """Mean events and bytes per page over a sample of the queries (and a check that they answer 200)."""
    events = size = 0
    for path in paths[:sample]:
        with urllib.request.urlopen(base + path, timeout=10) as resp:
            body = resp.read()
        events += len(json.loads(body)["items"])
        size += len(body)
    pages = min(sample, len(paths))
    return events / pages, size / pages


_DURATION_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _DURATION_UNITS[unit]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(base: str, script: Path, duration: int, connections: int, threads: int) -> dict:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), base]
    out = subprocess.run(command, capture_output=True, text=True, check=True,
                         timeout=duration + 60).stdout
    percentiles = {f"p{p}_ms": _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.MULTILINE)}
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)$", out, re.MULTILINE)
    return {"requests_per_s": round(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))),
            **percentiles, "requests": requests, "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else "", "wrk_output": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--sqlite-path", type=Path, default=DEFAULT_SQLITE)
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--duration", type=int, default=20, help="seconds of measured load per backend")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--limit", type=int, default=50, help="events per page")
    parser.add_argument("--queries", type=int, default=2000, help="distinct queries cycled through")
    parser.add_argument("--evidence", action="store_true", help="pages of whole events (evidence=true)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the stores even if they look built")
    parser.add_argument("--json", action="store_true", help="one JSON line per backend as well")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")

    print("seeding events through the pipeline ...", file=sys.stderr)
    seed = seed_events()
    paths = query_paths(seed, args.queries, args.limit, args.evidence)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "pages.lua"
        script.write_text("local paths = {\n" + ",\n".join(json.dumps(p) for p in paths) + "\n}\n"
                          "local i = 0\nrequest = function()\n  i = i + 1\n"
                          "  return wrk.format(\"GET\", paths[(i % #paths) + 1])\nend\n")
        for backend in args.backends:
            url = f"sqlite:///{args.sqlite_path}" if backend == "sqlite" else args.pg_url
            print(f"{backend}: building or checking the store ...", file=sys.stderr)
            built = build(url, seed, args.events, args.rebuild, f"sqlite:///{args.sqlite_path}")
            process, base = serve(url, args.workers)
            try:
                mean_page, mean_bytes = page_sizes(base, paths)
                run_wrk(base, script, args.warmup, args.connections, args.threads)
                load_before = os.getloadavg()[0]
                server_pids, database_pids = serving_pids(process, url)
                before = cpu_seconds(server_pids), cpu_seconds(database_pids), _children_cpu()
                measured = run_wrk(base, script, args.duration, args.connections, args.threads)
                after = cpu_seconds(server_pids), cpu_seconds(database_pids), _children_cpu()
                split = [a - b for a, b in zip(after, before)]  # server, database, wrk
                cpu = sum(split)
            finally:
                stop(process)
            wrk_output = measured.pop("wrk_output")
            # CPU time per request of the server, its database and wrk together: what the figures
            # would be on a machine of its own, whatever else is running here.
            cpu_ms = 1000 * cpu / measured["requests"]
            results.append({"backend": backend, **built, "workers": args.workers,
                            "cpu_ms_per_request": round(cpu_ms, 2),
                            **{f"cpu_ms_{part}": round(1000 * seconds / measured["requests"], 2)
                               for part, seconds in zip(("server", "database", "wrk"), split)},
                            "capacity_per_s": round(1000 * (os.cpu_count() or 1) / cpu_ms),
                            "connections": args.connections, "limit": args.limit,
                            "mean_events_per_page": round(mean_page, 1),
                            "mean_kb_per_page": round(mean_bytes / 1000, 1),
                            "evidence": args.evidence, **measured,
                            "load_average_before": round(load_before, 1), "cpus": os.cpu_count()})
            if measured["non_2xx"] or measured["socket_errors"] or "p99_ms" not in measured:
                print(wrk_output, file=sys.stderr)

    print(f"\n/api/events bbox + date-range pages of up to {args.limit}"
          f"{' with evidence' if args.evidence else ''}, {args.duration} s per backend, "
          f"{args.workers} uvicorn workers, wrk -t{args.threads} -c{args.connections}, {os.cpu_count()} CPUs")
    print(f"{'backend':<11} {'events':>8} {'req/s':>7} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} "
          f"{'events/page':>11} {'kB/page':>7} {'non-2xx':>7} {'load':>5} {'CPU ms/req':>10} {'CPU-bound req/s':>15}")
    for r in results:
        pct = {p: r.get(f"{p}_ms", float("nan")) for p in ("p50", "p90", "p99")}  # nan: wrk gave none
        print(f"{r['backend']:<11} {r['events']:>8,} {r['requests_per_s']:>7,} {pct['p50']:>7.2f} "
              f"{pct['p90']:>7.2f} {pct['p99']:>7.2f} {r['mean_events_per_page']:>11} {r['mean_kb_per_page']:>7} "
              f"{r['non_2xx']:>7} "
              f"{r['load_average_before']:>5} {r['cpu_ms_per_request']:>10} {r['capacity_per_s']:>15,}")
    print("load: the 1-minute load average before the run (other jobs share the cores); CPU ms/req: "
          "server + database + wrk (each apart in --json);\nCPU-bound req/s: the rate those CPU costs allow on these "
          "cores alone.")
    if args.json:
        for r in results:
            print(json.dumps(r))


if __name__ == "__main__":
    main()
