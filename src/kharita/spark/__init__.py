"""Backfills with Apache Spark (`kharita spark run`, or spark-submit of `kharita/spark/job.py`).

`job` is the driver, `tasks` what the executors run, `blocking` the keys that let merging
run in parallel and still equal the single process. Importing this package does not
import pyspark (an optional extra: `pip install 'kharita[spark]'`).
"""
