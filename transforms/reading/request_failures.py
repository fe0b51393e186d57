"""A failed request, in words: which failures are worth retrying, and how messages name a URL.

Libraries report the same cause in many wrappings (aiohttp under s3fs and gcsfs, botocore,
fsspec, http.client); ``describe_failure`` looks through them for the cause a user can act on:
a name that does not resolve, a refused connection, no route, a timeout, a reset.
"""

import errno
import http.client
import socket
import urllib.parse

_NO_ROUTE = {errno.ENETUNREACH, errno.EHOSTUNREACH}


class TransientError(Exception):
    """A failure worth retrying; ``wait_s`` is what the server asked for (Retry-After), if anything."""

    def __init__(self, message: str, wait_s: float = 0.0) -> None:
        super().__init__(message)
        self.wait_s = wait_s


class HostUnreachable(TransientError):
    """No server was reached: the name does not resolve, the connection is refused, or there is no route."""


def display_url(url: str) -> str:
    """The URL as messages show it: without user and password, and without the query, which may
    carry a signature (S3 presigned URLs)."""
    if "://" not in url:
        return url
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def host_of(url: str) -> str:
    """The key for per-host limits: host and port as the URL names them, ``local`` for a path."""
    return urllib.parse.urlsplit(url).netloc.rpartition("@")[2] or "local"


def endpoint_of(url: str) -> tuple[str, int | None]:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname or "local", parts.port or {"http": 80, "https": 443}.get(parts.scheme)


def exception_chain(exc: BaseException) -> list[BaseException]:
    """The exception and those it wraps: aiohttp, botocore and fsspec each add a layer."""
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in chain:
        chain.append(link)
        link = link.__cause__ or link.__context__
    return chain


def describe_failure(exc: BaseException, endpoint: tuple[str, int | None], timeout_s: float | None) -> TransientError:
    """A failed request as a retryable error that says its cause in words, not as a repr."""
    chain = exception_chain(exc)
    # aiohttp (under s3fs and gcsfs) knows the address it dialled; an object store's URL names a bucket.
    dialled = next(((link.host, link.port) for link in chain
                    if isinstance(getattr(link, "host", None), str) and isinstance(getattr(link, "port", None), int)),
                   endpoint)
    host, port = dialled
    where = f"{host}:{port}" if port else host
    for link in chain:
        if isinstance(link, socket.gaierror):
            return HostUnreachable(f"cannot resolve host {host} (name resolution failed)")
        if isinstance(link, ConnectionRefusedError):
            return HostUnreachable(f"connection refused by {where}")
        if isinstance(link, OSError) and link.errno in _NO_ROUTE:
            return HostUnreachable(f"no route to {where} (network unreachable)")
        if isinstance(link, TimeoutError):
            return TransientError(f"timed out after {timeout_s:g} s" if timeout_s else "timed out")
        if isinstance(link, http.client.RemoteDisconnected):
            return TransientError(f"connection closed by {where} without a response")
        if isinstance(link, ConnectionResetError):
            return TransientError(f"connection reset by {where}")
    return TransientError(f"{type(exc).__name__}: {exc}")
