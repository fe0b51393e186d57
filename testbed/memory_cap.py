"""A kernel-enforced memory cap for a process tree: a memory cgroup of its own.

This is the limit a container runtime puts on a Kubernetes pod or a Dataflow worker: when the
processes in the group together go over it, the kernel kills one of them (swap is capped too, so
they cannot page their way past it). Linux only, and only where this process may create a memory
cgroup: cgroup v1 with the memory controller mounted, or cgroup v2 where this process's cgroup or
its parent hands the memory controller to its children. ``MemoryCap.available()`` says which.
"""

import os
import signal
import time
import uuid
from pathlib import Path

_V1_ROOT = Path("/sys/fs/cgroup/memory")
_V2_ROOT = Path("/sys/fs/cgroup")


def own_cgroup(v1_controller: str | None) -> str | None:
    """This process's cgroup path for a v1 controller, or its v2 path when the controller is None."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if (v1_controller is None and controllers == "") or controllers.split(",") == [v1_controller]:
            return path
    return None


def _parent_dir() -> tuple[Path, str] | None:
    """Where to create the cap's cgroup, and the cgroup version there ('v1' or 'v2')."""
    v1 = own_cgroup("memory")
    if v1 is not None:
        parent = _V1_ROOT / v1.lstrip("/")
        if (parent / "memory.limit_in_bytes").exists() and os.access(parent, os.W_OK):
            return parent, "v1"
    v2 = own_cgroup(None)
    if v2 is not None:
        own = _V2_ROOT / v2.lstrip("/")
        # A v2 cgroup that holds processes cannot delegate controllers (except the root), so the
        # cap usually goes beside this process's cgroup, under a parent that delegates memory.
        for parent in (own, own.parent):
            delegated = parent / "cgroup.subtree_control"
            if delegated.exists() and "memory" in delegated.read_text().split() and os.access(parent, os.W_OK):
                return parent, "v2"
    return None


class MemoryCap:
    """``with MemoryCap(limit) as cap: cap.add(process.pid)``; its children are capped with it."""

    def __init__(self, limit_bytes: int) -> None:
        found = _parent_dir()
        if found is None:
            raise OSError("no memory cgroup this process may create (cgroup v1 memory, or v2 with memory delegated)")
        parent, self.version = found
        self.limit_bytes = limit_bytes
        self.path = parent / f"warcforge-cap-{uuid.uuid4().hex[:12]}"

    @staticmethod
    def available() -> bool:
        try:
            return _parent_dir() is not None
        except OSError:
            return False

    def __enter__(self) -> "MemoryCap":
        self.path.mkdir()
        try:
            if self.version == "v1":
                (self.path / "memory.limit_in_bytes").write_text(str(self.limit_bytes))
                with_swap = self.path / "memory.memsw.limit_in_bytes"  # absent without swap accounting
                if with_swap.exists():
                    with_swap.write_text(str(self.limit_bytes))
            else:
                (self.path / "memory.max").write_text(str(self.limit_bytes))
                (self.path / "memory.swap.max").write_text("0")
        except OSError:
            self.path.rmdir()
            raise
        return self

    def add(self, pid: int) -> None:
        """Move a running process into the cap; the processes it starts afterwards are in it too."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def peak_bytes(self) -> int | None:
        """The most memory the group's processes held together, as the kernel counted it (None on
        a cgroup v2 kernel older than 5.19, which does not keep a peak)."""
        peak = self.path / ("memory.max_usage_in_bytes" if self.version == "v1" else "memory.peak")
        return int(peak.read_text()) if peak.exists() else None

    def oom_kills(self) -> int:
        """How many processes the kernel killed for going over the cap."""
        name = "memory.oom_control" if self.version == "v1" else "memory.events"
        for line in (self.path / name).read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def _pids(self) -> list[int]:
        return [int(pid) for pid in (self.path / "cgroup.procs").read_text().split()]

    def __exit__(self, exc_type: type | None, *_: object) -> None:
        # Whatever is still in the group (an SDK worker orphaned by a failed job) is killed, since a
        # cgroup can only be removed empty; a failure here must not hide the error being raised.
        try:
            for _attempt in range(50):
                pids = self._pids()
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.1)
            self.path.rmdir()
        except OSError:
            if exc_type is None:
                raise
