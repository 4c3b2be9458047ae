"""`kharita spark run ...`: a backfill on Spark (local mode, or the master you name).

    kharita spark run --input PATH --output PATH [--format jsonl|parquet|text] [--master local[2]] [--rejects PATH]
"""
from __future__ import annotations

import sys
from datetime import date
from typing import Annotated, Optional

import typer
from rich.console import Console

from ..ingest import MAX_BYTES

app = typer.Typer(help="Backfills with Apache Spark: reports in, merged events out (Parquet by event month).",
                  no_args_is_help=True)
console = Console(width=None if sys.stdout.isatty() else 200, highlight=False)
errors = Console(stderr=True, highlight=False)


@app.command("run")
def run_command(
    input_path: Annotated[str, typer.Option("--input", help="File, folder or glob of reports (any Hadoop-compatible path).")],
    output_path: Annotated[str, typer.Option("--output", help="Folder for the events: Parquet partitioned by event_month.")],
    fmt: Annotated[str, typer.Option("--format", help="jsonl (one report object a line), parquet (columns text, "
                                                      "title, url, published, outlet, language) or text (each file "
                                                      "read as `kharita ingest` reads a file).")] = "jsonl",
    master: Annotated[Optional[str], typer.Option(help="Spark master, e.g. local[2] (default: local[*]).")] = None,
    rejects: Annotated[Optional[str], typer.Option(help="Folder for rejected records, JSON lines (default: "
                                                        "OUTPUT_rejects).")] = None,
    published: Annotated[Optional[str], typer.Option(help="Publication date (YYYY-MM-DD) for reports without one.")] = None,
    outlet: Annotated[Optional[str], typer.Option(help="Outlet name for reports without one.")] = None,
    max_bytes: Annotated[int, typer.Option("--max-bytes", help="Largest record (or file) accepted.")] = MAX_BYTES,
    partitions: Annotated[Optional[int], typer.Option(help="Partitions for extraction and merging "
                                                          "(default: 4 per core).")] = None,
) -> None:
    """Read reports, extract and merge their events on Spark; print what was read, rejected and written."""
    try:
        from .job import FORMATS, run, session
    except ImportError as exc:
        errors.print(f"pyspark is not installed ({exc}); pip install 'kharita[spark]'")
        raise typer.Exit(code=2) from None
    if fmt not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    if max_bytes <= 0:
        raise typer.BadParameter("must be more than 0", param_hint="--max-bytes")
    try:
        published_date = date.fromisoformat(published) if published else None
    except ValueError:
        raise typer.BadParameter(f"{published!r} is not a date in the form YYYY-MM-DD", param_hint="--published") from None
    from pyspark.sql import SparkSession

    owned = SparkSession.getActiveSession() is None
    spark = session(master or ("local[*]" if owned else None))
    try:
        counts = run(spark, input_path, output_path, fmt, rejects, published_date, outlet, max_bytes, partitions)
    finally:
        if owned:
            spark.stop()
    console.print(counts.summary())
    console.print(f"events: {output_path}  rejects: {rejects or output_path.rstrip('/') + '_rejects'}")
