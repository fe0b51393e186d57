"""`warcforge build` end to end on the embedded sample: counts, provenance, dead letters, manifest."""

import collections
import hashlib
import io
import json
from pathlib import Path

import duckdb
import polars
import pytest

from tests.conftest import build, read_rows, write_recipe
from transforms.common import reasons
from transforms.common.records import PageRecord
from transforms.dedup.normalize import exact_dedup_key
from transforms.extraction.html_text import ExtractOptions
from transforms.extraction.stage import page_to_text
from transforms.reading.classify_records import ReadRules, read_shard
from transforms.reading.record_fetch import record_bytes

ACCOUNTING_SKIP = reasons.NOT_DROPS


@pytest.fixture(scope="module")
def sample_build(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("sample-out") / "out"
    recipe = write_recipe(tmp_path_factory.mktemp("recipe") / "r.yaml", [str(sample_dir / "*.warc.gz")])
    manifest = build(recipe, out)
    return out, manifest


def expected_counts(index: dict) -> collections.Counter:
    return collections.Counter(c["expect"] for c in index["captures"])


def assert_every_record_is_accounted_for(counts: dict) -> None:
    """in == out + one reason per element, at every stage."""
    stages = [s for s in (reasons.READ, reasons.EXTRACT, reasons.FILTER, reasons.DEDUP_EXACT) if s in counts]
    for stage in stages:
        by = counts[stage]
        dropped = sum(n for name, n in by.items() if name not in ACCOUNTING_SKIP)
        assert by[reasons.IN] == by.get(reasons.OUT, 0) + dropped, stage
    for before, after in zip(stages, stages[1:], strict=False):
        assert counts[after][reasons.IN] == counts[before].get(reasons.OUT, 0), (before, after)
    assert counts[reasons.WRITE][reasons.DOCUMENTS] == counts[reasons.DEDUP_EXACT][reasons.OUT]


def test_counts_match_what_the_sample_promises(sample_build, sample_index):
    _, manifest = sample_build
    counts, expected = manifest["counts"], expected_counts(sample_index)
    for reason, n in expected.items():
        if reason == "document":
            continue
        stage = {"empty_text": "extract", "exact_duplicate": "dedup_exact"}.get(reason, "read")
        assert counts[stage].get(reason) == n, reason
    assert manifest["documents"] == expected["document"] == sample_index["expected_documents"]
    assert_every_record_is_accounted_for(counts)


def test_every_row_points_at_the_bytes_of_its_record(sample_build):
    out, manifest = sample_build
    rows = read_rows(out)
    assert len(rows) == manifest["documents"]
    files: dict[str, bytes] = {}
    for row in rows:
        data = files.setdefault(row["warc_path"], (Path(manifest["input_root"]) / row["warc_path"]).read_bytes())
        cut = record_bytes(data[row["warc_offset"]: row["warc_offset"] + row["warc_length"]],
                           row["warc_inner_offset"])
        again = next(read_shard(io.BytesIO(cut), row["warc_path"], len(cut), ReadRules()))
        assert isinstance(again, PageRecord)
        assert again.provenance.warc_record_id == row["warc_record_id"]
        assert again.provenance.payload_digest == row["warc_payload_digest"]
        assert page_to_text(again, ExtractOptions())[0] == row["text"]
        assert hashlib.sha256(row["text"].encode()).hexdigest() == row["text_sha256"]


def test_rows_are_the_promised_documents_with_one_survivor_per_duplicate_group(sample_build, sample_index):
    out, _ = sample_build
    by_place = {(c["shard"], c["offset"]): c for c in sample_index["captures"]}
    rows = read_rows(out)
    for row in rows:
        capture = by_place[(Path(row["warc_path"]).name, row["warc_offset"])]
        assert capture["expect"] in ("document", "exact_duplicate")
        assert capture["record_id"] == row["warc_record_id"]
    keys = [exact_dedup_key(r["text"]) for r in rows]
    assert len(keys) == len(set(keys))
    assert sum(r["duplicate_count"] for r in rows) == len(rows) + expected_counts(sample_index)["exact_duplicate"]
    assert len({r["id"] for r in rows}) == len(rows)


def test_dead_letters_name_file_offset_and_reason(sample_build, sample_index):
    out, manifest = sample_build
    dead = read_rows(out, "dead_letter")
    promised = {(c["shard"], c["offset"], c["expect"]) for c in sample_index["captures"]
                if c["expect"] in reasons.DEAD_LETTER_REASONS}
    assert {(Path(r["warc_path"]).name, r["warc_offset"], r["reason"]) for r in dead} == promised
    assert len(dead) == manifest["dead_letters"] == len(promised)
    assert all(r["stage"] == "read" and r["warc_length"] > 0 for r in dead)
    (truncated,) = [r for r in dead if r["reason"] == "truncated_payload"]
    assert truncated["detail"].startswith("a gzip member cut off before its end") or "missing" in truncated["detail"]


def test_manifest_describes_the_run(sample_build, sample_dir):
    out, manifest = sample_build
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk == manifest
    assert manifest["format"] == "warcforge-manifest/1"
    assert manifest["input_root"] == str(sample_dir)
    assert [i["warc_path"] for i in manifest["inputs"]] == [p.name for p in sorted(sample_dir.glob("*.warc.gz"))]
    assert all(i["size"] == (sample_dir / i["warc_path"]).stat().st_size for i in manifest["inputs"])
    assert len(manifest["recipe_sha256"]) == 64 and manifest["recipe"]["output"]["num_shards"] == 4
    assert {"apache-beam", "fastwarc", "resiliparse", "warcio", "pyarrow", "fsspec", "python"} <= set(
        manifest["versions"])
    listed = manifest["files"]["data"] + manifest["files"]["dead_letter"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet")) == sorted(f["path"] for f in listed)
    for entry in listed:
        data = (out / entry["path"]).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["bytes"], entry["sha256"])
    stats = json.loads((out / "stats.json").read_text())
    assert stats["counts"] == manifest["counts"]
    assert not [p for p in out.iterdir() if p.name.startswith(".warcforge-staging-")]
    run_info = json.loads((out / "run_info.json").read_text())
    assert run_info["seconds"] > 0 and run_info["started_at"] <= run_info["finished_at"]


def test_output_loads_in_duckdb_and_polars(sample_build):
    out, manifest = sample_build
    pattern = str(out / "data" / "*.parquet")
    ((count,),) = duckdb.sql(f"SELECT count(*) FROM read_parquet('{pattern}')").fetchall()
    assert count == manifest["documents"]
    frame = polars.read_parquet(pattern)
    assert frame.height == manifest["documents"]
    assert frame.schema["warc_date"] == polars.Datetime("us", "UTC")
    assert frame["id"].n_unique() == frame.height


def test_truncated_records_are_kept_when_the_recipe_says_so(sample_dir, sample_index, sample_build, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")], read={"keep_truncated": True})
    manifest = build(recipe, tmp_path / "out")
    expected = expected_counts(sample_index)
    truncated = [r for r in read_rows(tmp_path / "out") if r["truncated"]]
    # The crawler-truncated pages and the record cut off at the end of the last shard.
    assert len(truncated) == expected["warc_truncated"] + expected["truncated_payload"]
    assert manifest["counts"]["read"]["truncated_kept"] == len(truncated)
    assert "warc_truncated" not in manifest["counts"]["read"]
    assert "truncated_payload" not in manifest["counts"]["read"]
    assert manifest["documents"] == sample_build[1]["documents"] + len(truncated)
    assert not any(r["truncated"] for r in read_rows(sample_build[0]))
    assert_every_record_is_accounted_for(manifest["counts"])
