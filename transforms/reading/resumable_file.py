"""A read-only file that survives a flaky server: retries with backoff, resumes where it broke off.

``ResumableFile`` hands the WARC reader a plain byte stream. When a request fails (503 Slow Down,
429, other 5xx, a timeout, a reset connection, a body that ends early) it waits, then reopens at
the exact byte it had reached, with an HTTP Range request, so no record is read twice or skipped.
A server that ignores ranges sends the file from the start; the bytes already delivered are read
and dropped. Non-HTTP URLs (s3://, gs://, file://) reopen through fsspec and seek.

Politeness is per worker process: at most ``max_requests_per_host`` open requests to one host,
and at least ``min_retry_interval_s`` between retries to one host (Common Crawl asks for one
second). A shard that fails ``max_attempts`` times in a row without progress raises
``ShardUnavailable``, its reason in words ("timed out after 60 s", "HTTP 503 Slow Down").

A host that cannot be reached at all (``HostUnreachable``: its name does not resolve, the
connection is refused, there is no route) is a wrong name, no network or a server that is down,
not a server under load, and minutes of backoff only delay the message. So while a host has not
yet answered this process, such a failure gets attempts only within ``unreachable_window_s`` of
the first (three attempts in about three seconds with the defaults) and the file then fails with
the cause: "cannot resolve host data.commoncrawl.org (name resolution failed)", "connection
refused by 127.0.0.1:9". Once the host has answered, the same failures are retried like a 503: a
resolver hiccup or a server restart must not end a ten-hour crawl build at its 40,000th file. A
timeout is always retried in full: a loaded server can be slow to accept a connection.

Retries are logged on ``warcforge.read``, one line each: the URL (without user, password or
query, which may carry a signature), the cause, the wait, and the attempt. A run of failures that
is over within ``quiet_retry_s`` stays quiet; one that lasts longer is never silent.
"""

import base64
import http.client
import logging
import random
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import fsspec

from transforms.common.errors import ShardUnavailable
from transforms.reading.byte_stream import PositionedStream
from transforms.reading.request_failures import (
    HostUnreachable,
    TransientError,
    describe_failure,
    display_url,
    endpoint_of,
    exception_chain,
    host_of,
)

USER_AGENT = "warcforge/0.1 (+https://github.com/warcforge/warcforge)"
_RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
_SKIP_CHUNK = 1 << 20
log = logging.getLogger("warcforge.read")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    min_retry_interval_s: float = 1.0
    read_timeout_s: float = 60.0
    max_requests_per_host: int = 4
    # Long enough for a resolver hiccup or a quick restart, short enough that a wrong name or no
    # network is reported while the user still watches the terminal.
    unreachable_window_s: float = 5.0
    # Quick recoveries are not news; a silence longer than this is.
    quiet_retry_s: float = 5.0


class HostGate:
    """Per-process state per host: open requests, spacing between retries, and whether it has answered."""

    _lock = threading.Lock()
    _slots: dict[str, threading.BoundedSemaphore] = {}
    _next_retry: dict[str, float] = {}
    _answered: set[str] = set()

    @classmethod
    def slot(cls, host: str, limit: int) -> threading.BoundedSemaphore:
        with cls._lock:
            if host not in cls._slots:
                cls._slots[host] = threading.BoundedSemaphore(limit)
            return cls._slots[host]

    @classmethod
    def reserve_retry(cls, host: str, earliest: float, interval: float) -> float:
        """The time this retry may go; later retries to the host queue behind it."""
        with cls._lock:
            at = max(earliest, cls._next_retry.get(host, 0.0))
            cls._next_retry[host] = at + interval
            return at

    @classmethod
    def mark_answered(cls, host: str) -> None:
        with cls._lock:
            cls._answered.add(host)

    @classmethod
    def has_answered(cls, host: str) -> bool:
        """Whether any response has come from the host in this process (a 503 counts: someone is there)."""
        with cls._lock:
            return host in cls._answered


class _Body:
    """An open response positioned at some byte of the file."""

    def __init__(self, read: Callable[[int], bytes], close: Callable[[], None], size: int | None) -> None:
        self.read, self.close, self.size = read, close, size


def _basic_auth(parts: urllib.parse.SplitResult) -> str:
    user = urllib.parse.unquote(parts.username or "")
    password = urllib.parse.unquote(parts.password or "")
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _open_http(url: str, position: int, timeout: float) -> _Body:
    parts = urllib.parse.urlsplit(url)
    endpoint = endpoint_of(url)
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(*endpoint, timeout=timeout)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if parts.username is not None:
        headers["Authorization"] = _basic_auth(parts)
    if position:
        headers["Range"] = f"bytes={position}-"
    try:
        connection.request("GET", target or "/", headers=headers)
        response = connection.getresponse()
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        raise describe_failure(exc, endpoint, timeout) from exc
    HostGate.mark_answered(host_of(url))
    status = response.status
    if status in _RETRYABLE_STATUS:
        retry_after = response.getheader("Retry-After", "")
        connection.close()
        raise TransientError(f"HTTP {status} {response.reason}",
                             float(retry_after) if retry_after.strip().isdigit() else 0.0)
    if status == 416 and position:
        connection.close()
        return _Body(lambda _n: b"", lambda: None, position)
    if status not in (200, 206):
        connection.close()
        raise ShardUnavailable(display_url(url), f"HTTP {status} {response.reason}", position)
    length = response.getheader("Content-Length")
    if status == 206:
        content_range = response.getheader("Content-Range", "")
        start, _, total = content_range.removeprefix("bytes ").partition("-")
        if not start.isdigit() or int(start) != position:
            connection.close()
            raise TransientError(f"server answered range {content_range!r} to a request from byte {position}")
        size = int(total.rpartition("/")[2]) if total.rpartition("/")[2].isdigit() else None
    else:
        size = int(length) if length and length.isdigit() else None
    body = _Body(response.read, connection.close, size)
    if status == 200 and position:
        _skip(body, position)  # the server ignored the range: drop what was already delivered
    return body


def _skip(body: _Body, count: int) -> None:
    while count:
        data = body.read(min(count, _SKIP_CHUNK))
        if not data:
            raise TransientError("connection closed while skipping to the resume point")
        count -= len(data)


def _open_fsspec(url: str, position: int, timeout: float) -> _Body:
    try:
        stream = fsspec.open(url, "rb").open()
    except FileNotFoundError:
        HostGate.mark_answered(host_of(url))
        raise ShardUnavailable(display_url(url), "not found", position) from None
    except Exception as exc:
        # s3fs and gcsfs raise their clients' errors (botocore's EndpointConnectionError is no
        # OSError) around the socket's; anything with no OSError inside is not the network's doing.
        if not any(isinstance(link, OSError) for link in exception_chain(exc)):
            raise
        raise describe_failure(exc, endpoint_of(url), None) from exc  # fsspec has its own timeouts
    HostGate.mark_answered(host_of(url))
    stream.seek(position)
    return _Body(stream.read, stream.close, getattr(stream, "size", None))


class ResumableFile(PositionedStream):
    def __init__(self, url: str, policy: RetryPolicy, size: int | None = None,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None) -> None:
        super().__init__()
        self.url, self.policy, self._size = url, policy, size
        self.host = host_of(url)
        self.shown_url = display_url(url)
        self._is_http = url.startswith(("http://", "https://"))
        self._opener = _open_http if self._is_http else _open_fsspec
        self._sleep, self._rng = sleep, rng or random.Random()
        self._body: _Body | None = None
        self._slot = HostGate.slot(self.host, policy.max_requests_per_host)
        self._holding_slot = False
        self.position = 0
        self.failures = 0  # in a row, without progress
        self.retries = 0  # over the whole file
        self.last_error = ""
        self._failing_since = 0.0  # when the first attempt of the current run of failures began

    @property
    def size(self) -> int | None:
        """The file's size; opens the file (with retries) when it is not known yet."""
        if self._size is None:
            self._ensure_body()
        return self._size

    @property
    def known_size(self) -> int | None:
        """The size if a response has told it, without asking the server."""
        return self._size

    def end_position(self) -> int:
        return self.size or 0

    def move_to(self, target: int) -> None:
        self._drop_body()
        self.position = target

    def read_bytes(self, size: int) -> bytes:
        while True:
            if self._size is not None and self.position >= self._size:
                return b""
            began = time.monotonic()
            try:
                self._ensure_body()
                data = self._body.read(size)
                if not data and (self._size is None or self.position < self._size):
                    if self._size is None:
                        return b""
                    raise TransientError(f"connection closed at byte {self.position} of {self._size}")
            except (TransientError, OSError, http.client.HTTPException) as exc:
                self._retry_after(exc, began)
                continue
            self.failures = 0
            return data

    def _ensure_body(self) -> None:
        while self._body is None:
            if not self._holding_slot:
                self._slot.acquire()
                self._holding_slot = True
            began = time.monotonic()
            try:
                body = self._opener(self.url, self.position, self.policy.read_timeout_s)
            except TransientError as exc:
                self._retry_after(exc, began)
                continue
            except ShardUnavailable:
                self._release_slot()
                raise
            self._body = body
            if self._size is None:
                self._size = body.size

    def _retry_after(self, exc: Exception, began: float) -> None:
        """Wait before the next attempt, or raise ShardUnavailable when there is to be none."""
        self._drop_body()
        failure = exc if isinstance(exc, TransientError) else self._describe(exc)
        if self.failures == 0:
            self._failing_since = began
        self.failures += 1
        self.retries += 1
        self.last_error = str(failure)
        backoff = min(self.policy.max_backoff_s, self.policy.initial_backoff_s * 2 ** (self.failures - 1))
        wait = max(backoff * self._rng.uniform(0.5, 1.0), failure.wait_s, self.policy.min_retry_interval_s)
        reason = self._reason_to_stop(failure, wait)
        if reason is not None:
            raise ShardUnavailable(self.shown_url, reason, self.position) from exc
        go_at = HostGate.reserve_retry(self.host, time.monotonic() + wait, self.policy.min_retry_interval_s)
        wait = max(0.0, go_at - time.monotonic())
        # Counting the wait ahead: a long wait is announced before it starts, not after.
        if self._failing_for() + wait >= self.policy.quiet_retry_s:
            log.info("retrying %s (%s) in %.1f s, attempt %d of %d", self.shown_url, failure, wait,
                     self.failures + 1, self.policy.max_attempts)
        self._sleep(wait)

    def _reason_to_stop(self, failure: TransientError, wait: float) -> str | None:
        """Why there is no next attempt, or None. An unreachable host that has never answered gets
        only the window's attempts (module docstring); every other failure gets max_attempts."""
        never_answered = not HostGate.has_answered(self.host)
        if (isinstance(failure, HostUnreachable) and never_answered
                and self._failing_for() + wait > self.policy.unreachable_window_s):
            attempts = "1 attempt" if self.failures == 1 else f"{self.failures} attempts"
            return f"{failure}; {attempts} in {self._failing_for():.1f} s"
        if self.failures >= self.policy.max_attempts:
            return f"{self.failures} attempts failed; last: {failure}"
        return None

    def _describe(self, exc: Exception) -> TransientError:
        # Our own sockets time out after read_timeout_s; fsspec's clients keep their own timeouts.
        return describe_failure(exc, endpoint_of(self.url), self.policy.read_timeout_s if self._is_http else None)

    def _failing_for(self) -> float:
        return time.monotonic() - self._failing_since

    def _drop_body(self) -> None:
        if self._body is not None:
            try:
                self._body.close()
            except OSError:
                pass
            self._body = None
        self._release_slot()

    def _release_slot(self) -> None:
        if self._holding_slot:
            self._slot.release()
            self._holding_slot = False

    def close(self) -> None:
        self._drop_body()
        super().close()

