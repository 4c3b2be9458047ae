"""Backfills with Apache Spark: reports in, merged events out as Parquet by event month.

    kharita spark run --input PATH --output PATH [--format jsonl|parquet|text] [--master local[2]]
    spark-submit --master yarn src/kharita/spark/job.py --input hdfs:///news --output hdfs:///events

Stages (each a Spark step; the driver holds only counts and blocking cells):

1. read: JSON lines (one report object a line), Parquet (columns text, title, url,
   published, outlet, language) or files (`text`: each file read as `kharita ingest`
   reads a file: text, Markdown, HTML, RSS/Atom, JSON), from any Hadoop-compatible path;
2. parse each record with `kharita.ingest` (same checks, same content-hash ids); bad
   records go to the rejects file (JSON lines: source, line, reason);
3. drop repeated reports (same id), keeping the copy ingest would read first;
4. run the pipeline per partition (`mapPartitions`; one pipeline per Python worker);
5. merge, keyed by blocking cells (`kharita.spark.blocking`): components of adjacent
   cells go to one partition and are replayed through the real store in ingest order;
   if a merged event's footprint reaches another component, the two join and the
   replay runs again;
6. write the events with `kharita export --format parquet`'s columns, partitioned by
   `event_month` (YYYY-MM).

The result equals `kharita ingest` of the same input (in its order: paths compared folder
by folder, then line) followed by `kharita export --format parquet`.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import date

from pydantic import BaseModel

from kharita.ingest import MAX_BYTES
from kharita.spark import blocking, tasks

FORMATS = ("jsonl", "parquet", "text")
# Replays allowed before giving up on closing the components (each replay can only join
# components, so this is a guard, never reached in practice).
MAX_REPLAYS = 10
LOCAL_DIR = "/tmp/kharita-spark"
log = logging.getLogger("kharita.spark")


class BackfillCounts(BaseModel):
    """What a backfill read and wrote."""

    read: int = 0  # input records: JSON lines (blank ones aside), Parquet rows or files
    rejected: int = 0
    reports: int = 0  # distinct reports run through the pipeline
    duplicates: int = 0  # reports read again (same text and address)
    events: int = 0  # events as each report tells them (mentions)
    merged_events: int = 0  # events after merging: the rows written
    components: int = 0  # groups of blocking cells merged apart
    replays: int = 0  # merge replays run (1 unless a footprint joined components)
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"read {self.read}, rejected {self.rejected}, reports {self.reports} "
                f"({self.duplicates} duplicate(s) skipped), events {self.events}, merged events "
                f"{self.merged_events} ({self.components} blocking component(s), {self.replays} replay(s)) "
                f"in {self.seconds:.1f} s")


def session(master: str | None = None, app_name: str = "kharita-backfill"):
    """The active SparkSession, or a new one. Local masters get quiet logs, no UI and
    scratch space under /tmp; on a cluster, spark-submit's settings stand."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    if master is None or master.startswith("local"):
        builder = (builder.config("spark.local.dir", LOCAL_DIR)
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.log.level", "ERROR"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def read_records(spark, path: str, fmt: str):
    """Input records `(order, source, line, data)` and the kind of data they hold."""
    from pyspark.sql import functions as F

    if fmt == "jsonl":
        lines = spark.read.option("recursiveFileLookup", "true").text(path).select(
            F.col("value").cast("binary").alias("raw"),  # the bytes as found: ingest decodes them
            F.col("_metadata.file_path").alias("path"),
            F.col("_metadata.file_block_start").alias("start"))
        # Line numbers within each file: the lines of each chunk before it.
        chunks = sorted((row.path, row.start, row["count"]) for row in lines.groupBy("path", "start").count().collect())
        first_lines, previous_path, line = {}, None, 1
        for chunk_path, start, count in chunks:
            if chunk_path != previous_path:
                previous_path, line = chunk_path, 1
            first_lines[(chunk_path, start)] = line
            line += count
        return lines.rdd.mapPartitions(tasks.number_lines(first_lines)), "record"
    if fmt == "parquet":
        table = spark.read.option("recursiveFileLookup", "true").parquet(path)
        wanted = [c for c in tasks.RECORD_FIELDS if c in table.columns]
        rows = table.select(*wanted, F.col("_metadata.file_path").alias("_path"),
                            F.col("_metadata.row_index").alias("_row"))

        def as_record(row):
            values = row.asDict()
            source, number = values.pop("_path"), values.pop("_row") + 1
            return (tasks.path_order(source), number, 0), tasks.source_path(source), number, tasks.parquet_record(values)
        return rows.rdd.map(as_record), "record"
    if fmt == "text":
        files = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(path)
        return files.select("path", "content").rdd.map(
            lambda row: ((tasks.path_order(row.path), 0, 0), tasks.source_path(row.path), None, bytes(row.content))
        ), "file"
    raise ValueError(f"unknown input format {fmt!r}; choose one of {', '.join(FORMATS)}")


def run(spark, input_path: str, output_path: str, fmt: str = "jsonl", rejects_path: str | None = None,
        published: date | None = None, outlet: str | None = None, max_bytes: int = MAX_BYTES,
        partitions: int | None = None) -> BackfillCounts:
    """Run a backfill; returns its counts. `rejects_path` defaults to OUTPUT_rejects."""
    from pyspark import StorageLevel
    from pyspark.sql.pandas.types import from_arrow_schema

    started = time.perf_counter()
    sc = spark.sparkContext
    partitions = partitions or max(2, sc.defaultParallelism * 4)
    rejects_path = rejects_path or output_path.rstrip("/") + "_rejects"
    counts = BackfillCounts()

    records, kind = read_records(spark, input_path, fmt)
    parsed = records.mapPartitions(tasks.parse(kind, published, outlet, max_bytes)).persist(StorageLevel.MEMORY_AND_DISK)
    tally = parsed.map(lambda item: (item[0], item[-1])).countByValue()
    counts.read = tally.get(("report", True), 0) + tally.get(("reject", True), 0)
    counts.rejected = sum(n for (tag, _first), n in tally.items() if tag == "reject")
    log.info("%.1f s: read %d, rejected %d", time.perf_counter() - started, counts.read, counts.rejected)
    rejects = parsed.filter(lambda item: item[0] == "reject").map(lambda item: (item[2], item[3], item[4]))
    (spark.createDataFrame(rejects, "source string, line long, reason string")
     .coalesce(1).write.mode("overwrite").json(rejects_path))

    unique = (parsed.filter(lambda item: item[0] == "report")
              .map(lambda item: (item[2], (item[1], item[3])))
              .reduceByKey(tasks.first_in_order, numPartitions=partitions))
    extracted = unique.mapPartitions(tasks.extract).persist(StorageLevel.MEMORY_AND_DISK)
    reports_read = sum(n for (tag, _first), n in tally.items() if tag == "report")
    tally = extracted.map(lambda item: item[0]).countByValue()
    counts.reports, counts.events = tally.get("report", 0), tally.get("mention", 0)
    counts.duplicates = reports_read - counts.reports
    parsed.unpersist()
    log.info("%.1f s: %d reports, %d events extracted", time.perf_counter() - started, counts.reports, counts.events)

    mentions = extracted.filter(lambda item: item[0] == "mention")
    cells = blocking.link_cells(mentions.map(lambda item: item[4]).distinct().collect())
    merged = None
    while True:
        counts.replays += 1
        component_of = sc.broadcast(blocking.component_ids(cells))
        merged = (mentions
                  .map(lambda item, c=component_of: ((item[1], tasks.component(c.value, item[4])), (item[2], item[3])))
                  .repartitionAndSortWithinPartitions(partitions, partitionFunc=lambda key: key[1])
                  .mapPartitions(tasks.replay)
                  .persist(StorageLevel.MEMORY_AND_DISK))
        log.info("%.1f s: replay %d of %d components", time.perf_counter() - started, counts.replays,
                 len(set(component_of.value.values())))
        footprints = merged.filter(lambda item: item[0] == "footprint").map(lambda item: (item[1], item[2])).collect()
        if blocking.close_components(cells, footprints) == 0 or counts.replays >= MAX_REPLAYS:
            counts.components = len(set(component_of.value.values()))
            break
        merged.unpersist()  # components joined: replay with the new ones
    extracted.unpersist()
    log.info("%.1f s: merged; writing", time.perf_counter() - started)

    schema = from_arrow_schema(tasks.output_schema())
    rows = merged.filter(lambda item: item[0] == "event").mapPartitions(tasks.event_rows)
    (spark.createDataFrame(rows, schema, verifySchema=False)
     .write.mode("overwrite").partitionBy("event_month").option("compression", "zstd").parquet(output_path))
    counts.merged_events = merged.filter(lambda item: item[0] == "event").count()
    merged.unpersist()
    counts.seconds = round(time.perf_counter() - started, 2)
    return counts


def main(argv: list[str] | None = None) -> None:
    """Entry point for spark-submit (and `python -m kharita.spark.job`)."""
    parser = argparse.ArgumentParser(prog="kharita-spark", description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, help="file, folder or glob on any Hadoop-compatible file system")
    parser.add_argument("--output", required=True, help="folder for the events (Parquet, partitioned by event_month)")
    parser.add_argument("--format", choices=FORMATS, default="jsonl", dest="fmt")
    parser.add_argument("--rejects", help="folder for the rejects (JSON lines; default OUTPUT_rejects)")
    parser.add_argument("--master", help="Spark master (default: spark-submit's, else local[*])")
    parser.add_argument("--published", type=date.fromisoformat, help="publication date for reports without one")
    parser.add_argument("--outlet", help="outlet for reports without one")
    parser.add_argument("--max-bytes", type=int, default=MAX_BYTES, help="largest record or file accepted")
    parser.add_argument("--partitions", type=int, help="partitions for extraction and merging")
    args = parser.parse_args(argv)
    spark = session(args.master)
    try:
        counts = run(spark, args.input, args.output, args.fmt, args.rejects, args.published, args.outlet,
                     args.max_bytes, args.partitions)
    finally:
        spark.stop()
    print(counts.summary())


if __name__ == "__main__":
    main()
