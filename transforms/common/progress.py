"""Live progress from worker processes to the driver on this machine, beside Beam's counters.

The DirectRunner reports Beam metrics only when the pipeline has finished, so a local build would
show nothing for hours. Every counter a stage increments (``StageCounters``) is also added to this
process's tally, which is written every half second to its own small JSON file in the folder the
driver names in ``WARCFORGE_PROGRESS_DIR``; the driver sums the files. Worker processes of the
multi-process DirectRunner and LOOPBACK workers inherit the variable; workers on a cluster do not
have it, and there the same figures are Beam counters the runner's UI shows. No Beam here.
"""

import json
import os
import threading
import time
import uuid

PROGRESS_DIR_VARIABLE = "WARCFORGE_PROGRESS_DIR"
FLUSH_EVERY_S = 0.5


class ProgressTally:
    """Cumulative counts of this process, flushed to ``directory`` at most every FLUSH_EVERY_S."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path = os.path.join(directory, f"{os.getpid()}-{uuid.uuid4().hex}.json")
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._flushed_at = 0.0

    def add(self, name: str, n: int) -> None:
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + n
            now = time.monotonic()
            if now - self._flushed_at < FLUSH_EVERY_S:
                return
            self._flushed_at = now
            snapshot = dict(self.counts)
        self._write(snapshot)

    def flush(self) -> None:
        with self._lock:
            snapshot = dict(self.counts)
        self._write(snapshot)

    def _write(self, snapshot: dict[str, int]) -> None:
        temporary = f"{self.path}.{threading.get_ident()}.tmp"
        try:
            with open(temporary, "w", encoding="utf-8") as stream:
                json.dump(snapshot, stream)
            os.replace(temporary, self.path)  # the driver never reads half a file
        except OSError:
            pass  # progress is a view, never a reason to fail a build (the folder may be gone at the end)


_tally: ProgressTally | None = None
_tally_for: str | None = None
_tally_lock = threading.Lock()


def process_tally() -> ProgressTally | None:
    """This process's tally, or None when no driver on this machine is watching."""
    global _tally, _tally_for
    directory = os.environ.get(PROGRESS_DIR_VARIABLE)
    if not directory:
        return None
    if _tally is None or _tally_for != directory:
        with _tally_lock:
            if _tally is None or _tally_for != directory:
                _tally, _tally_for = ProgressTally(directory), directory
    return _tally


def read_progress(directory: str) -> dict[str, int]:
    """The sum of every process's last flushed counts."""
    total: dict[str, int] = {}
    try:
        names = [name for name in os.listdir(directory) if name.endswith(".json")]
    except OSError:
        return total
    for name in names:
        try:
            with open(os.path.join(directory, name), encoding="utf-8") as stream:
                counts = json.load(stream)
        except (OSError, ValueError):
            continue
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    return total
