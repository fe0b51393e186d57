"""A read-only file that survives a flaky server: retries with backoff, resumes where it broke off.

``ResumableFile`` hands the WARC reader a plain byte stream. When a request fails (503 Slow Down,
429, other 5xx, a timeout, a reset connection, a body that ends early) it waits, then reopens at
the exact byte it had reached, with an HTTP Range request, so no record is read twice or skipped.
A server that ignores ranges sends the file from the start; the bytes already delivered are read
and dropped. Non-HTTP URLs (s3://, gs://, file://) reopen through fsspec and seek.

Politeness is per worker process: at most ``max_requests_per_host`` open requests to one host,
and at least ``min_retry_interval_s`` between retries to one host (Common Crawl asks for one
second). A shard that fails ``max_attempts`` times in a row without progress raises
``ShardUnavailable``.
"""

import http.client
import random
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

import fsspec

from transforms.common.errors import ShardUnavailable
from transforms.reading.byte_stream import PositionedStream

USER_AGENT = "warcforge/0.1 (+https://github.com/warcforge/warcforge)"
_RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
_SKIP_CHUNK = 1 << 20


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    min_retry_interval_s: float = 1.0
    read_timeout_s: float = 60.0
    max_requests_per_host: int = 4


class TransientError(Exception):
    """A failure worth retrying; ``wait_s`` is what the server asked for (Retry-After), if anything."""

    def __init__(self, message: str, wait_s: float = 0.0) -> None:
        super().__init__(message)
        self.wait_s = wait_s


class HostGate:
    """Per-process limits per host: open requests, and spacing between retries."""

    _lock = threading.Lock()
    _slots: dict[str, threading.BoundedSemaphore] = {}
    _next_retry: dict[str, float] = {}

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


class _Body:
    """An open response positioned at some byte of the file."""

    def __init__(self, read: Callable[[int], bytes], close: Callable[[], None], size: int | None) -> None:
        self.read, self.close, self.size = read, close, size


def _open_http(url: str, position: int, timeout: float) -> _Body:
    parts = urllib.parse.urlsplit(url)
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(parts.netloc, timeout=timeout)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if position:
        headers["Range"] = f"bytes={position}-"
    try:
        connection.request("GET", target or "/", headers=headers)
        response = connection.getresponse()
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        raise TransientError(f"request failed: {type(exc).__name__}: {exc}") from exc
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
        raise ShardUnavailable(url, f"HTTP {status} {response.reason}", position)
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
        raise ShardUnavailable(url, "not found", position) from None
    except OSError as exc:
        raise TransientError(f"open failed: {exc}") from exc
    stream.seek(position)
    return _Body(stream.read, stream.close, getattr(stream, "size", None))


class ResumableFile(PositionedStream):
    def __init__(self, url: str, policy: RetryPolicy, size: int | None = None,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None) -> None:
        super().__init__()
        self.url, self.policy, self._size = url, policy, size
        self.host = urllib.parse.urlsplit(url).netloc or "local"
        self._opener = _open_http if url.startswith(("http://", "https://")) else _open_fsspec
        self._sleep, self._rng = sleep, rng or random.Random()
        self._body: _Body | None = None
        self._slot = HostGate.slot(self.host, policy.max_requests_per_host)
        self._holding_slot = False
        self.position = 0
        self.failures = 0  # in a row, without progress
        self.retries = 0  # over the whole file
        self.last_error = ""

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

    def readinto(self, buffer: memoryview) -> int:
        while True:
            if self._size is not None and self.position >= self._size:
                return 0
            try:
                self._ensure_body()
                data = self._body.read(len(buffer))
                if not data and (self._size is None or self.position < self._size):
                    if self._size is None:
                        return 0
                    raise TransientError(f"connection closed at byte {self.position} of {self._size}")
            except (TransientError, OSError, http.client.HTTPException) as exc:
                self._retry_after(exc)
                continue
            self.failures = 0
            return self.deliver(buffer, data)

    def _ensure_body(self) -> None:
        while self._body is None:
            if not self._holding_slot:
                self._slot.acquire()
                self._holding_slot = True
            try:
                body = self._opener(self.url, self.position, self.policy.read_timeout_s)
            except TransientError as exc:
                self._retry_after(exc)
                continue
            except ShardUnavailable:
                self._release_slot()
                raise
            self._body = body
            if self._size is None:
                self._size = body.size

    def _retry_after(self, exc: Exception) -> None:
        self._drop_body()
        self.failures += 1
        self.retries += 1
        self.last_error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, TransientError) else str(exc)
        if self.failures >= self.policy.max_attempts:
            raise ShardUnavailable(self.url, f"{self.failures} attempts failed; last: {self.last_error}",
                                   self.position) from exc
        backoff = min(self.policy.max_backoff_s, self.policy.initial_backoff_s * 2 ** (self.failures - 1))
        wait = max(backoff * self._rng.uniform(0.5, 1.0), getattr(exc, "wait_s", 0.0),
                   self.policy.min_retry_interval_s)
        go_at = HostGate.reserve_retry(self.host, time.monotonic() + wait, self.policy.min_retry_interval_s)
        self._sleep(max(0.0, go_at - time.monotonic()))

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

