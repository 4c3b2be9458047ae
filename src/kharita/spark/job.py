"""Backfills with Apache Spark: reports in, merged events out as Parquet by event month.

    kharita spark run --input PATH --output PATH [--format jsonl|parquet|text] [--master local[2]]
    spark-submit --master yarn src/kharita/spark/job.py --input hdfs:///news --output hdfs:///events

Stages (each a Spark step; the driver holds only counts and blocking cells). Python
runs in `mapInArrow` steps, so reports and events cross between the JVM and the Python
workers as Arrow batches, never as pickled rows:

1. read: JSON lines (one report object a line), Parquet (columns text, title, url,
   published, outlet, language) or files (`text`: each file read as `kharita ingest`
   reads a file: text, Markdown, HTML, RSS/Atom, JSON), from any Hadoop-compatible path;
2. parse each record with `kharita.ingest` (same checks, same content-hash ids); bad
   records go to the rejects file (JSON lines: source, line, reason);
3. drop repeated reports (same id), keeping the copy ingest would read first;
4. run the pipeline per partition (one pipeline per Python worker, kept across tasks);
5. merge, keyed by blocking cells (`kharita.spark.blocking`): components of adjacent
   cells go to one partition (largest first onto the least loaded partition) and are
   replayed through the real store, in ingest order, into scratch SQLite files; if a
   merged event's footprint reaches another component, the two join and the replay
   runs again;
6. write the events with `kharita export --format parquet`'s columns (the export's own
   Arrow table), partitioned by `event_month` (YYYY-MM), one file a month.

The result equals `kharita ingest` of the same input (in its order: paths compared folder
by folder, then line) followed by `kharita export --format parquet`.
"""
from __future__ import annotations

import argparse
import json
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
ARROW_BATCH_ROWS = 1000
ARROW_BATCH_BYTES = 32 * 2**20
# Mentions with neither coordinates nor a place name match nothing (`same_happening`):
# they share one component of their own.
PLACELESS = -1
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
                   .config("spark.log.level", "ERROR")
                   # One JVM moving bytes between Python workers: the C2 compiler and the
                   # parallel collector cost it more CPU than they save (measured: JVM CPU
                   # halved, 48 -> 24 s for 5,000 reports on local[2]).
                   .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _tune(spark, partitions: int) -> None:
    """Settings the job relies on, on whatever session it is given."""
    conf = spark.conf
    conf.set("spark.sql.shuffle.partitions", str(partitions))
    # Adaptive execution would merge small shuffle partitions into one, leaving one Python
    # worker to run the whole pipeline: the job chooses its partitions itself.
    conf.set("spark.sql.adaptive.coalescePartitions.enabled", "false")
    # Arrow batches to the Python workers: a few MB each (a report or event is a few kB;
    # whole files can be 20 MB), so a worker's memory does not grow with the input.
    conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(ARROW_BATCH_ROWS))
    conf.set("spark.sql.execution.arrow.maxBytesPerBatch", str(ARROW_BATCH_BYTES))


def _spark_schema(arrow_schema):
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(arrow_schema)


def read_records(spark, path: str, fmt: str, published: date | None = None, outlet: str | None = None,
                 max_bytes: int = MAX_BYTES):
    """The input, parsed by `kharita.ingest`: a DataFrame of `tasks.PARSED_SCHEMA`."""
    from pyspark.sql import functions as F

    parsed = _spark_schema(tasks.PARSED_SCHEMA)
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
        return lines.mapInArrow(tasks.parse(tasks.jsonl_records(first_lines), "record", published, outlet,
                                            max_bytes), parsed)
    if fmt == "parquet":
        table = spark.read.option("recursiveFileLookup", "true").parquet(path)
        wanted = [c for c in tasks.RECORD_FIELDS if c in table.columns]
        rows = table.select(*wanted, F.col("_metadata.file_path").alias("_path"),
                            F.col("_metadata.row_index").alias("_row"))
        return rows.mapInArrow(tasks.parse(tasks.parquet_records, "record", published, outlet, max_bytes), parsed)
    if fmt == "text":
        files = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(path)
        return files.select("path", "content").mapInArrow(
            tasks.parse(tasks.file_records, "file", published, outlet, max_bytes), parsed)
    raise ValueError(f"unknown input format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _slot_keys(spark, slots: int) -> list[int]:
    """For each slot 0..slots-1, a key that `repartition(slots, key)` sends to that slot
    (Spark hash-partitions by Murmur3 of the key, the `hash` function)."""
    from pyspark.sql import functions as F

    found = (spark.range(0, 64 * slots).select(F.pmod(F.hash("id"), F.lit(slots)).alias("slot"), "id")
             .groupBy("slot").agg(F.min("id").alias("key")).collect())
    keys = {row.slot: row.key for row in found}
    return [keys.get(slot, slot) for slot in range(slots)]  # (a missing slot only costs balance)


def _component_keys(spark, cells: blocking.UnionFind, cell_sets: list, partitions: int):
    """Each component's partition key, balancing mentions over the partitions: a
    DataFrame `(block, key)` (a mention's first cell names its component) and the key of
    the placeless mentions."""
    component_of = blocking.component_ids(cells)
    sizes: dict[int, int] = {}
    for cell_texts, count in cell_sets:
        component = component_of[blocking.cell_from_text(cell_texts[0])] if cell_texts else PLACELESS
        sizes[component] = sizes.get(component, 0) + count
    slot_keys = _slot_keys(spark, partitions)
    slot_of = blocking.assign_slots(sizes, partitions)
    blocks = {cell_texts[0] for cell_texts, _ in cell_sets if cell_texts}
    rows = [(block, slot_keys[slot_of[component_of[blocking.cell_from_text(block)]]]) for block in sorted(blocks)]
    placeless = slot_keys[slot_of.get(PLACELESS, 0)]
    return spark.createDataFrame(rows, "block string, key long"), placeless, len(set(component_of.values()))


def run(spark, input_path: str, output_path: str, fmt: str = "jsonl", rejects_path: str | None = None,
        published: date | None = None, outlet: str | None = None, max_bytes: int = MAX_BYTES,
        partitions: int | None = None) -> BackfillCounts:
    """Run a backfill; returns its counts. `rejects_path` defaults to OUTPUT_rejects."""
    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    started = time.perf_counter()
    partitions = partitions or max(2, spark.sparkContext.defaultParallelism * 4)
    _tune(spark, partitions)
    rejects_path = rejects_path or output_path.rstrip("/") + "_rejects"
    counts = BackfillCounts()
    keep = StorageLevel.MEMORY_AND_DISK  # cached steps spill to disk: the JVM heap bounds memory

    parsed = read_records(spark, input_path, fmt, published, outlet, max_bytes).persist(keep)
    read = parsed.agg(F.count(F.when(F.col("opens_record"), 1)).alias("read"),
                      F.count(F.when(F.col("kind") == "reject", 1)).alias("rejected"),
                      F.count(F.when(F.col("kind") == "report", 1)).alias("reports_read"),
                      F.count_distinct("report_id").alias("reports")).first()
    counts.read, counts.rejected, counts.reports = read["read"], read["rejected"], read["reports"]
    counts.duplicates = read["reports_read"] - counts.reports
    log.info("%.1f s: read %d, rejected %d", time.perf_counter() - started, counts.read, counts.rejected)
    (parsed.filter(F.col("kind") == "reject").select("source", F.col("line_no").alias("line"), "reason")
     .coalesce(1).write.mode("overwrite").json(rejects_path))

    # Repeated reports: the copy ingest reads first.
    first_copy = Window.partitionBy("report_id").orderBy("path", "line", "item")
    unique = (parsed.filter(F.col("kind") == "report").withColumn("copy", F.row_number().over(first_copy))
              .filter(F.col("copy") == 1).select("path", "line", "item", "report_id", "report"))
    mentions = unique.mapInArrow(tasks.extract, _spark_schema(tasks.MENTION_SCHEMA)).persist(keep)
    counts.events = mentions.count()
    parsed.unpersist()
    log.info("%.1f s: %d reports, %d events extracted", time.perf_counter() - started, counts.reports, counts.events)

    cell_sets = [(row.cells, row["count"]) for row in mentions.groupBy("cells").count().collect()]
    cells = blocking.link_cells(tuple(blocking.cell_from_text(c) for c in cell_texts) for cell_texts, _ in cell_sets)
    replay_schema = _spark_schema(tasks.replay_schema())
    while True:
        counts.replays += 1
        blocks, placeless, counts.components = _component_keys(spark, cells, cell_sets, partitions)
        merged = (mentions.join(F.broadcast(blocks), "block", "left")
                  .select(F.coalesce("key", F.lit(placeless)).alias("key"), "path", "line", "item", "event_index",
                          "report_id", "event")
                  .repartition(partitions, "key")
                  .sortWithinPartitions("path", "line", "item", "event_index")  # ingest order
                  .select("report_id", "event")
                  .mapInArrow(tasks.replay, replay_schema)
                  .persist(keep))
        footprints = [json.loads(row.footprint) for row in merged.filter(F.col("footprint").isNotNull())
                      .select("footprint").collect()]
        log.info("%.1f s: replay %d of %d components", time.perf_counter() - started, counts.replays,
                 counts.components)
        joined = blocking.close_components(cells, [
            (blocking.cell_from_text(own), [blocking.cell_from_text(c) for c in reach]) for own, reach in footprints])
        if joined == 0 or counts.replays >= MAX_REPLAYS:
            break
        merged.unpersist()  # components joined: replay with the new ones
    mentions.unpersist()
    log.info("%.1f s: merged; writing", time.perf_counter() - started)

    # One task per month: each month's folder gets one file rather than one per partition
    # (files, not bytes, are what writing costs here: years of months times partitions).
    (merged.drop("footprint").repartition(partitions, "event_month").write.mode("overwrite")
     .partitionBy("event_month").option("compression", "zstd").parquet(output_path))
    counts.merged_events = merged.count()
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
