"""A shard's rows as sorted runs: small groups sorted apart, packed tight, and merged back in order.

A runner that builds a shard's rows as one group (Flink batch does: a group is one element) makes
the writer hold every document of the shard at once, decoded. Split by a hash of the row's key into
``runs_per_shard`` runs, each run is a small group: it is sorted, turned into rows and packed as a
zstd-compressed stream of pickled ``(sort key, row)`` pairs. The shard's writer then holds the packed
runs (a few kB a document) and merges them row by row, so the rows reach the Parquet writer in the
order one sort of the whole shard gives: the file's bytes do not depend on how many runs there are.
"""

import hashlib
import heapq
import io
import pickle
from collections.abc import Iterable, Iterator
from operator import itemgetter

import zstandard

# zstd's window bounds what each run's decompressor holds while the runs are merged: 128 KiB here,
# so a shard merged from 64 runs holds 8 MiB of windows, whatever the runs' sizes (about 16 MiB of
# memory with the readers' buffers and one row waiting in each run). Text loses little ratio to a
# smaller window. The packed form never reaches an output, so its bytes may change freely.
_WINDOW_LOG = 17
_LEVEL = 3
_READ_BUFFER = 64 * 1024


def run_of(key: str, runs_per_shard: int) -> int:
    """The run a row goes to within its shard: other bits of the hash ``shard_of`` takes its shard from,
    so the runs of one shard fill evenly."""
    if runs_per_shard < 1:
        raise ValueError(f"runs_per_shard must be at least 1, got {runs_per_shard}")
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[8:16], "big") % runs_per_shard


def pack_run(pairs: Iterable[tuple[tuple, dict]]) -> bytes:
    """``(sort key, row)`` pairs, already in order, as one compressed stream; each pair pickled on its
    own, so it can be read back one at a time."""
    params = zstandard.ZstdCompressionParameters.from_level(_LEVEL, window_log=_WINDOW_LOG)
    sink = io.BytesIO()
    with zstandard.ZstdCompressor(compression_params=params).stream_writer(sink, closefd=False) as packed:
        for pair in pairs:
            pickle.dump(pair, packed, protocol=pickle.HIGHEST_PROTOCOL)
    return sink.getvalue()


def unpack_run(packed: bytes) -> Iterator[tuple[tuple, dict]]:
    """The pairs of ``pack_run``, one at a time, in their order."""
    reader = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(packed), _READ_BUFFER)
    while reader.peek(1):
        yield pickle.load(reader)


def merge_runs(runs: Iterable[tuple[int, bytes]]) -> Iterator[dict]:
    """The rows of ``(run index, packed run)`` pairs in the order of their sort keys.

    Rows whose keys are equal come in the order of their runs (by index, then by packed bytes), then of
    their places in their runs, so the order does not depend on the order the runs are given in."""
    ordered = sorted(runs)
    for _, row in heapq.merge(*(unpack_run(packed) for _, packed in ordered), key=itemgetter(0)):
        yield row
