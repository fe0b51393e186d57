"""The local runner's shuffle buffers, which spill to disk instead of holding a whole stage's output.

Beam's FnApiRunner keeps every ``GroupByKey``'s input, and every collection passed between stages
it could not fuse, in its own process until the stage that reads it has run: a local build's memory
grew with its documents (about 16 MiB per 1,000 documents of real pages, docs/SHARD-MEMORY.md), so a
build over a few GiB of WARC files could not run on a laptop. The buffers here hold at most
``memory_bytes`` of encoded input each; past that they write what they hold to a file in the run's
scratch folder, a group buffer as a run sorted by encoded key, and read the files back, merged by
key, when the next stage reads them (``chunks``: pieces of about ``bundle_bytes`` that
``local_bundles`` hands to workers one bundle at a time).

A buffer that never spilled gives its groups in Beam's own order; one that spilled gives them in the
order of their encoded keys, each group's values in the order they arrived. No stage of warcforge
depends on either order (the same build gives the same files on Flink and on any number of local
workers). A spilled file is removed as soon as no buffer refers to it, and the scratch folder when
the process ends.
"""

import heapq
import itertools
import math
import os
import struct
import tempfile
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from apache_beam.coders.coder_impl import create_InputStream, create_OutputStream
from apache_beam.runners.portability.fn_api_runner import execution
from apache_beam.transforms.window import GlobalWindow, GlobalWindows
from apache_beam.utils import windowed_value

from transforms.common.errors import WarcforgeError

MEMORY_VARIABLE = "WARCFORGE_LOCAL_SHUFFLE_MB"
DEFAULT_MEMORY_MB = 32.0
_FILE_BUFFER = 1 << 20
_FRAME = struct.Struct(">IQ")  # a spilled record: its key's length, its element's length


class ShuffleSettingsError(WarcforgeError):
    """``WARCFORGE_LOCAL_SHUFFLE_MB`` is not a positive number."""


@dataclass(frozen=True)
class ShuffleSettings:
    memory_bytes: int  # encoded input a buffer holds before it spills
    bundle_bytes: int  # encoded input a bundle is given at most (a single larger group is one bundle)
    folder: str | None = None  # where spilled files go; None: the temp folder when they are made

    @classmethod
    def from_environment(cls) -> "ShuffleSettings":
        """``WARCFORGE_LOCAL_SHUFFLE_MB`` (32 by default): each buffer's share of memory, in MB."""
        raw = os.environ.get(MEMORY_VARIABLE, "")
        try:
            megabytes = float(raw) if raw.strip() else DEFAULT_MEMORY_MB
        except ValueError:
            megabytes = -1.0
        if not (megabytes > 0 and math.isfinite(megabytes)):
            raise ShuffleSettingsError(f"{MEMORY_VARIABLE}={raw!r}: expected a positive number of MB")
        memory = max(1, int(megabytes * 1_000_000))
        return cls(memory_bytes=memory, bundle_bytes=max(1, memory // 2))


class SpillFile:
    """One spilled run, written once, read any number of times, removed when nothing refers to it."""

    def __init__(self, folder: str | None) -> None:
        fd, self.path = tempfile.mkstemp(prefix="shuffle-", suffix=".run", dir=folder)
        self._finalizer = weakref.finalize(self, _remove, self.path)
        self._out = os.fdopen(fd, "wb", buffering=_FILE_BUFFER)

    @classmethod
    def written(cls, folder: str | None, records: Iterable[tuple[bytes, bytes]]) -> "SpillFile":
        """A file holding ``records`` (key, element), closed."""
        run = cls(folder)
        try:
            for key, element in records:
                run.write(key, element)
        finally:
            run.close()
        return run

    def write(self, key: bytes, element: bytes) -> None:
        self._out.write(_FRAME.pack(len(key), len(element)))
        self._out.write(key)
        self._out.write(element)

    def close(self) -> None:
        self._out.close()

    def records(self) -> Iterator[tuple[bytes, bytes]]:
        with open(self.path, "rb", buffering=_FILE_BUFFER) as source:
            while header := source.read(_FRAME.size):
                if len(header) != _FRAME.size:
                    raise OSError(f"spilled shuffle file {self.path} is cut short")
                key_length, element_length = _FRAME.unpack(header)
                key = source.read(key_length)
                element = source.read(element_length)
                if len(key) != key_length or len(element) != element_length:
                    raise OSError(f"spilled shuffle file {self.path} is cut short")
                yield key, element


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _global_window_pane() -> windowed_value.PaneInfo:
    return windowed_value.PaneInfo(is_first=True, is_last=True, timing=windowed_value.PaneInfoTiming.ON_TIME,
                                   index=0, nonspeculative_index=0)


class SpillingGroupingBuffer(execution.GroupingBuffer):
    """Beam's ``GroupingBuffer`` (a ``GroupByKey``'s input, grouped) that spills sorted runs to disk.

    Only a collection in the global window spills: a windowed one is grouped by Beam's own code."""

    def __init__(self, pre_grouped_coder: object, post_grouped_coder: object, windowing: object,
                 settings: ShuffleSettings) -> None:
        super().__init__(pre_grouped_coder, post_grouped_coder, windowing)
        self._settings = settings
        self._spillable = windowing.is_default()
        self._runs: list[SpillFile] = []
        self._weight = 0  # encoded bytes appended since the last spill
        self._spilled_keys = 0  # keys written to runs (a key may be in several)
        self._read = False
        if self._spillable:
            self._in_global_window = GlobalWindows.windowed_value(
                None, timestamp=GlobalWindow().max_timestamp(), pane_info=_global_window_pane()).with_value

    @property
    def spilled_runs(self) -> int:
        return len(self._runs)

    def append(self, elements_data: bytes) -> None:
        if self._read:
            raise RuntimeError("Grouping table append after read.")
        super().append(elements_data)
        if self._spillable:
            self._weight += len(elements_data)
            if self._weight > self._settings.memory_bytes:
                self._spill()

    def extend(self, input_buffer: object) -> None:
        """Another producer's output (a ``Flatten`` feeding the ``GroupByKey``): its values after ours."""
        if not (isinstance(input_buffer, SpillingGroupingBuffer) and (self._runs or input_buffer._runs)):
            super().extend(input_buffer)
            if isinstance(input_buffer, SpillingGroupingBuffer):
                self._weight += input_buffer._weight
                if self._spillable and self._weight > self._settings.memory_bytes:
                    self._spill()
            return
        # Runs are merged in the order of the list: ours first, then the other's, each table as its own run.
        if self._table:
            self._spill()
        self._runs.extend(input_buffer._runs)
        self._spilled_keys += input_buffer._spilled_keys
        if input_buffer._table:
            self._runs.append(self._written_run(input_buffer._table))
            self._spilled_keys += len(input_buffer._table)

    def _spill(self) -> None:
        self._runs.append(self._written_run(self._table))
        self._spilled_keys += len(self._table)
        self._table.clear()
        self._weight = 0

    def _written_run(self, table: dict) -> SpillFile:
        return SpillFile.written(self._settings.folder, ((key, self._encode(key, table[key])) for key in sorted(table)))

    def _encode(self, encoded_key: bytes, values: list) -> bytes:
        out = create_OutputStream()
        key = self._key_coder.get_impl().decode(encoded_key)
        self._post_grouped_coder.get_impl().encode_to_stream(self._in_global_window((key, values)), out, True)
        return out.get()

    def key_count(self) -> int:
        """How many keys it holds; a key spilled in several runs counts once for each."""
        return self._spilled_keys + len(self._table)

    def groups(self) -> Iterator[bytes]:
        """Each key's group, encoded as the grouped collection's elements."""
        self._read = True
        if self._grouped_output is None and not self._spillable:
            super().partition(max(1, len(self._table)))  # Beam's own grouping, a part per key
        if self._grouped_output is not None:  # grouped by Beam's own code
            yield from (piece for part in self._grouped_output for piece in part if piece)
            return
        if not self._runs:
            for key, values in list(self._table.items()):
                yield self._encode(key, values)
            return
        in_memory = ((key, self._encode(key, self._table[key])) for key in sorted(self._table))
        merged = heapq.merge(*(run.records() for run in self._runs), in_memory, key=lambda record: record[0])
        for key, records in itertools.groupby(merged, key=lambda record: record[0]):
            elements = [element for _, element in records]
            yield self._joined(key, elements) if len(elements) > 1 else elements[0]

    def _joined(self, encoded_key: bytes, elements: list[bytes]) -> bytes:
        """One group from a key's groups in several runs, its values in the runs' order."""
        coder = self._post_grouped_coder.get_impl()
        values: list = []
        for element in elements:
            values.extend(coder.decode_from_stream(create_InputStream(element), True).value[1])
        return self._encode(encoded_key, values)

    def chunks(self, max_bytes: int, max_keys: int | None) -> Iterator[bytes]:
        """The groups, a few together: at most ``max_keys`` groups, and past ``max_bytes`` only one."""
        return _chunked(self.groups(), max_bytes, max_keys)

    def partition(self, n: int) -> list[list[bytes]]:
        if not self._runs or not self._spillable:
            self._read = True
            return super().partition(n)
        if self._grouped_output is None:
            parts = [create_OutputStream() for _ in range(n)]
            for index, element in enumerate(self.groups()):
                parts[index % n].write(element)
            self._grouped_output = [[part.get()] for part in parts]
        return self._grouped_output


class SpillingListBuffer(execution.ListBuffer):
    """Beam's ``ListBuffer`` (a collection passed between stages as encoded pieces) that spills to disk."""

    def __init__(self, coder_impl: object, settings: ShuffleSettings) -> None:
        super().__init__(coder_impl)
        self._settings = settings
        self._spilled: list[SpillFile] = []
        self._weight = 0

    @property
    def spilled_runs(self) -> int:
        return len(self._spilled)

    def copy(self) -> "SpillingListBuffer":
        new = SpillingListBuffer(self._coder_impl, self._settings)
        new._spilled, new._inputs, new._weight = list(self._spilled), list(self._inputs), self._weight
        return new

    def append(self, element: bytes) -> None:
        super().append(element)
        self._weight += len(element)
        if self._weight > self._settings.memory_bytes:
            self._spill()

    def extend(self, extra: object) -> None:
        if isinstance(extra, SpillingListBuffer) and extra._spilled:
            if self._inputs:
                self._spill()
            self._spilled.extend(extra._spilled)
            extra = list(extra._inputs)
        for element in extra:
            self.append(element)

    @property
    def held_bytes(self) -> int:
        """Encoded bytes it holds in memory (all of it, if nothing was spilled)."""
        return self._weight

    def _spill(self) -> None:
        self._spilled.append(SpillFile.written(self._settings.folder, ((b"", piece) for piece in self._inputs)))
        self._inputs, self._weight = [], 0

    def pieces(self) -> Iterator[bytes]:
        if self.cleared:
            raise RuntimeError("Trying to iterate through a cleared ListBuffer.")
        for run in list(self._spilled):
            for _, piece in run.records():
                yield piece
        yield from list(self._inputs)

    def __iter__(self) -> Iterator[bytes]:
        return self.pieces()

    def chunks(self, max_bytes: int, max_keys: int | None) -> Iterator[bytes]:
        """Its pieces, joined up to about ``max_bytes`` (``max_keys`` means nothing here: a piece is
        many elements)."""
        return _chunked(self.pieces(), max_bytes, None)

    def partition(self, n: int) -> list[list[bytes]]:
        if not self._spilled:
            return super().partition(n)
        whole = execution.ListBuffer(self._coder_impl)
        whole._inputs = list(self.pieces())
        return whole.partition(n)

    def clear(self) -> None:
        super().clear()
        self._spilled, self._weight = [], 0


def _chunked(pieces: Iterable[bytes], max_bytes: int, max_count: int | None) -> Iterator[bytes]:
    held: list[bytes] = []
    size = 0
    for piece in pieces:
        if held and (size + len(piece) > max_bytes or (max_count is not None and len(held) >= max_count)):
            yield b"".join(held)
            held, size = [], 0
        held.append(piece)
        size += len(piece)
    if held:
        yield b"".join(held)
