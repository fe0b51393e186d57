"""Beam counters named ``<stage>/<reason>`` (see ``transforms.common.reasons``), created on first use.

The one piece of Beam the stages share, so it sits in ``stage.py`` like every stage's Beam code.
Each increment also goes to this process's progress tally when a driver on this machine watches
(``transforms.common.progress``): the DirectRunner reports Beam metrics only at the end.
Also here: ``settle_heap``, which a worker process's first heavy stage calls from its setup.
"""

import gc
import time

from apache_beam.metrics import Metrics

from transforms.common.progress import ProgressTally, process_tally


class StageCounters:
    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._counters: dict = {}
        self._tally: ProgressTally | None = process_tally()

    def inc(self, name: str, n: int = 1) -> None:
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = Metrics.counter(self.stage, name)
        counter.inc(n)
        if self._tally is not None:
            self._tally.add(f"{self.stage}/{name}", n)

    def flush(self) -> None:
        """Write the tally out now (a DoFn's teardown): the last half second is not lost to the display."""
        if self._tally is not None:
            self._tally.flush()


class StageClock:
    """Time a DoFn spends on its own work, not in the stages it yields to (they run fused in the same
    call): ``with clock:`` around the work, counted as ``progress/<stage>_usec``."""

    def __init__(self, progress: StageCounters, stage: str) -> None:
        self.progress, self.name = progress, f"{stage}_usec"

    def __enter__(self) -> "StageClock":
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.inc(self.name, int((time.perf_counter() - self.started) * 1e6))


_heap_settled = False


def settle_heap() -> None:
    """Once per process, from a stage's setup: what the process holds by then (Python, Beam, the stages and
    their tables) is frozen out of the garbage collector's reach. Its full passes, which come every file
    or two while pages are extracted, then scan what the data makes, not the whole interpreter each time
    (a tenth of a CPU second a pass with Beam loaded). Objects are still freed when no longer referenced."""
    global _heap_settled
    if not _heap_settled:
        _heap_settled = True
        gc.freeze()
