"""Hosts that cannot be reached fail within seconds and say why; retries that go on are shown.

The invariant: a name that does not resolve, or a port nobody listens on, never costs minutes of
silent retrying on first contact, and every message names the host in words, never a secret.
"""

import json
import logging
import socket
import subprocess
import time

import fsspec
import pytest

from beam_jobs import crawls
from testbed.faulty_server import FaultPlan, FaultyServer
from testbed.http_server import FileServer
from tests.conftest import WARCFORGE
from transforms.common.errors import MissingInputError, ShardUnavailable
from transforms.reading.common_crawl import fetch_bytes, list_crawls
from transforms.reading.request_failures import HostUnreachable, describe_failure, display_url
from transforms.reading.resumable_file import HostGate, ResumableFile, RetryPolicy

UNRESOLVABLE = "warcforge-test.invalid"  # .invalid never resolves (RFC 2606), online or not
FAST_FAILING = RetryPolicy(max_attempts=4, initial_backoff_s=0.01, max_backoff_s=0.02, min_retry_interval_s=0.0,
                           read_timeout_s=0.3)
COLLINFO = [{"id": "CC-MAIN-2099-01", "name": "January 2099 Index", "from": "2099-01-01T00:00:00",
             "to": "2099-01-14T00:00:00"},
            {"id": "CC-MAIN-2098-50", "name": "December 2098 Index", "from": "2098-12-01T00:00:00",
             "to": "2098-12-14T00:00:00"}]


@pytest.fixture()
def closed_port():
    """A loopback port bound but not listening, so connecting is refused; one no server here has answered on."""
    while True:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        if not HostGate.has_answered(f"127.0.0.1:{sock.getsockname()[1]}"):
            break
        sock.close()
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture(scope="module")
def blob_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("blobs")
    (directory / "blob.bin").write_bytes(bytes(range(256)) * 1024)
    (directory / "collinfo.json").write_text(json.dumps(COLLINFO))
    return directory


@pytest.fixture()
def read_log(caplog, monkeypatch):
    """The reader's log lines, also after a job in this process has routed warcforge's loggers to stderr alone."""
    monkeypatch.setattr(logging.getLogger("warcforge"), "propagate", True)
    caplog.set_level(logging.INFO, logger="warcforge")
    return caplog


def fails_within(seconds: float, call, error: type[Exception]) -> Exception:
    started = time.monotonic()
    with pytest.raises(error) as caught:
        call()
    assert time.monotonic() - started < seconds
    return caught.value


def test_an_unresolvable_host_fails_within_seconds_and_is_named():
    stream = ResumableFile(f"http://{UNRESOLVABLE}/x.warc.gz", RetryPolicy())
    failure = fails_within(10, lambda: stream.read(1), ShardUnavailable)
    assert failure.reason.startswith(f"cannot resolve host {UNRESOLVABLE} (name resolution failed)")


def test_an_unresolvable_index_fails_the_listing_in_words():
    failure = fails_within(10, lambda: list_crawls(f"https://{UNRESOLVABLE}/collinfo.json", RetryPolicy()),
                           MissingInputError)
    assert str(failure).startswith(f"cannot fetch https://{UNRESOLVABLE}/collinfo.json: cannot resolve host "
                                   f"{UNRESOLVABLE} (name resolution failed)")
    assert "gaierror" not in str(failure) and "Errno" not in str(failure)


def test_a_refused_connection_fails_within_seconds_and_is_named(closed_port):
    url = f"http://127.0.0.1:{closed_port}/collinfo.json"
    failure = fails_within(10, lambda: fetch_bytes(url, RetryPolicy()), MissingInputError)
    assert str(failure).startswith(f"cannot fetch {url}: connection refused by 127.0.0.1:{closed_port}")
    assert "Errno" not in str(failure)


def test_an_unresolvable_object_store_endpoint_is_named(monkeypatch):
    # One botocore attempt per open: what is under test is our classification, not botocore's retries.
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_ENDPOINT_URL": f"http://{UNRESOLVABLE}", "AWS_MAX_ATTEMPTS": "1"}.items():
        monkeypatch.setenv(name, value)
    fsspec.filesystem("s3").clear_instance_cache()
    stream = ResumableFile("s3://warcforge-bucket/x.warc.gz", RetryPolicy())
    failure = fails_within(15, lambda: stream.read(1), ShardUnavailable)
    fsspec.filesystem("s3").clear_instance_cache()
    assert failure.reason.startswith(f"cannot resolve host {UNRESOLVABLE} (name resolution failed)")


def test_a_host_that_answered_before_gets_the_full_retry_policy(blob_dir):
    with FileServer(blob_dir) as server:
        url = f"{server.url}/blob.bin"
        assert ResumableFile(url, FAST_FAILING).read() == (blob_dir / "blob.bin").read_bytes()
    # The server is gone: a restart, not a wrong name. Every attempt is spent before giving up.
    stream = ResumableFile(url, FAST_FAILING)
    with pytest.raises(ShardUnavailable) as caught:
        stream.read(1)
    port = url.split(":")[2].split("/")[0]
    assert caught.value.reason == f"4 attempts failed; last: connection refused by 127.0.0.1:{port}"


def test_a_stalled_read_says_it_timed_out(blob_dir):
    plan = FaultPlan(seed=1, kinds=("stall",), faults_per_file=100, stall_s=1.0)
    with FaultyServer(blob_dir, plan) as server:
        stream = ResumableFile(f"{server.url}/blob.bin", RetryPolicy(
            max_attempts=2, initial_backoff_s=0.01, max_backoff_s=0.01, min_retry_interval_s=0.0, read_timeout_s=0.3))
        with pytest.raises(ShardUnavailable) as caught:
            stream.read()
    assert caught.value.reason == "2 attempts failed; last: timed out after 0.3 s"


def test_each_retry_after_the_quiet_time_is_one_line_without_secrets(blob_dir, read_log):
    policy = RetryPolicy(max_attempts=5, initial_backoff_s=0.01, max_backoff_s=0.01, min_retry_interval_s=0.0,
                         quiet_retry_s=0.0)
    plan = FaultPlan(seed=3, kinds=("503",), faults_per_file=3)
    with FaultyServer(blob_dir, plan) as server:
        secret_url = server.url.replace("://", "://reader:hunter2@") + "/blob.bin?X-Amz-Signature=s3cr3t&x=1"
        data = ResumableFile(secret_url, policy).read()
    assert data == (blob_dir / "blob.bin").read_bytes()
    lines = [r.getMessage() for r in read_log.records if r.name.startswith("warcforge")]
    assert lines == [f"retrying {server.url}/blob.bin (HTTP 503 Slow Down) in 0.0 s, attempt {k} of 5"
                     for k in (2, 3, 4)]
    assert not any(secret in read_log.text for secret in ("hunter2", "reader", "s3cr3t", "Signature"))


def test_quick_retries_stay_quiet(blob_dir, read_log):
    plan = FaultPlan(seed=3, kinds=("503",), faults_per_file=2)
    with FaultyServer(blob_dir, plan) as server:
        ResumableFile(f"{server.url}/blob.bin", FAST_FAILING).read()
    assert not [r for r in read_log.records if r.name.startswith("warcforge")]


def test_crawls_command_offline_exits_2_at_once_with_one_line():
    started = time.monotonic()
    result = subprocess.run([WARCFORGE, "crawls", "--index-url", f"http://{UNRESOLVABLE}/collinfo.json"],
                            capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 15
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("warcforge: error: ") and f"cannot resolve host {UNRESOLVABLE}" in line


@pytest.mark.parametrize("limit", ["-1", "0", "two"])
def test_crawls_limit_must_be_a_positive_integer(limit, capsys):
    with pytest.raises(SystemExit) as caught:
        crawls.main(["--index-url", f"http://{UNRESOLVABLE}/collinfo.json", "--limit", limit])
    assert caught.value.code == 2
    message = capsys.readouterr().err.splitlines()[-1]
    assert "--limit" in message and "positive integer" in message


def test_crawls_limit_shows_the_newest_n(blob_dir, capsys):
    with FileServer(blob_dir) as server:
        assert crawls.main(["--index-url", f"{server.url}/collinfo.json", "--limit", "1"]) == 0
        assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["CC-MAIN-2099-01"]
        assert crawls.main(["--index-url", f"{server.url}/collinfo.json"]) == 0
        assert len(capsys.readouterr().out.splitlines()) == 2


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:pass@host.example/a/b.warc.gz?X-Amz-Signature=abc#frag", "https://host.example/a/b.warc.gz"),
    ("http://token@127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
    ("s3://bucket/key.warc.gz?versionId=7", "s3://bucket/key.warc.gz"),
    ("https://data.commoncrawl.org/crawl-data/x.warc.gz", "https://data.commoncrawl.org/crawl-data/x.warc.gz"),
    ("/data/odd?name.warc.gz", "/data/odd?name.warc.gz"),  # a local path has no query to drop
])
def test_urls_are_shown_without_credentials_or_query(url, shown):
    assert display_url(url) == shown


def wrapped(inner: BaseException) -> Exception:
    """``inner`` under a client library's own error, as botocore wraps aiohttp's."""
    try:
        try:
            raise inner
        except BaseException as exc:
            raise RuntimeError("Could not connect to the endpoint URL") from exc
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(("inner", "words", "unreachable"), [
    (socket.gaierror(-3, "Temporary failure in name resolution"), "cannot resolve host h.example (name resolution "
     "failed)", True),
    (ConnectionRefusedError(111, "Connection refused"), "connection refused by h.example:443", True),
    (OSError(101, "Network is unreachable"), "no route to h.example:443 (network unreachable)", True),
    (TimeoutError("timed out"), "timed out after 60 s", False),
    (ConnectionResetError(104, "Connection reset by peer"), "connection reset by h.example:443", False),
])
def test_failures_are_described_in_words_through_wrappers(inner, words, unreachable):
    for exc in (inner, wrapped(inner)):
        failure = describe_failure(exc, ("h.example", 443), 60.0)
        assert str(failure) == words
        assert isinstance(failure, HostUnreachable) is unreachable
