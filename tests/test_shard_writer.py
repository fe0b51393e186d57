"""A shard file has the bytes of its rows sorted whole, whatever order they come in, and its writer
holds the items packed, unpacking each only as its row is taken."""

import collections
import random
from pathlib import Path

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline

import transforms.writing.stage as stage
from transforms.common.packed import ZSTD_FRAME, in_process_packing, unpack
from transforms.common.records import Document, Provenance
from transforms.writing.parquet_file import ParquetSettings, parquet_bytes
from transforms.writing.schema import DOCUMENT_SCHEMA, document_row, document_shard_key, document_sort_key
from transforms.writing.shards import shard_of
from transforms.writing.stage import ShardSpec, WriteParquetShards, WriteShardFn, shard_entry

WORDS = ["plain", "Grüße", "日本語のテキスト", "emoji 🙂", "", "x" * 3000]


def _documents(n: int, seed: int = 0) -> list[Document]:
    rng = random.Random(seed)
    return [Document(f"{rng.getrandbits(64):016x}", f"{WORDS[i % len(WORDS)]} {i}\nline two",
                     Provenance(f"s3://b/CC-MAIN-{i % 3}.warc.gz", i * 1000, 999, f"<urn:uuid:{i}>",
                                None if i % 5 == 0 else "2024-05-18T00:00:19Z", f"https://a.test/{i}",
                                None if i % 3 else "sha1:ABC", "response", i % 2),
                     "text/html", "utf-8", f"{i:064x}", 1 + i % 4, i % 7 == 0,
                     None if i % 4 == 0 else "en", None if i % 4 == 0 else 0.5 + i / 1000, 1)
            for i in range(n)]


def _spec(root: str, shards: int = 3, rows_per_group: int = 17) -> ShardSpec:
    return ShardSpec(root, "data", shards, DOCUMENT_SCHEMA, document_row, document_sort_key, document_shard_key,
                     ParquetSettings(row_group_rows=rows_per_group), "documents")


def _entries(spec: ShardSpec, documents: list[Document]) -> list[tuple[tuple, bytes]]:
    """The (sort key, packed item) values ``documents`` reach their shard's writer as, in this order."""
    return [shard_entry(d, spec)[1] for d in documents]


def _writer(spec: ShardSpec) -> WriteShardFn:
    fn = WriteShardFn(spec)
    fn.setup()
    return fn


def _write_shard(spec: ShardSpec, documents: list[Document]) -> bytes:
    """The shard file WriteShardFn writes for ``documents`` given in this order (with the shard's marker)."""
    (written,) = _writer(spec).process((0, [None, *_entries(spec, documents)]))
    return Path(spec.staging_root, written.path).read_bytes()


def test_each_shard_has_the_bytes_of_its_rows_sorted_whole(tmp_path):
    documents = _documents(300)
    spec = _spec(str(tmp_path))
    with TestPipeline() as p:
        _ = p | beam.Create(list(reversed(documents))) | WriteParquetShards(spec)
    for index in range(3):
        shard = sorted((d for d in documents if shard_of(d.id, 3) == index), key=document_sort_key)
        expected = parquet_bytes(map(document_row, shard), DOCUMENT_SCHEMA, spec.settings)
        (written,) = (tmp_path / "data").glob(f"part-0000{index}-of-00003-*.parquet")
        assert written.read_bytes() == expected


def test_rows_with_equal_sort_keys_come_in_one_order_whatever_order_they_arrive_in(tmp_path):
    # One record read twice gives the same sort key; here the copies differ (their language), so an
    # order taken from the shuffle would show in the file's bytes.
    documents = _documents(40)
    twins = [Document(d.id, d.text, d.provenance, d.content_type, d.charset, d.text_sha256, language=lang)
             for d in documents[:10] for lang in ("de", "fr", None)]
    files = set()
    for seed in range(4):
        shuffled = documents + twins
        random.Random(seed).shuffle(shuffled)
        files.add(_write_shard(_spec(str(tmp_path / str(seed)), shards=1), shuffled))
    assert len(files) == 1


def test_the_writer_unpacks_an_item_only_as_its_row_is_taken_and_lets_its_packed_form_go(monkeypatch):
    unpacked = []

    def counting_unpack(packed: bytes) -> object:
        unpacked.append(packed)
        return unpack(packed)

    monkeypatch.setattr(stage, "unpack", counting_unpack)
    documents = sorted(_documents(50), key=document_sort_key)
    spec = _spec("unused")
    keyed = _entries(spec, documents)
    rows = _writer(spec)._rows_in_order(keyed, collections.Counter())
    first = [next(rows) for _ in range(5)]
    assert [row["id"] for row in first] == [d.id for d in documents[:5]]
    assert len(unpacked) == 5
    assert keyed[:5] == [None] * 5 and None not in keyed[5:]
    assert len(list(rows)) == 45 and keyed == [None] * 50


def test_rows_are_counted_by_value_once_per_shard(tmp_path):
    documents = _documents(60)
    spec = ShardSpec(str(tmp_path), "data", 1, DOCUMENT_SCHEMA, document_row, document_sort_key, document_shard_key,
                     ParquetSettings(), "documents", count_by=lambda d: d.language, count_in="languages")
    fn = _writer(spec)
    counted = []
    fn.by_value.inc = lambda value, n=1: counted.append((value, n))
    list(fn.process((0, _entries(spec, documents))))
    assert counted == [("en", sum(1 for d in documents if d.language == "en"))]


def test_a_shard_is_the_same_file_whether_its_items_crossed_compressed_or_not(tmp_path):
    # The local runner packs without compressing (transforms/common/packed.py); a cluster runner's workers
    # compress. Tied rows (the twins) are ordered by their pickles, which are the same either way.
    documents = _documents(40)
    twins = [Document(d.id, d.text, d.provenance, d.content_type, d.charset, d.text_sha256, language=lang)
             for d in documents[:10] for lang in ("de", "fr", None)]
    items = documents + twins
    spec = _spec(str(tmp_path / "compressed"), shards=1)
    compressed = _entries(spec, items)
    with in_process_packing():
        plain = _entries(spec, items)
    assert all(p.startswith(ZSTD_FRAME) for _, p in compressed)
    assert not any(p.startswith(ZSTD_FRAME) for _, p in plain)
    mixed = [c if i % 2 else p for i, (c, p) in enumerate(zip(compressed, plain, strict=True))]
    files = set()
    for name, entries in (("compressed", compressed), ("plain", plain), ("mixed", mixed)):
        for seed in range(3):
            shuffled = list(entries)
            random.Random(seed).shuffle(shuffled)
            spec = _spec(str(tmp_path / f"{name}-{seed}"), shards=1)
            (written,) = _writer(spec).process((0, [None, *shuffled]))
            files.add(Path(spec.staging_root, written.path).read_bytes())
    assert len(files) == 1
