"""A lease on an output directory: one build writes there at a time, and a dead build's lease expires.

Leases are numbered files, ``<output>/.warcforge-lease-000001.json``, ``...-000002.json``; the
newest number is the lease in force. A build takes the lease by creating the next number with
an exclusive create (``atomic_files.create_exclusive``: a link on local disk, a conditional PUT
on S3 and GCS), so of two builds racing for it exactly one wins, without any read-modify-write.
The file names its holder (run id, host, pid, start) and when it was last renewed.

A lease in force is stale, and may be superseded by the next number, when its holder ran on this
host and that process is gone (known at once), or when it was not renewed for its ``ttl_s``
(a holder elsewhere; the holder renews it while it runs). A holder that stalled past its TTL
finds a newer number when it checks before publishing, and publishes nothing.
"""

import json
import os
import posixpath
import re
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import fsspec

from transforms.common.atomic_files import create_exclusive, read_bytes, remove_file, replace_atomically
from transforms.common.errors import LeaseLostError, OutputBusyError
from transforms.common.fs_urls import protocols

LEASE_PREFIX = ".warcforge-lease-"
_LEASE_NAME = re.compile(r"^\.warcforge-lease-(\d{6,})\.json$")
DEFAULT_TTL_S = 600.0
_UNREADABLE_GRACE_S = 30.0  # a lease file that does not parse yet may be one being written
_SETTLE_S = 1.0


@dataclass(frozen=True)
class Holder:
    """Who holds a lease: enough to name it in an error and to tell whether it is still alive."""

    run_id: str
    command: str
    host: str
    boot_id: str | None
    pid: int
    pid_started: str | None
    started_at: float
    renewed_at: float
    ttl_s: float
    pid_namespace: str | None = None  # containers on one machine share its hostname and boot id, not their pids

    @classmethod
    def of_this_process(cls, command: str, ttl_s: float = DEFAULT_TTL_S, run_id: str | None = None) -> "Holder":
        now = time.time()
        pid = os.getpid()
        return cls(run_id or uuid.uuid4().hex, command, socket.gethostname(), _boot_id(), pid, _process_start(pid),
                   now, now, ttl_s, _pid_namespace())

    def describe(self) -> str:
        started = datetime.fromtimestamp(self.started_at, tz=timezone.utc).isoformat(timespec="seconds")
        return f"{self.command} (run {self.run_id[:12]}, pid {self.pid} on {self.host}, started {started})"

    def is_stale(self, now: float) -> bool:
        if self.sees_same_processes():
            return not _process_alive(self.pid, self.pid_started)
        return now - self.renewed_at > self.ttl_s

    def sees_same_processes(self) -> bool:
        """Whether this process can tell by its pid if the holder is alive: the same machine, boot and
        pid namespace, all known (otherwise only the TTL says)."""
        here = (socket.gethostname(), _boot_id(), _pid_namespace())
        return None not in here and (self.host, self.boot_id, self.pid_namespace) == here


def lease_number(name: str) -> int | None:
    match = _LEASE_NAME.match(posixpath.basename(name.rstrip("/")))
    return int(match.group(1)) if match else None


def lease_name(number: int) -> str:
    return f"{LEASE_PREFIX}{number:06d}.json"


class Lease:
    """The lease this build holds on ``directory``."""

    def __init__(self, fs: fsspec.AbstractFileSystem, directory: str, number: int, holder: Holder) -> None:
        self.fs, self.directory, self.number, self.holder = fs, directory, number, holder

    @property
    def path(self) -> str:
        return posixpath.join(self.directory, lease_name(self.number))

    @classmethod
    def acquire(cls, fs: fsspec.AbstractFileSystem, directory: str, holder: Holder, where: str) -> "Lease":
        """Take the lease or raise ``OutputBusyError`` naming the build that holds it."""
        for _ in range(10):
            newest = _newest_lease(fs, directory)
            number = 1
            if newest is not None:
                number = newest[0] + 1
                if _in_force(fs, newest[1], newest[2]):
                    held = newest[1]
                    who = held.describe() if held else "a build whose lease file is still being written"
                    raise OutputBusyError(f"output {where} is being written by {who}; wait for it to end, or "
                                          "choose another --output")
            path = posixpath.join(directory, lease_name(number))
            try:
                create_exclusive(fs, path, _encode(holder))
            except FileExistsError:
                continue  # another build took this number first: look again
            # Read back: a store that ignores the create's precondition (the GCS emulator does)
            # lets a second writer replace the file; the one whose claim is not there backs off.
            # On GCS the read waits until writers that started together have all written.
            if protocols(fs) & {"gs", "gcs"}:
                time.sleep(_SETTLE_S)
            claimed = _decode(read_bytes(fs, path))
            if claimed is None or claimed.run_id != holder.run_id:
                who = claimed.describe() if claimed else "another build"
                raise OutputBusyError(f"output {where} is being written by {who}; wait for it to end, or "
                                      "choose another --output")
            lease = cls(fs, directory, number, holder)
            lease._remove_older()
            return lease
        raise OutputBusyError(f"output {where}: other builds keep taking its lease; try again")

    def renew(self) -> None:
        """Push the expiry forward; raises ``LeaseLostError`` if another build took the lease."""
        self.check()
        self.holder = Holder(**{**asdict(self.holder), "renewed_at": time.time()})
        replace_atomically(self.fs, self.path, _encode(self.holder))

    def check(self) -> None:
        """Raise ``LeaseLostError`` unless the lease in force is this build's: its number and its run."""
        newest = _newest_lease(self.fs, self.directory)
        # The run id, not only the number: after a takeover and a release, a third build may hold
        # this same number again.
        if newest is None or newest[0] != self.number or newest[1] is None or newest[1].run_id != self.holder.run_id:
            taker = newest[1].describe() if newest and newest[1] else "another build"
            raise LeaseLostError(f"this build's lease on its output expired and {taker} took it over; "
                                 "nothing was published")

    def release(self) -> None:
        held = _decode(read_bytes(self.fs, self.path))
        if held is not None and held.run_id == self.holder.run_id:  # never another build's lease
            remove_file(self.fs, self.path)

    def _remove_older(self) -> None:
        # Superseded leases are this tool's own files, named so; nothing else is touched.
        for name in _lease_files(self.fs, self.directory):
            number = lease_number(name)
            if number is not None and number < self.number:
                remove_file(self.fs, name)


class LeaseKeeper:
    """Renews a lease from a background thread while a build runs; ``check`` raises if it was lost."""

    def __init__(self, lease: Lease, interval_s: float | None = None) -> None:
        self.lease = lease
        self.interval_s = interval_s if interval_s is not None else max(1.0, lease.holder.ttl_s / 4)
        self._stop = threading.Event()
        self._lost: LeaseLostError | None = None
        self._renewed = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="warcforge-lease", daemon=True)

    def __enter__(self) -> "LeaseKeeper":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.lease.renew()
                self._renewed = time.monotonic()
            except LeaseLostError as exc:
                self._lost = exc
                return
            except Exception:  # noqa: BLE001 - any store error (gcsfs's are not OSErrors): retried next tick
                continue

    def check(self) -> None:
        if self._lost is not None:
            raise self._lost
        unrenewed = time.monotonic() - self._renewed
        if unrenewed > self.lease.holder.ttl_s / 2:
            raise LeaseLostError(f"this build could not renew its lease on the output for {unrenewed:.0f} s, and "
                                 "another build may take it over; nothing was published")
        self.lease.check()


def _lease_files(fs: fsspec.AbstractFileSystem, directory: str) -> list[str]:
    fs.invalidate_cache(directory)  # s3fs and gcsfs cache listings: another build's lease must show
    try:
        names = fs.ls(directory, detail=False)
    except FileNotFoundError:
        return []
    return [n for n in names if lease_number(n) is not None]


def _newest_lease(fs: fsspec.AbstractFileSystem, directory: str) -> tuple[int, Holder | None, str] | None:
    files = sorted(_lease_files(fs, directory), key=lease_number)
    if not files:
        return None
    path = files[-1]
    return lease_number(path), _decode(read_bytes(fs, path)), path


def _in_force(fs: fsspec.AbstractFileSystem, holder: Holder | None, path: str) -> bool:
    if holder is not None:
        return not holder.is_stale(time.time())
    try:  # unreadable: young, it may be a lease being written; old, it is debris
        info = fs.info(path)
    except FileNotFoundError:
        return False
    modified = info.get("mtime") or info.get("LastModified") or info.get("updated")
    if isinstance(modified, str):
        modified = datetime.fromisoformat(modified.replace("Z", "+00:00"))
    if isinstance(modified, datetime):
        modified = modified.timestamp()
    return modified is None or time.time() - float(modified) < _UNREADABLE_GRACE_S


def _encode(holder: Holder) -> bytes:
    return (json.dumps(asdict(holder), sort_keys=True, indent=2) + "\n").encode("utf-8")


def _decode(data: bytes | None) -> Holder | None:
    if not data:
        return None
    try:
        return Holder(**json.loads(data))
    except (ValueError, TypeError):
        return None


def _boot_id() -> str | None:
    try:
        with open("/proc/sys/kernel/random/boot_id") as stream:
            return stream.read().strip()
    except OSError:
        return None


def _process_start(pid: int) -> str | None:
    """The process's start time in clock ticks after boot (Linux), so a reused pid is not mistaken for it."""
    try:
        with open(f"/proc/{pid}/stat") as stream:
            stat = stream.read()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _process_alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: alive, but perhaps not the holder, which the start time says
    return started is None or _process_start(pid) in (started, None)


def _pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
