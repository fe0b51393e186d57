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
from transforms.writing.publish import dumps_json
from transforms.writing.schema import POINTER_SCHEMA
from transforms.writing.shards import shard_file_name

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


def _tamper(pointers: Path, change, consistent: bool) -> tuple[dict, dict]:
    """Change the first row of the first pointer file; ``consistent`` also rewrites its manifest entry (and
    stats.json), as a careful forger would, so that only the records themselves can tell."""
    manifest = json.loads((pointers / "manifest.json").read_text())
    entry = manifest["files"]["pointers"][0]
    table = pq.read_table(pointers / entry["path"])
    rows = table.to_pylist()
    change(rows)
    (pointers / entry["path"]).unlink()
    sink = pointers / "tampered.parquet"
    pq.write_table(type(table).from_pylist(rows, schema=table.schema), sink)
    data = sink.read_bytes()
    if consistent:
        sink.unlink()
        sha256 = hashlib.sha256(data).hexdigest()
        entry.update(path=shard_file_name("pointers", 0, len(manifest["files"]["pointers"]), sha256), bytes=len(data),
                     sha256=sha256, rows=len(rows))
        (pointers / entry["path"]).write_bytes(data)
        manifest_bytes = dumps_json(manifest)
        (pointers / "manifest.json").write_bytes(manifest_bytes)
        stats = json.loads((pointers / "stats.json").read_text())
        stats["manifest_sha256"] = hashlib.sha256(manifest_bytes).hexdigest()
        (pointers / "stats.json").write_bytes(dumps_json(stats))
    else:
        sink.rename(pointers / entry["path"])
    return manifest, rows[0]


def test_a_record_that_does_not_match_is_listed_and_fails_the_run(round_trip, served, tmp_path):
    work, _ = round_trip
    pointers = shutil.copytree(work / "pointers", tmp_path / "pointers")
    manifest, row = _tamper(pointers, lambda rows: rows[0].update(text_sha256="0" * 64), consistent=True)
    status = materialize_main([str(pointers), "--output", str(tmp_path / "out"), "--input-root", str(served),
                               "--quiet"])
    assert status == 4
    out = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert out["materialized"]["missing"] == 1
    assert out["documents"] == manifest["materializes"]["documents"] - 1
    missing = read_rows(tmp_path / "out", "missing")
    assert [(m["id"], m["reason"]) for m in missing] == [(row["id"], "digest_mismatch")]


@pytest.mark.parametrize("change", [lambda rows: rows.pop(0), lambda rows: rows.append(dict(rows[0])),
                                    lambda rows: rows[0].update(duplicate_count=rows[0]["duplicate_count"] + 1)])
def test_a_pointer_dataset_that_does_not_match_its_manifest_is_refused(round_trip, served, tmp_path, capsys, change):
    work, _ = round_trip
    pointers = shutil.copytree(work / "pointers", tmp_path / "pointers")
    _tamper(pointers, change, consistent=False)
    status = materialize_main([str(pointers), "--output", str(tmp_path / "out"), "--input-root", str(served)])
    assert status == 2 and not (tmp_path / "out").exists()
    assert "does not match its manifest: pointers/part-00000-of-" in capsys.readouterr().err


def test_a_pointer_to_a_file_the_lock_does_not_list_is_never_opened(round_trip, served, tmp_path):
    work, _ = round_trip
    pointers = shutil.copytree(work / "pointers", tmp_path / "pointers")
    _, row = _tamper(pointers, lambda rows: rows[0].update(warc_path="/etc/passwd"), consistent=True)
    status = materialize_main([str(pointers), "--output", str(tmp_path / "out"), "--input-root", str(served),
                               "--quiet"])
    assert status == 4
    missing = read_rows(tmp_path / "out", "missing")
    assert [(m["id"], m["reason"]) for m in missing] == [(row["id"], "unknown_file")]


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


def test_one_record_in_two_files_is_brought_back_from_each(sample_dir, tmp_path):
    # The same record (same WARC-Record-ID, so the same document id) in two files: each row keeps its own file.
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name in ("a.warc.gz", "b.warc.gz"):
        shutil.copy(sample_dir / "sample-00000.warc.gz", inputs / name)
    recipe = write_recipe(tmp_path / "r.yaml", [str(inputs / "*.warc.gz")], dedup={"exact": False})
    result = _round_trip(recipe, inputs, tmp_path)
    assert result["status"] == 0
    assert published_bytes(tmp_path / "materialized", PUBLISHED) == published_bytes(tmp_path / "direct", PUBLISHED)
    rows = read_rows(tmp_path / "materialized")
    assert {r["warc_path"] for r in rows} == {"a.warc.gz", "b.warc.gz"}
    assert len({r["id"] for r in rows}) * 2 == len(rows)


def test_no_credential_reaches_the_lock_the_manifest_or_the_card(served, tmp_path):
    with FaultyServer(served, FaultPlan(seed=1, kinds=(), faults_per_file=0)) as server:
        secret_url = server.url.replace("http://", "http://alice:S3CRETPW@")
        recipe = write_recipe(tmp_path / "r.yaml", ["unused.warc.gz"])
        run_build(["--config", str(recipe), "--input", f"{secret_url}/sample-00001.warc.gz", "--input-root",
                   secret_url, "--pointers", "--output", str(tmp_path / "pointers"), "--quiet"])
    written = {p.name: p.read_bytes() for p in (tmp_path / "pointers").rglob("*") if p.is_file()}
    assert {"manifest.json", "README.md", "warcforge.lock"} <= set(written)
    assert not [name for name, data in written.items() if b"S3CRETPW" in data]
