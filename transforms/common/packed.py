"""A value as compact bytes for a shuffle: pickled, then zstd-compressed where the bytes leave the process.

What crosses a shuffle is held in memory where it waits: by a cluster runner's buffers on the way,
and over its network and disks. Pickled and compressed, a document of web text takes about a third
of its UTF-8 size there, and as a ``bytes`` value it is neither decoded nor encoded again by the runner.

warcforge's local runner (``beam_jobs.forked_workers.LocalRunner``) keeps its shuffles in its own
process, its buffers bounded by spilling to local disk (``beam_jobs.local_shuffle``): with its workers
in that process too (one, or ``in_memory`` threads), outputs are handed over in memory, and the
compression bought little memory and cost most of what a document's trip through a shuffle costs
(zstd packs and unpacks a 6.5 kB text in about 55 µs, pickling alone in about 5 µs; two shuffles per
document). So such a run packs without it (``in_process_packing``); workers in processes of their own
send their outputs over gRPC, where the larger bytes cost more than zstd does, and compress. ``unpack`` reads
either form, and ``pickled`` gives the same bytes for both, for anything that must not depend on
which one crossed (the writer's order of rows with equal sort keys). The compressors are per thread:
an SDK worker runs bundles on several.
"""

import contextlib
import pickle
import threading
from collections.abc import Iterator

import zstandard

LEVEL = 1  # the fastest: the text is compressed again, harder, in the Parquet files
ZSTD_FRAME = b"\x28\xb5\x2f\xfd"  # every packed value that is compressed starts so; a pickle starts with 0x80
_local = threading.local()
_compress = True


def pack(value: object) -> bytes:
    pickled_value = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    if not _compress:
        return pickled_value
    compressor = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstandard.ZstdCompressor(level=LEVEL)
    return compressor.compress(pickled_value)


def pickled(packed: bytes) -> bytes:
    """The pickle inside ``packed``, whichever way it was packed."""
    if not packed.startswith(ZSTD_FRAME):
        return packed
    decompressor = getattr(_local, "decompressor", None)
    if decompressor is None:
        decompressor = _local.decompressor = zstandard.ZstdDecompressor()
    return decompressor.decompress(packed)


def unpack(packed: bytes) -> object:
    return pickle.loads(pickled(packed))


@contextlib.contextmanager
def in_process_packing() -> Iterator[None]:
    """Within: this process (and what it forks) packs without compressing, for a runner whose shuffles
    stay on the machine. Values packed either way are read alike."""
    global _compress
    was, _compress = _compress, False
    try:
        yield
    finally:
        _compress = was
