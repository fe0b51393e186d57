"""The build on Beam's portable runner, against Beam's Python job service started on loopback:
the cheap portability check before a real Flink cluster. Output must match the DirectRunner's."""

import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import build, free_port, published_bytes, write_recipe


@pytest.fixture(scope="module")
def job_service():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main", f"--port={port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("Beam's job service did not start within 60 s") from None
            time.sleep(0.2)
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
