"""A real Flink session cluster on loopback, started and stopped as `make flink-up` / `make flink-down` do."""

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from tests.conftest import REPO, build, free_port, published_bytes, write_recipe

CLUSTER = str(REPO / "deploy" / "flink" / "local-cluster.sh")


@pytest.fixture(scope="module")
def flink_cluster():
    port = free_port()
    env = {**os.environ, "FLINK_REST_PORT": str(port), "PYTHON": sys.executable}
    started = subprocess.run([CLUSTER, "up"], env=env, capture_output=True, text=True, timeout=900)
    assert started.returncode == 0, started.stderr
    yield port, env
    stopped = subprocess.run([CLUSTER, "down"], env=env, capture_output=True, text=True, timeout=120)
    assert stopped.returncode == 0, stopped.stderr


def _overview(port: int) -> dict:
    with urllib.request.urlopen(f"http://localhost:{port}/overview", timeout=10) as response:
        return json.load(response)


def test_the_local_cluster_runs_a_batch_job(flink_cluster):
    port, env = flink_cluster
    overview = _overview(port)
    assert overview["flink-version"] == "1.20.3" and overview["taskmanagers"] == 1 and overview["slots-total"] == 2
    result = subprocess.run([CLUSTER, "smoke"], env=env, capture_output=True, text=True, timeout=300)
    assert result.stdout.strip() == "500500", result.stderr  # 1 + 2 + ... + 1000, summed by a Flink job
    assert _overview(port)["jobs-finished"] >= 1


def test_the_build_on_flink_is_byte_identical_to_the_direct_runner(flink_cluster, sample_dir, tmp_path):
    port, env = flink_cluster
    fetched = subprocess.run([CLUSTER, "job-server-jar"], env=env, capture_output=True, text=True, timeout=600)
    if fetched.returncode == 3:  # Maven does not serve the jar: reported as blocked, see README
        pytest.skip("Beam's Flink job server cannot be had here: " + fetched.stderr.strip().splitlines()[-1])
    assert fetched.returncode == 0, fetched.stderr
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")], dedup={"near": {"enabled": True}})
    direct = build(recipe, tmp_path / "direct")
    flink = build(recipe, tmp_path / "flink", "--runner=FlinkRunner", f"--flink_master=localhost:{port}",
                  "--flink_version=1.20", f"--flink_job_server_jar={fetched.stdout.strip()}",
                  "--environment_type=LOOPBACK")
    assert published_bytes(tmp_path / "flink") == published_bytes(tmp_path / "direct")
    assert flink["counts"] == direct["counts"] and flink["documents"] > 0
