"""s3:// and gs:// inputs and outputs against real S3 and GCS servers started on loopback."""

import json
import os
import subprocess
import urllib.parse
import urllib.request

import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, WARCFORGE, build, gcs_upload, read_rows, write_recipe

SHARD = "sample-00002.warc.gz"


def test_s3_input_and_output(s3_server, sample_dir, tmp_path):
    s3_server.mkdir("crawl")
    s3_server.put(str(sample_dir / SHARD), f"crawl/crawl-data/{SHARD}")
    recipe = write_recipe(tmp_path / "r.yaml", ["s3://crawl/crawl-data/*.warc.gz"])
    manifest = build(recipe, "s3://crawl/datasets/v1")
    size = (sample_dir / SHARD).stat().st_size
    assert manifest["inputs"] == [{"warc_path": SHARD, "size": size}]
    assert manifest["input_root"] == "s3://crawl/crawl-data"
    published = sorted(p.split("/", 3)[3] for p in s3_server.find("crawl/datasets/v1"))
    listed = sorted(f["path"] for section in manifest["files"].values() for f in section)
    assert [p[:-len("-123456789abc.parquet")] for p in listed] == [
        "data/part-00000-of-00004", "data/part-00001-of-00004", "data/part-00002-of-00004", "data/part-00003-of-00004",
        "dead_letter/part-00000-of-00001"]
    assert published == sorted([*listed, *SIDE_FILES_WRITTEN])
    assert json.loads(s3_server.cat("crawl/datasets/v1/manifest.json")) == manifest
    local = tmp_path / "local"
    build(write_recipe(tmp_path / "l.yaml", [str(sample_dir / SHARD)]), local)
    from_s3 = []
    for entry in manifest["files"]["data"]:
        with s3_server.open(f"crawl/datasets/v1/{entry['path']}", "rb") as stream:
            from_s3 += pq.read_table(stream).to_pylist()
    assert [_content(r) for r in from_s3] == [_content(r) for r in read_rows(local)]
    assert {r["warc_path"] for r in from_s3} == {SHARD}  # relative to the input root, as a local build records it


SIDE_FILES_WRITTEN = ("README.md", "inputs.json", "manifest.json", "report.html", "run_info.json", "stats.json")


def _content(row: dict) -> tuple:
    """A row without the file URL, which names where the bytes were read from."""
    return tuple(value for key, value in row.items() if key != "warc_path")


def test_gs_input_through_gcsfs(gcs_emulator, sample_dir, tmp_path):
    gcs_upload(gcs_emulator, "crawl", f"crawl-data/{SHARD}", (sample_dir / SHARD).read_bytes())
    env = {**os.environ, "STORAGE_EMULATOR_HOST": gcs_emulator,
           # gcsfs's experimental bucket-type probe stalls against the emulator (FIELD-NOTES).
           "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}
    out = tmp_path / "out"
    result = subprocess.run([WARCFORGE, "build", "--config", "configs/sample.yaml", "--input",
                             "gs://crawl/crawl-data/*.warc.gz", "--output", str(out), "--quiet"],
                            capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["input_root"], [i["warc_path"] for i in manifest["inputs"]]) == ("gs://crawl/crawl-data", [SHARD])
    local = tmp_path / "local"
    build(write_recipe(tmp_path / "l.yaml", [str(sample_dir / SHARD)]), local)
    assert [_content(r) for r in read_rows(out)] == [_content(r) for r in read_rows(local)]


def test_a_recipe_is_read_from_a_bucket(s3_server, sample_dir, tmp_path):
    # Cluster launchers (a Dataflow flex template, a Kubernetes job) read the recipe from a bucket.
    from beam_jobs.recipe import load_recipe
    from transforms.common.errors import RecipeError

    s3_server.mkdir("recipes")
    s3_server.pipe("recipes/sample.yaml", (REPO / "configs" / "sample.yaml").read_bytes())
    from_bucket = load_recipe("s3://recipes/sample.yaml")
    assert from_bucket.model_dump() == load_recipe(REPO / "configs" / "sample.yaml").model_dump()
    # Its relative paths resolve beside it, in the bucket.
    assert from_bucket.resolved_input().paths == ["s3://recipes/build/sample/*.warc.gz"]  # '..' stops at the bucket
    with pytest.raises(RecipeError, match="recipe s3://recipes/missing.yaml: cannot be read"):
        load_recipe("s3://recipes/missing.yaml")


def test_gs_output_publishes_and_replaces_a_dataset(gcs_emulator, sample_dir, tmp_path):
    gcs_upload(gcs_emulator, "datasets", "README", b"datasets live here")
    env = {**os.environ, "STORAGE_EMULATOR_HOST": gcs_emulator, "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}
    manifests = []
    for shards in (3, 2):
        recipe = write_recipe(tmp_path / f"r{shards}.yaml", [str(sample_dir / SHARD)], output={"num_shards": shards})
        result = subprocess.run([WARCFORGE, "build", "--config", str(recipe), "--output", "gs://datasets/v1",
                                 "--overwrite", "--quiet"], capture_output=True, text=True, env=env, timeout=300)
        assert result.returncode == 0, result.stderr
        manifests.append(_gcs_json(gcs_emulator, "datasets", "v1/manifest.json"))
    listed = sorted(f["path"] for section in manifests[-1]["files"].values() for f in section)
    names = _gcs_names(gcs_emulator, "datasets", "v1/")
    assert names == sorted([*listed, *SIDE_FILES_WRITTEN])
    assert len(manifests[-1]["files"]["data"]) == 2


def _gcs_names(url: str, bucket: str, prefix: str) -> list[str]:
    with urllib.request.urlopen(f"{url}/storage/v1/b/{bucket}/o?prefix={prefix}", timeout=10) as response:
        return sorted(item["name"].removeprefix(prefix) for item in json.load(response).get("items", []))


def _gcs_json(url: str, bucket: str, name: str) -> dict:
    with urllib.request.urlopen(f"{url}/storage/v1/b/{bucket}/o/{urllib.parse.quote(name, safe='')}?alt=media",
                                timeout=10) as response:
        return json.load(response)
