"""Spark backfill scaling: reports/s and peak memory, single process vs Spark local[1] / local[2].

    .venv/bin/python bench/spark_scaling.py [--size 161 10000 100000] [--modes single local[1] local[2]]
    .venv/bin/python bench/spark_scaling.py --size 1000000 --modes local[2]

Input: FA-KES dev (../shared/eval/fakes/dev.csv, read as `kharita eval fakes` reads it) as JSON
lines, or N reports resampled from it: copy k of an article gets its own URL (so its own
report id) and its years shifted by 4 * (k mod 20) (leap days stay valid), so copies are
distinct reports whose events spread over 80 years; copies with the same shift tell the
same happenings (as wire copies do) and merge. Size 161 is dev itself.

Modes, each a fresh process tree, timed from start to events on disk:
- single: `kharita ingest DIR --db X` then `kharita export --format parquet` (SQLite);
- local[N]: `kharita spark run --master local[N] --input DIR --output OUT`.
Peak memory is the largest sum of RSS over the process tree (the JVM driver, Python
workers and daemon for Spark), sampled every 0.2 s. CPU seconds are the whole tree's
(user + system of every process in it, sampled likewise), and the load average is the
machine's at the start and end of the run. Not a test: the machine is shared and noisy;
compare runs made side by side, and CPU seconds rather than wall time under load.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kharita.evaluation.fakes import read_csv

DEFAULT_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "fakes" / "dev.csv"
KHARITA = str(Path(sys.executable).with_name("kharita"))
LINES_PER_FILE = 2_000  # about 5 MB a file: under ingest's 20 MB limit per file
_YEAR = re.compile(r"\b(19|20)(\d\d)\b")


def shift_years(text: str, years: int) -> str:
    def moved(match: re.Match) -> str:
        year = int(match.group(0)) + years
        return str(year) if year < 2100 else match.group(0)
    return _YEAR.sub(moved, text) if years else text


def write_corpus(csv_path: Path, size: int, folder: Path) -> int:
    """FA-KES dev (size 161 or less) or `size` resampled reports, as JSON-lines files."""
    articles = read_csv(csv_path)
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    handle = None
    for number in range(size):
        copy, article = divmod(number, len(articles))
        source = articles[article]
        record = {"text": source.text, "title": source.title or None, "outlet": source.source or None}
        if copy:
            shift = 4 * (copy % 20)
            record.update(text=shift_years(source.text, shift), title=shift_years(source.title, shift) or None,
                          url=f"https://bench.invalid/fakes/{copy}/{source.unit_id}")
        if written % LINES_PER_FILE == 0:
            if handle:
                handle.close()
            handle = open(folder / f"part-{written // LINES_PER_FILE:05d}.jsonl", "w", encoding="utf-8")
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        written += 1
    if handle:
        handle.close()
    return written


def _tree_usage(root: int, cpu: dict[int, float]) -> int:
    """Resident memory of a process and all its descendants, in kB (from /proc); records
    each one's own CPU seconds so far (user + system) in `cpu`."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    seconds: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as statm:
                pages = int(statm.read().split()[1])
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = pages * os.sysconf("SC_PAGE_SIZE") // 1024
        seconds[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        if pid in seconds:
            cpu[pid] = max(cpu.get(pid, 0.0), seconds[pid])
        stack.extend(children.get(pid, []))
    return total


def measured(command: list[str], env: dict) -> tuple[float, int, float, str]:
    """Run a command; (seconds, peak tree RSS in kB, tree CPU seconds, stdout). CPU is
    sampled with memory, so a process's last 0.2 s (and processes living less) are missed."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak, cpu = 0, {}
    while process.poll() is None:
        peak = max(peak, _tree_usage(process.pid, cpu))
        time.sleep(0.2)
    out, err = process.communicate()
    if process.returncode not in (0, 1):  # ingest exits 1 when it rejected something
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{err[-3000:]}")
    return time.perf_counter() - started, peak, sum(cpu.values()), out


def run_mode(mode: str, corpus: Path, work: Path, env: dict) -> dict:
    load = os.getloadavg()[0]
    if mode == "single":
        db = work / "single.db"
        seconds1, peak1, cpu1, out = measured([KHARITA, "ingest", str(corpus), "--db", str(db)], env)
        seconds2, peak2, cpu2, _ = measured([KHARITA, "export", "--format", "parquet", "-o",
                                             str(work / "single.parquet"), "--db", str(db)], env)
        result = {"seconds": seconds1 + seconds2, "peak_mb": max(peak1, peak2) / 1024, "cpu_s": cpu1 + cpu2,
                  "summary": out.strip()}
    else:
        seconds, peak, cpu, out = measured([KHARITA, "spark", "run", "--master", mode, "--input", str(corpus),
                                            "--output", str(work / f"spark-{mode}")], env)
        result = {"seconds": seconds, "peak_mb": peak / 1024, "cpu_s": cpu, "summary": out.strip().splitlines()[0]}
    result["load"] = f"{load:.1f}-{os.getloadavg()[0]:.1f}"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--size", type=int, nargs="+", default=[161, 10_000])
    parser.add_argument("--modes", nargs="+", default=["single", "local[1]", "local[2]"])
    args = parser.parse_args()
    if not args.csv.exists():
        sys.exit(f"{args.csv} not found (it lives in ../shared/eval/fakes)")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    results = []
    for size in args.size:
        with tempfile.TemporaryDirectory(prefix="kharita-spark-bench-") as tmp:
            corpus = Path(tmp) / "corpus"
            count = write_corpus(args.csv, size, corpus)
            for mode in args.modes:
                result = run_mode(mode, corpus, Path(tmp), env)
                result.update(size=count, mode=mode, reports_per_s=round(count / result["seconds"], 1),
                              seconds=round(result["seconds"], 1), peak_mb=round(result["peak_mb"]),
                              cpu_s=round(result["cpu_s"], 1))
                print(json.dumps(result), flush=True)
                results.append(result)
    print("\n| reports | mode | seconds | reports/s | CPU s (tree) | peak RSS (tree) | load avg |\n"
          "|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['size']:,} | {r['mode']} | {r['seconds']} | {r['reports_per_s']} | {r['cpu_s']} | "
              f"{r['peak_mb']} MB | {r['load']} |")


if __name__ == "__main__":
    main()
