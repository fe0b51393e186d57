"""ResumableFile against a loopback server that fails on purpose."""

import threading
import time

import pytest

from testbed.faulty_server import FaultPlan, FaultyServer
from transforms.common.errors import ShardUnavailable
from transforms.reading.resumable_file import ResumableFile, RetryPolicy

FAST = RetryPolicy(max_attempts=8, initial_backoff_s=0.01, max_backoff_s=0.05, min_retry_interval_s=0.0,
                   read_timeout_s=0.5)


@pytest.fixture(scope="module")
def blob_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("blobs")
    for i in range(3):
        (directory / f"blob{i}.bin").write_bytes(bytes(range(256)) * 4096 * (i + 1))  # 1, 2, 3 MiB
    return directory


def read_all(url: str, policy: RetryPolicy = FAST, chunk: int = 65536) -> tuple[bytes, ResumableFile]:
    stream = ResumableFile(url, policy)
    parts = []
    while data := stream.read(chunk):
        parts.append(data)
    stream.close()
    return b"".join(parts), stream


@pytest.mark.parametrize("kind", ["503", "reset", "stall"])
def test_each_fault_is_survived_and_the_bytes_are_exact(blob_dir, kind):
    plan = FaultPlan(seed=11, kinds=(kind,), faults_per_file=3, stall_s=1.5)
    with FaultyServer(blob_dir, plan) as server:
        data, stream = read_all(f"{server.url}/blob1.bin")
    assert data == (blob_dir / "blob1.bin").read_bytes()
    assert stream.retries == 3
    if kind != "503":  # a broken body is resumed from the byte reached, not from the start
        assert any(start > 0 for _, start, _ in plan.log[1:])


def test_resume_asks_for_exactly_the_next_byte(blob_dir):
    plan = FaultPlan(seed=5, kinds=("reset",), faults_per_file=1)
    with FaultyServer(blob_dir, plan) as server:
        data, _ = read_all(f"{server.url}/blob2.bin")
    assert data == (blob_dir / "blob2.bin").read_bytes()
    (first, second) = plan.log
    assert first[2] == "reset" and second[2] == "ok"
    assert 0 < second[1] < len(data)  # the second request was a Range request from where the first broke


def test_a_server_that_refuses_ranges_is_restarted_and_skipped_forward(blob_dir):
    plan = FaultPlan(seed=3, kinds=("reset",), faults_per_file=2, refuse_ranges=True)
    with FaultyServer(blob_dir, plan) as server:
        data, stream = read_all(f"{server.url}/blob2.bin")
    assert data == (blob_dir / "blob2.bin").read_bytes()
    assert stream.retries == 2


def test_missing_file_fails_at_once(blob_dir):
    with FaultyServer(blob_dir, FaultPlan(seed=1, faults_per_file=0)) as server:
        stream = ResumableFile(f"{server.url}/nope.bin", FAST)
        with pytest.raises(ShardUnavailable) as caught:
            stream.read(10)
    assert caught.value.reason == "HTTP 404 Not Found" and stream.retries == 0


def test_attempts_are_bounded(blob_dir):
    plan = FaultPlan(seed=2, kinds=("503",), faults_per_file=100)
    with FaultyServer(blob_dir, plan) as server:
        with pytest.raises(ShardUnavailable) as caught:
            read_all(f"{server.url}/blob0.bin")
    assert caught.value.reason == "8 attempts failed; last: HTTP 503 Slow Down"
    assert len(plan.log) == 8


def test_retries_to_one_host_are_at_least_the_minimum_interval_apart(blob_dir):
    policy = RetryPolicy(max_attempts=5, initial_backoff_s=0.0, max_backoff_s=0.0, min_retry_interval_s=1.0)
    plan = FaultPlan(seed=4, kinds=("503",), faults_per_file=2)
    times = []
    with FaultyServer(blob_dir, plan) as server:
        original = plan.next_fault

        def timed(path):
            times.append(time.monotonic())
            return original(path)

        plan.next_fault = timed
        data, _ = read_all(f"{server.url}/blob0.bin", policy)
    assert data == (blob_dir / "blob0.bin").read_bytes()
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(gaps) == 2 and all(gap >= 0.99 for gap in gaps)


def test_open_requests_per_host_are_capped(blob_dir):
    policy = RetryPolicy(max_requests_per_host=1, read_timeout_s=5)
    plan = FaultPlan(seed=9, faults_per_file=0)
    results = {}
    with FaultyServer(blob_dir, plan) as server:
        # A host name the other tests do not use: the cap is per process and per host.
        url = server.url.replace("127.0.0.1", "localhost")

        def fetch(i: int) -> None:
            results[i] = read_all(f"{url}/blob{i}.bin", policy, chunk=4096)[0]

        threads = [threading.Thread(target=fetch, args=(i,)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert all(results[i] == (blob_dir / f"blob{i}.bin").read_bytes() for i in range(3))
    assert plan.max_active == 1


def test_local_and_fsspec_urls_read_the_same(blob_dir):
    data, _ = read_all(str(blob_dir / "blob0.bin"))
    assert data == (blob_dir / "blob0.bin").read_bytes()
    with pytest.raises(ShardUnavailable, match="not found"):
        ResumableFile(str(blob_dir / "missing.bin"), FAST).read(1)
