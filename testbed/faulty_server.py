"""A loopback HTTP file server that misbehaves on a schedule fixed by a seed.

Each file's first ``faults_per_file`` requests get a fault drawn from ``kinds``: a 503 Slow Down,
a connection reset after a random number of body bytes, or a stall longer than the client's read
timeout after a random number of bytes. Later requests are served cleanly, so every read ends.
With ``refuse_ranges`` the server ignores Range headers and always sends the whole file. With
``in_order`` a file's faults are ``kinds`` in that order (one of each), not drawn. Every answer
carries an ETag (the MD5 of the file, as S3 gives for a single-part upload); HEAD is never faulted.
"""

import hashlib
import random
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from testbed.http_server import LoopbackServer


class FaultPlan:
    def __init__(self, seed: int, kinds: tuple[str, ...] = ("503", "reset", "stall"), faults_per_file: int = 3,
                 refuse_ranges: bool = False, stall_s: float = 2.0, fault_paths: str = "",
                 in_order: bool = False) -> None:
        self.seed, self.kinds, self.faults_per_file = seed, kinds, faults_per_file
        self.in_order = in_order
        if in_order:
            self.faults_per_file = len(kinds)
        self.refuse_ranges, self.stall_s, self.fault_paths = refuse_ranges, stall_s, fault_paths
        self._lock = threading.Lock()
        self._requests: dict[str, int] = {}
        self.log: list[tuple[str, int, str]] = []  # (path, first byte asked for, what happened)
        self.active = 0
        self.max_active = 0

    def next_fault(self, path: str) -> tuple[str | None, random.Random]:
        with self._lock:
            n = self._requests.get(path, 0)
            self._requests[path] = n + 1
        rng = random.Random(f"{self.seed}:{path}:{n}")
        if n >= self.faults_per_file or (self.fault_paths and self.fault_paths not in path):
            return None, rng
        return (self.kinds[n] if self.in_order else rng.choice(self.kinds)), rng

    def enter(self) -> None:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def leave(self) -> None:
        with self._lock:
            self.active -= 1


def _handler(root: Path, plan: FaultPlan) -> type:
    class FaultyHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            plan.enter()
            self._left = False
            try:
                self._serve()
            finally:
                self._leave()

        def _leave(self) -> None:
            """The request stops counting as open before its last byte (or its close) is sent: a client can
            only have finished with it after that, so a request it opens next cannot overlap this one in
            ``max_active`` because this thread had not been scheduled yet to count its end."""
            if not self._left:
                self._left = True
                plan.leave()

        def do_HEAD(self) -> None:  # noqa: N802 - the stdlib's name
            file = root / self.path.split("?", 1)[0].lstrip("/")
            if not file.is_file():
                self.send_error(404)
                return
            data = file.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("ETag", _etag(data))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()

        def _serve(self) -> None:
            path = self.path.split("?", 1)[0]
            file = root / path.lstrip("/")
            if not file.is_file():
                self._leave()
                self.send_error(404)
                return
            data = file.read_bytes()
            start = 0
            asked = self.headers.get("Range", "")
            if asked.startswith("bytes=") and not plan.refuse_ranges:
                start = int(asked[6:].split("-", 1)[0] or 0)
            fault, rng = plan.next_fault(path)
            plan.log.append((path, start if asked else 0, fault or "ok"))
            if fault == "503":
                self.send_response(503, "Slow Down")
                self.send_header("Retry-After", "0")
                self.send_header("Content-Length", "0")
                self._leave()
                self.end_headers()
                return
            body = data[start:]
            self.send_response(206 if start else 200)
            self.send_header("ETag", _etag(data))
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            if not plan.refuse_ranges:
                self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(body)))
            if fault is None:
                if not body:
                    self._leave()
                self.end_headers()
                self.wfile.write(body[:-1])
                self._leave()
                self.wfile.write(body[-1:])
                return
            self.end_headers()
            cut = rng.randrange(0, max(1, len(body)))
            self.wfile.write(body[:cut])
            self.wfile.flush()
            if fault == "stall":
                time.sleep(plan.stall_s)
            self._leave()
            # An abortive close: the client sees a reset (or a short body), not a clean end.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

    return FaultyHandler


def _etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'  # noqa: S324 - an ETag, as S3 computes it, not security


class FaultyServer(LoopbackServer):
    def __init__(self, root: Path, plan: FaultPlan) -> None:
        super().__init__(_handler(root, plan))
        self.plan = plan
