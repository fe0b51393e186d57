"""A shard written from sorted runs has the bytes of the shard sorted whole, and the writer holds runs packed."""

import random

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline

import transforms.writing.sorted_runs as sorted_runs
from transforms.common.records import Document, Provenance
from transforms.writing.parquet_file import ParquetSettings, parquet_bytes
from transforms.writing.schema import DOCUMENT_SCHEMA, document_row, document_shard_key, document_sort_key
from transforms.writing.shards import shard_of
from transforms.writing.sorted_runs import merge_runs, pack_run, run_of, unpack_run
from transforms.writing.stage import ShardSpec, WriteParquetShards

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


def test_a_packed_run_reads_back_pair_by_pair_as_it_was():
    pairs = [((f"{i:04d}", "p", i), {"text": WORDS[i % len(WORDS)], "utf8": "Grüße".encode(), "n": i, "none": None})
             for i in range(200)]
    assert list(unpack_run(pack_run(pairs))) == pairs
    assert list(unpack_run(pack_run([]))) == []


def test_a_packed_run_of_text_is_smaller_than_the_text():
    text = " ".join(["the quick brown fox jumps over the lazy dog"] * 50)
    pairs = [((f"{i:04d}",), {"text": f"{i} {text}"}) for i in range(100)]
    assert len(pack_run(pairs)) * 5 < sum(len(row["text"]) for _, row in pairs)


def test_merged_runs_give_the_order_of_one_sort_whatever_the_split_and_the_order_of_the_runs():
    rng = random.Random(7)
    pairs = [((rng.choice("abcdef") * rng.randint(1, 3), rng.randint(0, 5)), {"i": i}) for i in range(500)]
    for runs_count in (1, 2, 7, 64):
        runs: dict[int, list] = {}
        for pair in pairs:
            runs.setdefault(rng.randrange(runs_count), []).append(pair)
        packed = [(index, pack_run(sorted(run, key=lambda p: p[0]))) for index, run in runs.items()]
        merged = list(merge_runs(packed))
        assert [row["i"] for row in merged] == [row["i"] for row in merge_runs(list(reversed(packed)))]
        by_key = {row["i"]: key for key, row in pairs}
        assert [by_key[row["i"]] for row in merged] == sorted(by_key[row["i"]] for row in merged)
        assert sorted(row["i"] for row in merged) == list(range(500))


def test_the_merge_unpacks_each_run_only_as_far_as_the_rows_it_has_given(monkeypatch):
    loads = [0]
    real_load = sorted_runs.pickle.load

    def counting_load(file):  # noqa: ANN001, ANN202
        loads[0] += 1
        return real_load(file)

    monkeypatch.setattr(sorted_runs.pickle, "load", counting_load)
    runs = [(r, pack_run([((f"{i:05d}",), {"i": i}) for i in range(r, 4000, 8)])) for r in range(8)]
    merged = merge_runs(runs)
    first = [next(merged) for _ in range(10)]
    assert [row["i"] for row in first] == list(range(10))
    assert loads[0] <= 10 + 8  # what was given, plus one row waiting in each run
    assert len(list(merged)) == 4000 - 10


def test_runs_fill_evenly_and_stay_in_range():
    counts = [0] * 16
    for i in range(16_000):
        counts[run_of(f"doc-{i}", 16)] += 1
    assert min(counts) > 800 and max(counts) < 1200
    assert {run_of("x", 1)} == {0}
    with pytest.raises(ValueError, match="runs_per_shard"):
        run_of("x", 0)


@pytest.mark.parametrize("runs_per_shard", [1, 3, 64])
def test_shards_written_from_runs_have_the_bytes_of_each_shard_sorted_whole(tmp_path, runs_per_shard):
    documents = _documents(300)
    settings = ParquetSettings(row_group_rows=17)
    spec = ShardSpec(str(tmp_path / str(runs_per_shard)), "data", 3, DOCUMENT_SCHEMA, document_row,
                     document_sort_key, document_shard_key, settings, "documents", runs_per_shard=runs_per_shard)
    with TestPipeline() as p:
        _ = p | beam.Create(list(reversed(documents))) | WriteParquetShards(spec)
    for index in range(3):
        shard = sorted((d for d in documents if shard_of(d.id, 3) == index), key=document_sort_key)
        expected = parquet_bytes(map(document_row, shard), DOCUMENT_SCHEMA, settings)
        (written,) = (tmp_path / str(runs_per_shard) / "data").glob(f"part-0000{index}-of-00003-*.parquet")
        assert written.read_bytes() == expected
