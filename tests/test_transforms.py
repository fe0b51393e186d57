"""The Beam layer on small in-memory inputs."""

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms.common.records import Document, PageRecord, Provenance
from transforms.dedup.stage import ExactDedup
from transforms.extraction.html_text import ExtractOptions
from transforms.extraction.stage import ExtractSettings, ExtractText
from transforms.writing.parquet_file import ParquetSettings
from transforms.writing.schema import DOCUMENT_SCHEMA, document_row, document_shard_key, document_sort_key
from transforms.writing.stage import ShardSpec, WriteParquetShards


def prov(record_id: str, date: str = "2024-01-01T00:00:00Z", offset: int = 0) -> Provenance:
    return Provenance("f.warc.gz", offset, 100, f"<urn:uuid:{record_id}>", date, f"http://x/{record_id}", None,
                      "response")


def doc(doc_id: str, text: str, date: str = "2024-01-01T00:00:00Z") -> Document:
    return Document(doc_id, text, prov(doc_id, date), "text/html", "utf-8", "sha")


def test_exact_dedup_keeps_one_survivor_per_text_and_counts_copies():
    docs = [doc("b", "Same text"), doc("a", "same   TEXT"), doc("c", "same text"), doc("d", "other")]
    with TestPipeline() as p:
        out = p | beam.Create(docs) | ExactDedup("smallest_id") | beam.Map(lambda d: (d.id, d.duplicate_count))
        assert_that(out, equal_to([("a", 3), ("d", 1)]))


def test_exact_dedup_latest_rule():
    docs = [doc("a", "x", "2024-01-01T00:00:00Z"), doc("b", "x", "2024-03-01T00:00:00Z")]
    with TestPipeline() as p:
        out = p | beam.Create(docs) | ExactDedup("latest") | beam.Map(lambda d: d.id)
        assert_that(out, equal_to(["b"]))


def test_extract_text_sends_failures_to_the_dead_letter_output():
    good = PageRecord(prov("1"), "text/html", "utf-8",
                      b"<html><body><article><p>" + b"Plenty of words in a paragraph here. " * 5
                      + b"</p></article></body></html>", False)
    empty = PageRecord(prov("2"), "text/html", "utf-8", b"<html><script>x()</script></html>", False)
    bad_options = ExtractOptions(main_content="yes")  # resiliparse rejects a non-bool option
    with TestPipeline() as p:
        pages = p | beam.Create([good, empty])
        ok = pages | "Good" >> ExtractText(ExtractSettings(ExtractOptions()))
        broken = pages | "Broken" >> ExtractText(ExtractSettings(bad_options))
        assert_that(ok.documents | "Ids" >> beam.Map(lambda d: d.provenance.warc_record_id),
                    equal_to(["<urn:uuid:1>"]), label="one document")
        assert_that(ok.dead_letter, equal_to([]), label="no dead letters")
        assert_that(broken.dead_letter | beam.Map(lambda r: (r.stage, r.reason, r.provenance.warc_record_id)),
                    equal_to([("extract", "extract_error", "<urn:uuid:1>"), ("extract", "extract_error",
                                                                             "<urn:uuid:2>")]),
                    label="dead letters")


def test_write_parquet_shards_writes_every_index_sorted(tmp_path):
    docs = [doc(f"{i:02x}", f"text {i}") for i in range(40)]
    spec = ShardSpec(str(tmp_path), "data", 3, DOCUMENT_SCHEMA, document_row, document_sort_key,
                     document_shard_key, ParquetSettings(), "documents")
    with TestPipeline() as p:
        # Named by index and content: part-<index>-of-<count>-<sha256 prefix>.parquet
        files = p | beam.Create(list(reversed(docs))) | WriteParquetShards(spec) | beam.Map(
            lambda f: (f.path[:25], f.path == f"{f.path[:25]}{f.sha256[:12]}.parquet"))
        assert_that(files, equal_to([(f"data/part-0000{i}-of-00003-", True) for i in range(3)]))
    ids = []
    for path in sorted((tmp_path / "data").glob("*.parquet")):
        shard_ids = pq.read_table(path).column("id").to_pylist()
        assert shard_ids == sorted(shard_ids)
        ids += shard_ids
    assert sorted(ids) == sorted(d.id for d in docs)


def test_write_parquet_shards_writes_empty_shards_too(tmp_path):
    spec = ShardSpec(str(tmp_path), "data", 2, DOCUMENT_SCHEMA, document_row, document_sort_key,
                     document_shard_key, ParquetSettings(), "documents")
    with TestPipeline() as p:
        _ = p | beam.Create([doc("a", "only one")]) | WriteParquetShards(spec)
    rows = [pq.read_table(path).num_rows for path in sorted((tmp_path / "data").glob("*.parquet"))]
    assert sorted(rows) == [0, 1]
