"""The same recipe over the same inputs gives byte-identical output, whatever the worker count."""

import pytest

from tests.conftest import build, published_bytes, write_recipe


@pytest.fixture(scope="module")
def two_runs(sample_dir, tmp_path_factory):
    base = tmp_path_factory.mktemp("determinism")
    recipe = write_recipe(base / "r.yaml", [str(sample_dir / "*.warc.gz")], output={"num_shards": 3})
    build(recipe, base / "in-process")
    build(recipe, base / "two-workers", "--direct_num_workers", "2", "--direct_running_mode", "multi_processing")
    return published_bytes(base / "in-process"), published_bytes(base / "two-workers")


def test_in_process_and_two_worker_processes_publish_identical_files(two_runs):
    in_process, two_workers = two_runs
    assert sorted(in_process) == sorted(two_workers)
    assert {"manifest.json", "stats.json", "inputs.json"} <= set(in_process)
    parquet = sorted(name[:-len("-123456789abc.parquet")] for name in in_process if name.endswith(".parquet"))
    assert parquet == ["data/part-00000-of-00003", "data/part-00001-of-00003", "data/part-00002-of-00003",
                       "dead_letter/part-00000-of-00001"]
    for name in in_process:
        assert in_process[name] == two_workers[name], name


def test_a_rerun_is_identical(sample_dir, tmp_path, two_runs):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")], output={"num_shards": 3})
    build(recipe, tmp_path / "again")
    assert published_bytes(tmp_path / "again") == two_runs[0]
