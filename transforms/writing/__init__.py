"""Writing: rows to Parquet files whose bytes depend only on the rows, then publishing.

Rules: ``schema`` (every column, in one place), ``shards`` (which file a row goes to),
``parquet_file`` (deterministic Parquet bytes), ``publish`` (moving a finished run into place).
Beam: ``stage.WriteParquetShards``.
"""
