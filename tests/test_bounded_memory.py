"""What a stage keeps while it works through a file or a shard is bounded, not one entry per record.

docs/SHARD-MEMORY.md measures the whole build at two shard sizes; these are the rules behind it.
"""

import io
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import transforms.reading.classify_records as classify_records
from sample_crawl.warc_writer import gzip_member, http_response, warc_record
from transforms.common.records import Document, PageRecord, Provenance, Rejected
from transforms.reading.classify_records import ReadRules, read_shard
from transforms.reading.gzip_members import GzipMemberReader
from transforms.writing.parquet_file import ParquetSettings, parquet_bytes
from transforms.writing.schema import (
    DEAD_LETTER_SCHEMA,
    DICTIONARY_COLUMNS,
    DOCUMENT_SCHEMA,
    dead_letter_row,
    document_row,
)

RECORDS = 300


def _record(i: int) -> bytes:
    body = f"<html><body><p>page {i}</p></body></html>".encode()
    block = http_response(200, "OK", [("Content-Type", "text/html")], body)
    return warc_record([("WARC-Type", "response"), ("WARC-Record-ID", f"<urn:uuid:{i}>"),
                        ("WARC-Target-URI", f"http://a.test/{i}"), ("WARC-Date", "2024-01-01T00:00:00Z"),
                        ("Content-Type", "application/http; msgtype=response")], block, payload=body)


def test_the_gzip_reader_forgets_members_before_the_record_it_located(monkeypatch):
    members = [gzip_member(_record(i)) for i in range(RECORDS)]
    data = b"".join(members)
    views = []
    real_open_view = classify_records.open_view

    def keep_view(*args):  # noqa: ANN202
        views.append(real_open_view(*args))
        return views[-1]

    monkeypatch.setattr(classify_records, "open_view", keep_view)
    held, decided = [], []
    for d in read_shard(io.BytesIO(data), "x.warc.gz", len(data), ReadRules()):
        decided.append(d)
        held.append(len(views[0].member_starts))
    assert isinstance(views[0], GzipMemberReader) and len(decided) == RECORDS
    assert max(held) <= 3  # the record located, the one held back and the one being read: not RECORDS
    # ...and every record is still placed where it is.
    offsets = [sum(len(m) for m in members[:i]) for i in range(RECORDS)]
    assert [(d.provenance.warc_offset, d.provenance.warc_length) for d in decided] == [
        (offset, len(member)) for offset, member in zip(offsets, members, strict=True)]
    assert all(isinstance(d, PageRecord) and d.provenance.warc_inner_offset == 0 for d in decided)


def test_locating_a_record_before_one_already_located_is_refused():
    data = b"".join(gzip_member(_record(i)) for i in range(3))
    view = GzipMemberReader(io.BytesIO(data), len(data))
    while view.read(1 << 16):
        pass
    third = view.member_starts[2]
    view.locate(third, view.position)
    with pytest.raises(ValueError, match="located after"):
        view.locate(0, third)


# --- the Parquet writer ---------------------------------------------------------------------------

def _whole_table_bytes(rows: list[dict], schema, settings) -> bytes:  # noqa: ANN001
    """The writer before issue #18: the whole shard as one Arrow table, then pq.write_table."""
    level = settings.compression_level if settings.compression in ("zstd", "gzip", "brotli") else None
    if settings.compression == "gzip" and level is not None:
        level = min(level, 9)
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), sink, compression=settings.compression,
                   compression_level=level, row_group_size=settings.row_group_rows,
                   use_dictionary=[name for name in DICTIONARY_COLUMNS if name in schema.names],
                   write_statistics=True)
    return sink.getvalue()


def _documents(n: int) -> list:
    words = ["plain", "Grüße", "日本語のテキスト", "emoji 🙂", "", "x" * 3000]
    return [Document(f"{i:08x}", f"{words[i % len(words)]} {i}\nline two",
                     Provenance("s3://b/CC-MAIN-1.warc.gz", i * 1000, 999, f"<urn:uuid:{i}>",
                                None if i % 5 == 0 else "2024-05-18T00:00:19Z", f"https://a.test/{i}",
                                None if i % 3 else "sha1:ABC", "response", i % 2),
                     "text/html", "utf-8", f"{i:064x}", 1 + i % 4, i % 7 == 0,
                     None if i % 4 == 0 else "en", None if i % 4 == 0 else 0.5 + i / 1000, 1)
            for i in range(n)]


@pytest.mark.parametrize("rows", [0, 1, 7, 8, 23])
@pytest.mark.parametrize("compression", ["zstd", "snappy", "gzip", "none"])
def test_parquet_written_a_row_group_at_a_time_has_the_bytes_of_the_whole_table(rows, compression):
    settings = ParquetSettings(compression, 3, row_group_rows=7)
    documents = [document_row(d) for d in _documents(rows)]
    assert parquet_bytes(iter(documents), DOCUMENT_SCHEMA, settings) == _whole_table_bytes(
        documents, DOCUMENT_SCHEMA, settings)
    dead = [dead_letter_row(Rejected("read", "record_error", d.provenance, "détail")) for d in _documents(rows)]
    assert parquet_bytes(dead, DEAD_LETTER_SCHEMA, settings) == _whole_table_bytes(dead, DEAD_LETTER_SCHEMA, settings)


def test_the_parquet_writer_takes_rows_one_row_group_at_a_time(monkeypatch):
    taken, taken_at_each_write = [0], []

    def rows():  # noqa: ANN202
        for d in _documents(45):
            taken[0] += 1
            yield document_row(d)

    real_write = pq.ParquetWriter.write_table

    def write_table(self, table, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        taken_at_each_write.append((taken[0], table.num_rows))
        return real_write(self, table, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", write_table)
    data = parquet_bytes(rows(), DOCUMENT_SCHEMA, ParquetSettings(row_group_rows=10))
    # Each row group is written before a row of the next one is made.
    assert taken_at_each_write == [(10, 10), (20, 10), (30, 10), (40, 10), (45, 5)]
    assert pq.ParquetFile(io.BytesIO(data)).metadata.num_row_groups == 5


def test_writing_leaves_no_second_copy_of_the_text_in_the_documents():
    # CPython keeps the UTF-8 form of a non-ASCII str inside it once C code asks for it (sys.getsizeof
    # counts it); the documents live until their whole shard is written.
    documents = _documents(30)
    sizes = [sys.getsizeof(d.text) for d in documents]
    parquet_bytes(map(document_row, documents), DOCUMENT_SCHEMA, ParquetSettings(row_group_rows=7))
    assert [sys.getsizeof(d.text) for d in documents] == sizes
    cached = "Grüße, nicht „ASCII“"
    before = sys.getsizeof(cached)
    cached.encode("utf-8")  # not cached by encode ...
    assert sys.getsizeof(cached) == before
    pa.array([cached])  # ... but by Arrow's conversion, which is what the writer avoids
    assert sys.getsizeof(cached) > before


def test_a_string_that_cannot_be_utf8_is_refused_as_before():
    (document,) = _documents(1)
    row = dead_letter_row(Rejected("read", "record_error", document.provenance, "bad \udc80 surrogate"))
    with pytest.raises((pa.ArrowException, UnicodeError)):
        parquet_bytes([row], DEAD_LETTER_SCHEMA, ParquetSettings())
