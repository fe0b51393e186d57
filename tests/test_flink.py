"""The build on a real Flink session cluster on loopback, started and stopped as `make flink-up` /
`make flink-down` do, submitted by Beam's FlinkRunner through Beam's Flink job server; its output
must be byte-identical to the DirectRunner's."""

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
    env = {**os.environ, "FLINK_REST_PORT": str(port), "FLINK_RPC_PORT": str(free_port()), "PYTHON": sys.executable}
    started = subprocess.run([CLUSTER, "up"], env=env, capture_output=True, text=True, timeout=900)
    assert started.returncode == 0, started.stderr
    yield port, env
    stopped = subprocess.run([CLUSTER, "down"], env=env, capture_output=True, text=True, timeout=120)
    assert stopped.returncode == 0, stopped.stderr


def _get(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://localhost:{port}{path}", timeout=10) as response:
        return json.load(response)


def test_the_build_on_flink_is_byte_identical_to_the_direct_runner(flink_cluster, sample_dir, tmp_path):
    port, env = flink_cluster
    overview = _get(port, "/overview")
    assert overview["flink-version"] == "1.19.3" and overview["taskmanagers"] == 1 and overview["slots-total"] == 2
    fetched = subprocess.run([CLUSTER, "job-server-jar"], env=env, capture_output=True, text=True, timeout=600)
    assert fetched.returncode == 0, fetched.stderr
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")], dedup={"near": {"enabled": True}},
                          filters={"gopher_repetition": {"enabled": True}, "rejected_sample_rate": 0.5})
    direct = build(recipe, tmp_path / "direct")
    flink = build(recipe, tmp_path / "flink", "--runner=FlinkRunner", f"--flink_master=localhost:{port}",
                  "--flink_version=1.19", f"--flink_job_server_jar={fetched.stdout.strip()}",
                  "--environment_type=LOOPBACK", "--parallelism=2")
    assert published_bytes(tmp_path / "flink") == published_bytes(tmp_path / "direct")
    assert flink["counts"] == direct["counts"] and flink["documents"] > 0
    # It ran on the cluster: Flink lists the finished Beam job, spread over both slots.
    jobs = [j for j in _get(port, "/jobs/overview")["jobs"] if j["name"].startswith("BeamApp")]
    assert [j["state"] for j in jobs] == ["FINISHED"]
    vertices = _get(port, f"/jobs/{jobs[0]['jid']}")["vertices"]
    assert max(v["parallelism"] for v in vertices) == 2


def test_flink_with_sdk_workers_from_a_worker_pool_as_on_kubernetes(flink_cluster, worker_pool, sample_dir, tmp_path):
    # deploy/flink runs the SDK harness in a worker-pool sidecar (EXTERNAL); here the pool runs
    # in another directory, sharing nothing with the driver but the pipeline.
    port, env = flink_cluster
    jar = subprocess.run([CLUSTER, "job-server-jar"], env=env, capture_output=True, text=True, timeout=600)
    assert jar.returncode == 0, jar.stderr
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")],
                          filters={"language": {"enabled": True, "keep": ["en"], "min_score": 0.3}})
    direct = build(recipe, tmp_path / "direct")
    flink = build(recipe, tmp_path / "flink", "--runner=FlinkRunner", f"--flink_master=localhost:{port}",
                  "--flink_version=1.19", f"--flink_job_server_jar={jar.stdout.strip()}",
                  "--environment_type=EXTERNAL", f"--environment_config={worker_pool}", "--parallelism=2")
    assert published_bytes(tmp_path / "flink") == published_bytes(tmp_path / "direct")
    assert flink["counts"] == direct["counts"]
