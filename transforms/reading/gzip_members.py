"""Decompressed views of an archive file that know where each record can be found again.

fastwarc and warcio both stop silently at a gzip member that is cut off or followed by garbage,
and neither reports where a record starts when members do not line up with records (whole-file
gzip). ``GzipMemberReader`` decompresses member by member (with ISA-L's inflate, close to
fastwarc's own speed), remembers where each member starts in the file and in the decompressed
stream, and records what went wrong instead of hiding it. Every view answers ``locate``: the file
byte range to read and how many decompressed bytes to skip to find a record again.

A reader asks ``locate`` about records in file order, so the gzip reader forgets the members
before the last record it was asked about: what it keeps is bounded by the largest record, not by
the number of records in the file (a Common Crawl file has about 100,000 members).
"""

import bisect
import io
from dataclasses import dataclass

import fastwarc  # noqa: F401 - the package before its submodules (see transforms/reading/record_views.py)
from fastwarc.stream_io import Lz4Reader, ZstdReader
from isal import isal_zlib

from transforms.reading.byte_stream import PositionedStream

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
LZ4_MAGIC = b"\x04\x22\x4d\x18"
_RAW_CHUNK = 1 << 20
# Compressed input goes to the decoder in pieces: past a member's end, zlib copies the rest of its piece out
# as unused data. A member's first piece is small, as Common Crawl's request and metadata records are whole
# in it (about 0.5 kB compressed, two records in three); a page's member gets larger ones after it.
_FIRST_FEED = 1 << 12
_FEED = 1 << 15


@dataclass(frozen=True)
class Location:
    offset: int  # where to start reading the file
    length: int  # how many file bytes to read
    inner_offset: int  # decompressed bytes to skip after decompressing from ``offset``


class DecompressedView(PositionedStream):
    """A forward-only decompressed stream; fastwarc only asks it for its position."""

    problem: str | None = None  # what made the view stop early (cut-off member, bytes that are not gzip)
    problem_offset: int = 0  # decompressed offset where the unreadable part starts
    problem_file_offset: int = 0  # file offset where the unreadable part starts

    def __init__(self, file_size: int) -> None:
        super().__init__()
        self.file_size = file_size
        self.position = 0

    def locate(self, start: int, end: int) -> Location:
        raise NotImplementedError


class PlainView(DecompressedView):
    def __init__(self, raw: io.RawIOBase, file_size: int) -> None:
        super().__init__(file_size)
        self.raw = raw

    def read_bytes(self, size: int) -> bytes:
        return self.raw.read(size)

    def locate(self, start: int, end: int) -> Location:
        return Location(start, end - start, 0)


class FrameView(DecompressedView):
    """zstd or lz4 through fastwarc's readers: the file can only be re-read from its start."""

    def __init__(self, reader: ZstdReader | Lz4Reader, file_size: int) -> None:
        super().__init__(file_size)
        self.reader = reader

    def read_bytes(self, size: int) -> bytes:
        return self.reader.read(size)

    def locate(self, start: int, end: int) -> Location:
        return Location(0, self.file_size, start)


class GzipMemberReader(DecompressedView):
    def __init__(self, raw: io.RawIOBase, file_size: int) -> None:
        super().__init__(file_size)
        self.raw = raw
        # Compressed input: _data[_index] is the byte at file offset _data_offset + _index.
        self._data, self._index, self._data_offset = b"", 0, 0
        self._decoder = None
        self._out, self._out_index = b"", 0
        self._produced = 0
        self._raw_done = False
        # Decompressed offset and file offset of each member from the last record located on.
        self.member_starts: list[int] = []
        self.member_offsets: list[int] = []
        self.end_offset = 0  # file offset after the last complete member

    def _has_input(self) -> bool:
        if self._index < len(self._data):
            return True
        if self._raw_done:
            return False
        self._data_offset += len(self._data)
        self._data, self._index = self.raw.read(_RAW_CHUNK), 0
        self._raw_done = not self._data
        return not self._raw_done

    def _decompress_more(self) -> bool:
        if self.problem is not None:
            return False
        feed = _FEED
        if self._decoder is None or self._decoder.eof:
            if self._decoder is not None:
                self.end_offset = self._data_offset + self._index
            if not self._has_input():
                return False
            if self._data[self._index: self._index + 2] != GZIP_MAGIC and len(self._data) - self._index >= 2:
                not_gzip = self.file_size - self._data_offset - self._index
                return self._stop(f"{not_gzip} bytes that are not a gzip member")
            self.member_starts.append(self._produced)
            self.member_offsets.append(self._data_offset + self._index)
            self._decoder = isal_zlib.decompressobj(31)
            feed = _FIRST_FEED
        if not self._has_input():
            cut = self.file_size - self.member_offsets[-1]
            return self._stop(f"a gzip member cut off before its end ({cut} bytes)")
        piece = memoryview(self._data)[self._index: self._index + feed]
        try:
            out = self._decoder.decompress(piece)
        except isal_zlib.error as exc:
            return self._stop(f"a gzip member that does not decompress ({exc})")
        unused = len(self._decoder.unused_data) if self._decoder.eof else 0
        self._index += len(piece) - unused
        self._out, self._out_index = out, 0
        self._produced += len(out)
        return True

    def _stop(self, problem: str) -> bool:
        mid_member = self._decoder is not None and not self._decoder.eof and self.member_starts
        self.problem = problem
        self.problem_offset = self.member_starts[-1] if mid_member else self._produced
        self.problem_file_offset = self.member_offsets[-1] if mid_member else self._data_offset + self._index
        return False

    def read_bytes(self, size: int) -> bytes:
        while self._out_index >= len(self._out):
            if not self._decompress_more():
                if self._decoder is not None and self._decoder.eof:
                    self.end_offset = self._data_offset + self._index
                return b""
        start, self._out_index = self._out_index, min(len(self._out), self._out_index + size)
        if start == 0 and self._out_index == len(self._out):
            return self._out  # a piece taken whole, as most are: no copy
        return self._out[start: self._out_index]

    def _member_at(self, position: int) -> int:
        return max(0, bisect.bisect_right(self.member_starts, position) - 1)

    def locate(self, start: int, end: int) -> Location:
        """Where the record at decompressed ``start`` to ``end`` lies in the file. Records are located
        in file order: members before ``start``'s are forgotten, and no later call may start before it."""
        if self.member_starts and start < self.member_starts[0]:
            raise ValueError(f"record at {start} located after one at {self.member_starts[0]} or later")
        first = self._member_at(start)
        if first:
            del self.member_starts[:first], self.member_offsets[:first]
            first = 0
        last = self._member_at(max(start, end - 1))
        if last + 1 < len(self.member_offsets):
            stop = self.member_offsets[last + 1]
        else:  # the final member: complete, or cut off and running to the end of the file
            stop = self.end_offset if self.end_offset > self.member_offsets[last] else self.file_size
        offset = self.member_offsets[first]
        return Location(offset, stop - offset, start - self.member_starts[first])


def open_view(raw: io.RawIOBase, head: bytes, file_size: int) -> DecompressedView:
    """The decompressed view that fits the file's first bytes."""
    if head.startswith(GZIP_MAGIC):
        return GzipMemberReader(raw, file_size)
    if head.startswith(ZSTD_MAGIC):
        return FrameView(ZstdReader(raw), file_size)
    if head.startswith(LZ4_MAGIC):
        return FrameView(Lz4Reader(raw), file_size)
    return PlainView(raw, file_size)
