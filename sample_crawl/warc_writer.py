"""Write WARC/1.1 records the way Common Crawl does: one gzip member per record, digests set.

Deterministic: gzip headers carry no timestamp, and ids and dates come from the caller.
"""

import base64
import hashlib
import zlib


def sha1_digest(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def gzip_member(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: gzip framing, mtime 0
    return compressor.compress(data) + compressor.flush()


def warc_record(headers: list[tuple[str, str]], block: bytes, payload: bytes | None = None) -> bytes:
    """One uncompressed WARC record; ``payload`` (the HTTP body) gets a payload digest."""
    all_headers = [("WARC-Block-Digest", sha1_digest(block))]
    if payload is not None:
        all_headers.append(("WARC-Payload-Digest", sha1_digest(payload)))
    all_headers.append(("Content-Length", str(len(block))))
    head = "WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers + all_headers) + "\r\n"
    return head.encode("utf-8") + block + b"\r\n\r\n"


def http_response(status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("latin-1") + body


def http_request(url: str, user_agent: str) -> bytes:
    host = url.split("/")[2]
    path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\n"
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
        "Accept-Encoding: br,gzip\r\nConnection: Keep-Alive\r\n\r\n"
    ).encode("latin-1")
