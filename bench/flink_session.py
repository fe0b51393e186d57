"""The loopback Flink session cluster for the benchmarks that run on Flink, and its REST API."""

import contextlib
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from testbed.local_services import free_port

REPO = Path(__file__).resolve().parent.parent
CLUSTER = str(REPO / "deploy" / "flink" / "local-cluster.sh")


@contextlib.contextmanager
def flink_cluster() -> Iterator[tuple[int, str]]:
    """A loopback session cluster on free ports (deploy/flink/local-cluster.sh): its REST port and
    Beam's job server jar."""
    env = {**os.environ, "FLINK_REST_PORT": str(free_port()), "FLINK_RPC_PORT": str(free_port()),
           "PYTHON": sys.executable}
    subprocess.run([CLUSTER, "up"], env=env, check=True, timeout=900)
    try:
        jar = subprocess.run([CLUSTER, "job-server-jar"], env=env, check=True, capture_output=True, text=True,
                             timeout=900).stdout.strip()
        yield int(env["FLINK_REST_PORT"]), jar
    finally:
        subprocess.run([CLUSTER, "down"], env=env, timeout=120)


def rest(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://localhost:{port}{path}", timeout=10) as response:
        return json.load(response)


def flink_options(port: int, jar: str, *extra: str) -> list[str]:
    return ["--runner=FlinkRunner", f"--flink_master=localhost:{port}", "--flink_version=1.19",
            f"--flink_job_server_jar={jar}", "--parallelism=2", *extra]
