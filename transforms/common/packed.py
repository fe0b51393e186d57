"""A value as compact bytes for a shuffle: pickled, then zstd-compressed.

What crosses a shuffle is held in memory where it waits: by Beam's DirectRunner, which keeps a
``GroupByKey``'s whole input in its own process (decoded: a document's text as a Python string, about
twice its UTF-8 size), and by a cluster runner's buffers on the way. Pickled and compressed, a document
of web text takes about a third of its UTF-8 size there, and as a ``bytes`` value it is neither decoded
nor encoded again by the runner. The compressors are per thread: an SDK worker runs bundles on several.
"""

import pickle
import threading

import zstandard

LEVEL = 1  # the fastest: the text is compressed again, harder, in the Parquet files
_local = threading.local()


def pack(value: object) -> bytes:
    compressor = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstandard.ZstdCompressor(level=LEVEL)
    return compressor.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def unpack(packed: bytes) -> object:
    decompressor = getattr(_local, "decompressor", None)
    if decompressor is None:
        decompressor = _local.decompressor = zstandard.ZstdDecompressor()
    return pickle.loads(decompressor.decompress(packed))
