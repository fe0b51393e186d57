"""The build on Beam's portable runner, against Beam's Python job service started on loopback:
the cheap portability check before a real Flink cluster. Output must match the DirectRunner's.

With an EXTERNAL worker pool started in another directory, the workers are separate processes
that share nothing with the driver but the pickled pipeline, as on a cluster: a DoFn that relied
on the driver's working directory, a relative path or state set up in the driver fails there."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import build, free_port, published_bytes, write_recipe


def _serve(command: list[str], port: int, what: str, **popen: object) -> subprocess.Popen:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"{what} did not start within 60 s") from None
            time.sleep(0.2)


@pytest.fixture(scope="module")
def job_service():
    port = free_port()
    process = _serve([sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main",
                      f"--port={port}"], port, "Beam's job service")
    yield f"localhost:{port}"
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture()
def worker_pool(tmp_path_factory):
    """SDK workers in their own directory, started with this environment's python first on PATH."""
    port = free_port()
    elsewhere = tmp_path_factory.mktemp("worker-home")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    process = _serve([sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main",
                      f"--service_port={port}"], port, "Beam's worker pool", cwd=elsewhere, env=env)
    yield f"localhost:{port}"
    process.terminate()
    process.wait(timeout=30)


def test_portable_runner_output_is_byte_identical(job_service, sample_dir, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")], dedup={"near": {"enabled": True}},
                          filters={"gopher_repetition": {"enabled": True}, "rejected_sample_rate": 0.5})
    direct = build(recipe, tmp_path / "direct")
    portable = build(recipe, tmp_path / "portable", "--runner=PortableRunner", f"--job_endpoint={job_service}",
                     "--environment_type=LOOPBACK")
    assert published_bytes(tmp_path / "portable") == published_bytes(tmp_path / "direct")
    assert portable["counts"] == direct["counts"] and portable["documents"] > 0


def test_workers_in_another_directory_need_nothing_from_the_driver(job_service, worker_pool, sample_dir, tmp_path):
    # Relative recipe paths (the blocklists) and every stage's heavy state (language model,
    # extractor, hashers) must reach separate worker processes through the pipeline alone.
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")], dedup={"near": {"enabled": True}},
                          filters={"url": {"enabled": True, "domains": ["configs/blocklists/example-domains.txt"],
                                           "words": ["configs/blocklists/example-words.txt"]},
                                   "language": {"enabled": True, "keep": ["en"], "min_score": 0.3},
                                   "gopher_quality": {"enabled": True}, "rejected_sample_rate": 1.0})
    direct = build(recipe, tmp_path / "direct")
    external = build(recipe, tmp_path / "external", "--runner=PortableRunner", f"--job_endpoint={job_service}",
                     "--environment_type=EXTERNAL", f"--environment_config={worker_pool}")
    assert published_bytes(tmp_path / "external") == published_bytes(tmp_path / "direct")
    assert external["counts"] == direct["counts"]
    assert direct["counts"]["filter"]["in"] > direct["counts"]["filter"]["out"] > 0
