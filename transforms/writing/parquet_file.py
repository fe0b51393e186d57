"""Deterministic Parquet bytes: the same rows in the same order always give the same file."""

import hashlib
import io
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

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


def parquet_bytes(rows: list[dict], schema: pa.Schema, settings: ParquetSettings) -> bytes:
    table = pa.Table.from_pylist(rows, schema=schema)
    level = settings.compression_level if settings.compression in ("zstd", "gzip", "brotli") else None
    if settings.compression == "gzip" and level is not None:
        level = min(level, 9)
    sink = io.BytesIO()
    pq.write_table(
        table,
        sink,
        compression=settings.compression,
        compression_level=level,
        row_group_size=settings.row_group_rows,
        use_dictionary=[name for name in DICTIONARY_COLUMNS if name in schema.names],
        write_statistics=True,
    )
    return sink.getvalue()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
