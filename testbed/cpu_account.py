"""CPU time of a set of process trees, as the kernel counts it: a cpuacct cgroup of their own.

A process moved in brings the processes it starts afterwards with it, and the group keeps the CPU
of those that have exited: a Flink job's SDK workers come and go, a JVM's threads are many, and
summing /proc snapshots would lose whatever ended between two looks. cgroup v1 with cpuacct
mounted (``cpuacct.usage``, nanoseconds) or cgroup v2 where this process may create a group
(``cpu.stat`` ``usage_usec``). ``CpuAccount.available()`` says whether either is usable here.
"""

import os
import uuid
from pathlib import Path

from testbed.memory_cap import own_cgroup

_V1 = Path("/sys/fs/cgroup/cpuacct")
_V2 = Path("/sys/fs/cgroup")


def _parent() -> tuple[Path, str] | None:
    if (_V1 / "cpuacct.usage").exists() and os.access(_V1, os.W_OK):
        return _V1, "v1"
    v2 = own_cgroup(None)
    own = _V2 / v2.lstrip("/") if v2 is not None else None
    if own is not None and (_V2 / "cgroup.controllers").exists():
        for parent in (own, own.parent):
            if (parent / "cgroup.procs").exists() and os.access(parent, os.W_OK):
                return parent, "v2"
    return None


class CpuAccount:
    """``with CpuAccount("name") as account: account.add(pid); ...; account.seconds()``."""

    def __init__(self, name: str) -> None:
        found = _parent()
        if found is None:
            raise OSError("no cgroup this process may create to count CPU (cgroup v1 cpuacct, or v2)")
        self.parent, self.version = found
        self.path = self.parent / f"warcforge-cpu-{name}-{uuid.uuid4().hex[:8]}"

    @staticmethod
    def available() -> bool:
        try:
            return _parent() is not None
        except OSError:
            return False

    def __enter__(self) -> "CpuAccount":
        self.path.mkdir()
        return self

    def add(self, pid: int) -> None:
        """Move a running process (all its threads) into the group; its CPU from now on is counted."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def seconds(self) -> float:
        if self.version == "v1":
            return int((self.path / "cpuacct.usage").read_text()) / 1e9
        stat = dict(line.split() for line in (self.path / "cpu.stat").read_text().splitlines())
        return int(stat["usage_usec"]) / 1e6

    def __exit__(self, *_: object) -> None:
        # The processes still in the group (a cluster that outlives the measurement) go back to the
        # parent group, unharmed: a cgroup can only be removed empty.
        for pid in (self.path / "cgroup.procs").read_text().split():
            try:
                (self.parent / "cgroup.procs").write_text(pid)
            except OSError:
                pass  # exited meanwhile
        self.path.rmdir()
