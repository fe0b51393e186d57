"""Check that a run of gzip members is complete.

fastwarc and warcio both stop silently at a gzip member that is cut off or followed by garbage,
so the reader walks the members of a file's last record itself to notice lost bytes.
"""

import zlib

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 16


def complete_members_end(data: bytes) -> tuple[int, str | None]:
    """Walk the gzip members in ``data``: the end of the last complete one, and what is wrong after it."""
    pos = 0
    view = memoryview(data)
    while pos < len(data):
        decoder = zlib.decompressobj(31)
        pending = view[pos:]
        try:
            while pending and not decoder.eof:
                decoder.decompress(pending, _CHUNK)  # output is not needed, only where the member ends
                pending = decoder.unconsumed_tail
        except zlib.error as exc:
            return pos, f"{len(data) - pos} bytes that are not a gzip member ({exc})"
        if not decoder.eof:
            return pos, f"a gzip member cut off before its end ({len(data) - pos} bytes)"
        pos = len(data) - len(decoder.unused_data)
    return pos, None
