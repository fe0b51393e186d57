"""A kernel-enforced memory cap for a process tree: a memory cgroup below this process's own.

This is the limit a container runtime puts on a Kubernetes pod or a Dataflow worker: when the
processes in the group together go over it, the kernel kills one of them. Linux only, and only
where this process may create a cgroup (cgroup v1 with the memory controller mounted, or cgroup v2
with the memory controller enabled for children); ``MemoryCap.available()`` says which.
"""

import os
import time
import uuid
from pathlib import Path

_V1_ROOT = Path("/sys/fs/cgroup/memory")
_V2_ROOT = Path("/sys/fs/cgroup")


def _own_cgroup(controller: str) -> str | None:
    """This process's cgroup path for a v1 controller, or its v2 path when controller is ''."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers.split(",") == [controller] or (controller == "" and controllers == ""):
            return path
    return None


def _parent_dir() -> tuple[Path, str] | None:
    """The directory to create the cap's cgroup in, and the cgroup version there ('v1' or 'v2')."""
    v1 = _own_cgroup("memory")
    if v1 is not None and (_V1_ROOT / v1.lstrip("/") / "memory.limit_in_bytes").exists():
        return _V1_ROOT / v1.lstrip("/"), "v1"
    v2 = _own_cgroup("")
    if v2 is not None:
        parent = _V2_ROOT / v2.lstrip("/")
        delegated = parent / "cgroup.subtree_control"
        if delegated.exists() and "memory" in delegated.read_text().split():
            return parent, "v2"
    return None


class MemoryCap:
    """``with MemoryCap(limit) as cap: Popen(..., preexec_fn=cap.join)``; then ``cap.peak_bytes()``."""

    def __init__(self, limit_bytes: int) -> None:
        found = _parent_dir()
        if found is None:
            raise OSError("no writable memory cgroup here (needs cgroup v1 memory or v2 with memory delegated)")
        parent, self.version = found
        self.limit_bytes = limit_bytes
        self.path = parent / f"warcforge-cap-{uuid.uuid4().hex[:12]}"

    @staticmethod
    def available() -> bool:
        try:
            found = _parent_dir()
        except OSError:
            return False
        return found is not None and os.access(found[0], os.W_OK)

    def __enter__(self) -> "MemoryCap":
        self.path.mkdir()
        limit_file = "memory.limit_in_bytes" if self.version == "v1" else "memory.max"
        (self.path / limit_file).write_text(str(self.limit_bytes))
        if self.version == "v2":
            (self.path / "memory.swap.max").write_text("0")
        return self

    def join(self) -> None:
        """Move the calling process into the cap; a Popen preexec_fn, so the child joins before exec."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def peak_bytes(self) -> int:
        """The most memory the group's processes held together, as the kernel counted it."""
        name = "memory.max_usage_in_bytes" if self.version == "v1" else "memory.peak"
        return int((self.path / name).read_text())

    def oom_kills(self) -> int:
        """How many processes the kernel killed for going over the cap."""
        name = "memory.oom_control" if self.version == "v1" else "memory.events"
        for line in (self.path / name).read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def __exit__(self, *exc: object) -> None:
        # The group can only be removed once its processes have exited.
        for _ in range(100):
            if not (self.path / "cgroup.procs").read_text().strip():
                break
            time.sleep(0.1)
        self.path.rmdir()
