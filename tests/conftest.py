"""Shared fixtures: the generated sample, ../shared's real files, and a helper to run the build job."""

import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import fsspec
import pyarrow.parquet as pq
import pytest
from moto.server import ThreadedMotoServer

from beam_jobs.build import run_build
from sample_crawl.corpus import write_sample
from testbed.local_services import free_port, serve  # noqa: F401 - tests import them from here

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("WARCFORGE_SHARED", REPO.parent / "shared"))
SHARED_WARC = SHARED / "data" / "warc"
SHARED_REAL_HTML = SHARED / "data" / "real-html"
# Where deploy/flink/local-cluster.sh and the tests keep what they download once (Flink, jars, venvs).
CACHE = Path(os.environ.get("WARCFORGE_CACHE", Path.home() / ".cache" / "warcforge"))
WARCFORGE = str(Path(sys.executable).with_name("warcforge"))


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sample")
    write_sample(directory)
    return directory


@pytest.fixture(scope="session")
def sample_index(sample_dir: Path) -> dict:
    return json.loads((sample_dir / "sample-index.json").read_text())


@pytest.fixture(scope="session")
def shared_warc() -> Path:
    if not SHARED_WARC.is_dir():
        pytest.skip(f"{SHARED_WARC} is not present (tests on real files need ../shared)")
    return SHARED_WARC


def write_recipe(path: Path, inputs: list[str], **sections: dict) -> Path:
    recipe = {"name": "test", "input": {"paths": inputs}, **sections}
    path.write_text(json.dumps(recipe))  # JSON is YAML
    return path


def build(recipe: Path, output: Path, *extra: str) -> dict:
    return run_build(["--config", str(recipe), "--output", str(output), *extra])


def published_bytes(out: Path, leave_out: tuple[str, ...] = ("run_info.json",)) -> dict[str, bytes]:
    """Every published file but ``leave_out`` (run_info.json holds the run's timestamps and options) and
    report.html, which shows them (a view of the run, not part of the dataset)."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name not in (*leave_out, "report.html")}


def read_rows(output: Path, subdir: str = "data") -> list[dict]:
    rows = []
    for path in sorted((output / subdir).glob("*.parquet")):
        rows.extend(pq.read_table(path).to_pylist())
    return rows


@pytest.fixture()
def s3_server(monkeypatch):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    # The standard AWS variables: s3fs (through botocore) picks them up on the driver and on workers.
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://{host}:{port}"}.items():
        monkeypatch.setenv(name, value)
    fsspec.filesystem("s3").clear_instance_cache()
    yield fsspec.filesystem("s3", skip_instance_cache=True)
    server.stop()


@pytest.fixture()
def gcs_emulator():
    port = free_port()
    emulator = Path(WARCFORGE).with_name("gcp-storage-emulator")
    proc = serve([str(emulator), "start", "-H", "127.0.0.1", "--port", str(port), "--in-memory"], port,
                 "the GCS emulator", timeout_s=30)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def gcs_upload(url: str, bucket: str, name: str, data: bytes) -> None:
    """Create the bucket if needed and put one object into the emulator."""
    create = urllib.request.Request(f"{url}/storage/v1/b?project=test", data=json.dumps({"name": bucket}).encode(),
                                    headers={"Content-Type": "application/json"}, method="POST")
    try:
        urllib.request.urlopen(create, timeout=10)
    except urllib.error.HTTPError as exc:
        if exc.code != 409:  # the bucket exists already
            raise
    upload = urllib.request.Request(f"{url}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={name}",
                                    data=data, headers={"Content-Type": "application/octet-stream"}, method="POST")
    urllib.request.urlopen(upload, timeout=10)


@pytest.fixture()
def worker_pool(tmp_path_factory):
    """SDK workers in their own directory, started with this environment's python first on PATH."""
    port = free_port()
    elsewhere = tmp_path_factory.mktemp("worker-home")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    process = serve([sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main",
                      f"--service_port={port}"], port, "Beam's worker pool", cwd=elsewhere, env=env)
    yield f"localhost:{port}"
    process.terminate()
    process.wait(timeout=30)


def alive(pid: int) -> bool:
    """Running, not a zombie (an orphan's end may wait for a reaper that never comes in a container)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def still_alive(pids: list[int], within_s: float, poll_s: float = 0.05) -> list[int]:
    """Those of ``pids`` still running after up to ``within_s`` (none, as soon as all have ended)."""
    deadline = time.monotonic() + within_s
    while (running := [pid for pid in pids if alive(pid)]) and time.monotonic() < deadline:
        time.sleep(poll_s)
    return running
