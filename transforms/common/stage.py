"""The pieces of Beam the stages share, in ``stage.py`` like every stage's Beam code.

Beam counters named ``<stage>/<reason>`` (see ``transforms.common.reasons``), created on first use.
Each increment also goes to this process's progress tally when a driver on this machine watches
(``transforms.common.progress``): the DirectRunner reports Beam metrics only at the end.
Also here: ``settle_heap``, which a worker process's first heavy stage calls from its setup, and
``CombinePerKeyBounded``, a per-key combine whose pre-combine holds a bounded weight (below).
"""

import gc
import time
from collections.abc import Callable, Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.windowed_value import WindowedValue

from transforms.common.packed import pack, unpack
from transforms.common.progress import ProgressTally, process_tally
from transforms.common.stop_check import check_stop


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
        if exc[0] is None:  # never while an exception unwinds: that may be the interrupt itself, or a cleanup
            check_stop()  # a Ctrl-C whose raise was lost stops the stage here, not at its bundle's end


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


# CombinePerKeyBounded: a per-key combine whose pre-combine holds a bounded weight of accumulators.
#
# Beam's ``CombinePerKey`` is lifted by the runner into a pre-combine before the shuffle whose table
# keeps up to 100,000 keys per bundle (``PGBKCVOperation.max_keys``), whatever an accumulator weighs.
# Exact dedup's accumulator is a whole document and its keys are nearly all distinct, and Flink batch
# hands a worker its whole partition as one bundle: the table held every document a worker read, up
# to 100,000 (docs/SHARD-MEMORY.md). Here the pre-combine is a DoFn of our own whose table is bounded
# by ``weigh``: past ``budget``, the least recently used keys are sent on, so a hot key (a page copied
# a million times) stays in the table and still crosses the shuffle about once per bundle, as with
# Beam's lifting. After the ``GroupByKey`` the accumulators of a key are merged one at a time.
#
# Accumulators are merged in whatever order the runner delivers them: ``combine_fn`` must give the
# same result in any order (the survivor rules are total orders), so the output stays deterministic.

DEFAULT_BUDGET = 32 * 1024 * 1024


class PartialCombineFn(beam.DoFn):
    """Pre-combines within a bundle; sends on the least recently used keys past ``budget``."""

    def __init__(self, combine_fn: beam.CombineFn, weigh: Callable[[object], int], budget: int) -> None:
        self.combine_fn, self.weigh, self.budget = combine_fn, weigh, budget

    def setup(self) -> None:
        self.combine_fn.setup()

    def start_bundle(self) -> None:
        self.table: dict[tuple, list] = {}  # (window, key) -> [accumulator, weight]; insertion order is recency
        self.weight = 0

    def process(self, element: tuple, window=beam.DoFn.WindowParam):  # noqa: ANN001, ANN201 - a DoFn generator
        key, value = element
        slot = (window, key)
        entry = self.table.pop(slot, None)  # popped and put back: the key moves to the recent end
        if entry is None:
            entry = [self.combine_fn.create_accumulator(), 0]
        accumulator = self.combine_fn.add_input(entry[0], value)
        weight = self.weigh(accumulator)
        self.weight += weight - entry[1]
        self.table[slot] = [accumulator, weight]
        if self.weight > self.budget:
            yield from self._send_oldest(self.budget * 3 // 4)

    def _send_oldest(self, down_to: int) -> Iterable[WindowedValue]:
        sent = []
        for slot, (accumulator, weight) in self.table.items():
            if self.weight <= down_to:
                break
            sent.append(slot)
            self.weight -= weight
            yield _windowed(slot, accumulator)
        for slot in sent:
            del self.table[slot]

    def finish_bundle(self) -> Iterable[WindowedValue]:
        for slot, (accumulator, _) in self.table.items():
            yield _windowed(slot, accumulator)
        self.table, self.weight = {}, 0

    def teardown(self) -> None:
        self.combine_fn.teardown()


def _windowed(slot: tuple, accumulator: object) -> WindowedValue:
    # At the end of its window, as Beam's own pre-combine emits it: never behind the input's watermark.
    # Packed: a document accumulator crosses the shuffle as a third of its text's size (transforms/common/packed.py).
    window, key = slot
    return WindowedValue((key, pack(accumulator)), window.max_timestamp(), (window,))


class MergeAccumulatorsFn(beam.DoFn):
    """Merges a key's accumulators as they are iterated (never all at once) and extracts the output."""

    def __init__(self, combine_fn: beam.CombineFn) -> None:
        self.combine_fn = combine_fn

    def setup(self) -> None:
        self.combine_fn.setup()

    def process(self, grouped: tuple):  # noqa: ANN201 - a DoFn generator
        key, accumulators = grouped
        merged = None
        for packed in accumulators:
            accumulator = unpack(packed)
            merged = accumulator if merged is None else self.combine_fn.merge_accumulators([merged, accumulator])
        yield key, self.combine_fn.extract_output(merged)

    def teardown(self) -> None:
        self.combine_fn.teardown()


class CombinePerKeyBounded(beam.PTransform):
    """``CombinePerKey(combine_fn)`` with a pre-combine bounded by ``weigh(accumulator)`` summed to ``budget``."""

    def __init__(self, combine_fn: beam.CombineFn, weigh: Callable[[object], int],
                 budget: int = DEFAULT_BUDGET) -> None:
        super().__init__()
        self.combine_fn, self.weigh, self.budget = combine_fn, weigh, budget

    def expand(self, keyed: beam.PCollection) -> beam.PCollection:
        return (
            keyed
            | "PreCombineWithinBundle" >> beam.ParDo(PartialCombineFn(self.combine_fn, self.weigh, self.budget))
            .with_output_types(beam.typehints.KV[beam.typehints.Any, bytes])
            | "GroupAccumulatorsByKey" >> beam.GroupByKey()
            | "MergeAccumulators" >> beam.ParDo(MergeAccumulatorsFn(self.combine_fn))
        )
