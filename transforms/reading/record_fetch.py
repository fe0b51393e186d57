"""Fetch one record again from the provenance columns of a row or dead letter.

Read ``warc_length`` bytes at ``warc_offset``; when ``warc_inner_offset`` is not 0 the record
starts inside a compressed block (whole-file gzip, zstd, members not aligned to records), so
decompress those bytes and skip ``warc_inner_offset`` of them.
"""

import gzip
import io

import fastwarc  # noqa: F401 - the package before its submodules (see transforms/reading/record_views.py)
import fsspec
from fastwarc.stream_io import Lz4Reader, ZstdReader

from transforms.reading.gzip_members import GZIP_MAGIC, LZ4_MAGIC, ZSTD_MAGIC


def decompress_all(data: bytes) -> bytes:
    if data.startswith(GZIP_MAGIC):
        return gzip.decompress(data)
    if data.startswith(ZSTD_MAGIC):
        return ZstdReader(io.BytesIO(data)).read()
    if data.startswith(LZ4_MAGIC):
        return Lz4Reader(io.BytesIO(data)).read()
    return data


def record_bytes(block: bytes, inner_offset: int) -> bytes:
    """The bytes a WARC reader can parse the record from, given the block read at warc_offset."""
    return decompress_all(block)[inner_offset:] if inner_offset else block


def fetch_record(url: str, offset: int, length: int, inner_offset: int = 0) -> bytes:
    with fsspec.open(url, "rb") as stream:
        stream.seek(offset)
        block = stream.read(length)
    return record_bytes(block, inner_offset)
