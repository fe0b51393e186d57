"""Pointer datasets: build --pointers holds no text, and materialize rebuilds the very same dataset.

Every fetch goes through a loopback server that answers each file's first request with a 503 and
resets the connection in the middle of the second, so the retries and Range resumes are exercised.
"""

import hashlib
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from beam_jobs.build import run_build
from beam_jobs.lock import run_lock
from beam_jobs.materialize import main as materialize_main
from testbed.faulty_server import FaultPlan, FaultyServer
from tests.conftest import REPO, published_bytes, read_rows, write_recipe
from transforms.writing.schema import POINTER_SCHEMA

PUBLISHED = ("run_info.json", "inputs.json", "stats.json")  # where and when a run read: not the dataset


def _fineweb_near(tmp: Path) -> Path:
    recipe = yaml.safe_load((REPO / "configs" / "fineweb-like.yaml").read_text())
    recipe["input"] = {"paths": ["unused.warc.gz"]}
    recipe["dedup"]["near"] = {"enabled": True}
    path = tmp / "fineweb-near.yaml"
    path.write_text(yaml.safe_dump(recipe))
    for name in ("example-domains.txt", "example-urls.txt", "example-words.txt", "example-subwords.txt"):
        (tmp / "blocklists").mkdir(exist_ok=True)
        shutil.copy(REPO / "configs" / "blocklists" / name, tmp / "blocklists" / name)
    return path


def _faults() -> FaultPlan:
    return FaultPlan(seed=7, kinds=("503", "reset"), in_order=True)


def _round_trip(recipe: Path, inputs: Path, work: Path) -> dict:
    """lock -> direct build (local) -> pointer build and materialize (both over the faulty server)."""
    lock = work / "dataset.lock"
    run_lock(["--config", str(recipe), "--input", str(inputs / "*.warc.gz"), "-o", str(lock)])
    direct = run_build(["--lock", str(lock), "--output", str(work / "direct"), "--quiet"])
    with FaultyServer(inputs, _faults()) as server:
        pointers = run_build(["--lock", str(lock), "--pointers", "--output", str(work / "pointers"),
                              "--input-root", server.url, "--quiet"])
        pointer_log = list(server.plan.log)
    with FaultyServer(inputs, _faults()) as server:
        status = materialize_main([str(work / "pointers"), "--output", str(work / "materialized"),
                                   "--input-root", server.url, "--quiet"])
        materialize_log = list(server.plan.log)
    return {"lock": lock, "direct": direct, "pointers": pointers, "status": status,
            "faults": (pointer_log, materialize_log)}


@pytest.fixture(scope="module")
def served(sample_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    for path in sorted(sample_dir.glob("*.warc.gz")):
        shutil.copy(path, root / path.name)
    return root


@pytest.fixture(scope="module", params=["sample", "fineweb-near"])
def round_trip(request, served, tmp_path_factory):
    work = tmp_path_factory.mktemp(request.param)
    recipe = (write_recipe(work / "sample.yaml", ["unused.warc.gz"]) if request.param == "sample"
              else _fineweb_near(work))
    return work, _round_trip(recipe, served, work)


def test_materialize_gives_back_the_direct_build_byte_for_byte(round_trip):
    work, result = round_trip
    assert result["status"] == 0
    direct = published_bytes(work / "direct", PUBLISHED)
    assert published_bytes(work / "materialized", PUBLISHED) == direct
    assert json.loads((work / "pointers" / "manifest.json").read_text())["materializes"] == result["direct"]
    assert result["direct"]["lock_sha256"] == hashlib.sha256(result["lock"].read_bytes()).hexdigest()
    # every file met a 503 and then a reset in the middle of a body, while building pointers and materializing
    for log in result["faults"]:
        for name in {path for path, _, _ in log}:
            assert [what for path, _, what in log if path == name][:3] == ["503", "reset", "ok"]


def test_the_recipe_with_near_dedup_and_filters_has_what_to_check(round_trip):
    work, result = round_trip
    manifest = result["direct"]
    assert manifest["documents"] > 100
    if manifest["recipe"]["dedup"]["near"]["enabled"]:
        assert manifest["counts"]["near_dedup"]["near_duplicate"] > 0
        assert manifest["files"]["rejected"] and sum(f["rows"] for f in manifest["files"]["rejected"]) > 0
        rows = read_rows(work / "materialized")
        assert any(r["near_dup_cluster_size"] > 1 for r in rows) and any(r["duplicate_count"] > 1 for r in rows)


def test_pointers_hold_no_text(round_trip):
    work, _ = round_trip
    texts = [r["text"] for r in read_rows(work / "direct")]
    for path in sorted((work / "pointers").rglob("*.parquet")):
        table = pq.read_table(path)
        assert "text" not in table.schema.names
        if path.parent.name == "pointers":
            assert table.schema.names == POINTER_SCHEMA.names
        raw, values = path.read_bytes(), json.dumps(table.to_pylist(), default=str)
        for text in texts[::25]:
            snippet = max(text.splitlines(), key=len)[:40]
            if len(snippet) >= 20:
                assert snippet.encode() not in raw and snippet not in values
    assert not (work / "pointers" / "data").exists()
    assert (work / "pointers" / "warcforge.lock").read_bytes() == (work / "dataset.lock").read_bytes()


def test_a_record_that_does_not_match_is_listed_and_fails_the_run(round_trip, served, tmp_path):
    work, _ = round_trip
    pointers = tmp_path / "pointers"
    shutil.copytree(work / "pointers", pointers)
    manifest = json.loads((pointers / "manifest.json").read_text())
    first = manifest["files"]["pointers"][0]
    table = pq.read_table(pointers / first["path"])
    rows = table.to_pylist()
    rows[0]["text_sha256"] = "0" * 64
    pq.write_table(type(table).from_pylist(rows, schema=table.schema), pointers / first["path"])
    status = materialize_main([str(pointers), "--output", str(tmp_path / "out"), "--input-root", str(served),
                               "--quiet"])
    assert status == 4
    out = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert out["materialized"]["missing"] == 1
    assert out["documents"] == manifest["materializes"]["documents"] - 1
    missing = read_rows(tmp_path / "out", "missing")
    assert [(m["id"], m["reason"]) for m in missing] == [(rows[0]["id"], "digest_mismatch")]


def test_a_file_that_cannot_be_fetched_is_listed(round_trip, served, tmp_path):
    work, _ = round_trip
    partial = tmp_path / "partial"
    partial.mkdir()
    names = sorted(p.name for p in served.glob("*.warc.gz"))
    for name in names[1:]:
        shutil.copy(served / name, partial / name)
    status = materialize_main([str(work / "pointers"), "--output", str(tmp_path / "out"), "--input-root",
                               str(partial), "--quiet"])
    assert status == 4
    missing = read_rows(tmp_path / "out", "missing")
    assert missing and {m["warc_path"] for m in missing} == {names[0]}
    assert {m["reason"] for m in missing} == {"fetch_failed"}
