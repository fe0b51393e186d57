"""The raw-stream shape every reader here hands to fastwarc: readable, seekable, its own position.

fastwarc asks a Python stream for its position (and panics without ``seek``), so each wrapper
keeps ``position`` and says which moves it can make; the rest is shared here.
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

    def deliver(self, buffer: memoryview, data: bytes) -> int:
        """Copy ``data`` into ``buffer`` for ``readinto`` and advance the position."""
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)
