"""Deterministic Parquet bytes: the same rows in the same order always give the same file."""

import hashlib
import io
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from transforms.writing.row_group import row_group_table
from transforms.writing.schema import DICTIONARY_COLUMNS


@dataclass(frozen=True)
class ParquetSettings:
    compression: str = "zstd"
    compression_level: int | None = 3
    row_group_rows: int = 10_000


@dataclass(frozen=True)
class WrittenFile:
    path: str  # relative to the output root, with "/" separators
    rows: int
    bytes: int
    sha256: str


def parquet_bytes(rows: Iterable[dict], schema: pa.Schema, settings: ParquetSettings) -> bytes:
    """The Parquet file of ``rows``, in their order, in row groups of ``row_group_rows``.

    Rows are taken and converted one row group at a time, so a shard of any size holds one row
    group in Arrow, never the whole table; the bytes are those of ``pq.write_table`` on the whole
    table with ``row_group_size=row_group_rows`` (each row group is encoded on its own either way).
    A row is taken apart as it comes (``row_group_table``), so a row group's text is held about once.
    """
    level = settings.compression_level if settings.compression in ("zstd", "gzip", "brotli") else None
    if settings.compression == "gzip" and level is not None:
        level = min(level, 9)
    sink = io.BytesIO()
    rows = iter(rows)
    with pq.ParquetWriter(
        sink,
        schema,
        compression=settings.compression,
        compression_level=level,
        use_dictionary=[name for name in DICTIONARY_COLUMNS if name in schema.names],
        write_statistics=True,
    ) as writer:
        first = True
        while (group := row_group_table(itertools.islice(rows, settings.row_group_rows), schema)).num_rows:
            writer.write_table(group, row_group_size=settings.row_group_rows)
            first = False
        if first:
            writer.write_table(schema.empty_table())  # no rows: one empty row group, as write_table writes
    return sink.getvalue()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
