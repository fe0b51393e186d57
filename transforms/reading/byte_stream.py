"""The raw-stream shape every reader here hands to fastwarc: readable, seekable, its own position.

fastwarc asks a Python stream for its position (and panics without ``seek``), so each wrapper
keeps ``position`` and says which moves it can make; the rest is shared here. A wrapper gives
its bytes through ``read_bytes``; ``read`` and ``readinto`` are both made from it.
"""

import io


class PositionedStream(io.RawIOBase):
    position: int = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self.position
        elif whence == io.SEEK_END:
            offset += self.end_position()
        if offset != self.position:
            self.move_to(offset)
        return self.position

    def end_position(self) -> int:
        raise io.UnsupportedOperation("this stream cannot seek from its end")

    def move_to(self, target: int) -> None:
        raise io.UnsupportedOperation("this stream only reads forward")

    def read_bytes(self, size: int) -> bytes:
        """Up to ``size`` bytes from ``position`` on (fewer is not the end; ``b""`` is), without moving it."""
        raise NotImplementedError

    def read(self, size: int = -1) -> bytes:
        # fastwarc reads a Python stream by read(65536). io.RawIOBase's read makes a zeroed bytearray of that
        # size, fills it through readinto and copies the result out again: a 64 KiB allocation and two copies
        # more than needed, some 20,000 times for a Common Crawl file of 134 MB. Here the bytes go as they are.
        if size is None or size < 0:
            return self.readall()
        data = self.read_bytes(size)
        self.position += len(data)
        return data

    def readinto(self, buffer: memoryview) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
