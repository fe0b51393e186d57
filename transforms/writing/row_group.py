"""One row group's rows as an Arrow table, each string column built straight into Arrow's layout.

``pa.Table.from_pylist`` needs every row of the group alive at once: the group's text is held as
Python objects and again as Arrow's buffers until the table is made. Here each row is taken apart as
it comes: a string column's values are appended to one UTF-8 buffer and its offsets, the layout
Arrow uses, and the row is let go. A row group's text is then held about once before the Parquet
writer encodes it. The table has the same values as ``from_pylist`` gives, so the same file.
"""

import array
from collections.abc import Iterable

import numpy as np
import pyarrow as pa

# A string array's offsets are 32-bit: past this many bytes a column goes on in a second chunk,
# as Arrow's own conversion does.
MAX_CHUNK_BYTES = 2**31 - 1


class Utf8Column:
    """A string column's values as Arrow lays them out: one UTF-8 buffer, offsets, validity."""

    def __init__(self) -> None:
        self.chunks: list[pa.Array] = []
        self._start()

    def _start(self) -> None:
        self.data, self.offsets, self.valid, self.nulls = bytearray(), array.array("i", [0]), [], 0

    def append(self, value: str | bytes | None) -> None:
        if value is None:
            self.nulls += 1
            encoded = b""
        elif type(value) is str:
            # encode() keeps no UTF-8 copy inside the str (Arrow's own conversion would).
            encoded = value.encode("utf-8")
        elif isinstance(value, (bytes, bytearray)):
            encoded = value
        else:
            raise pa.ArrowTypeError(f"Expected bytes, got a '{type(value).__name__}' object")
        if len(self.data) + len(encoded) > MAX_CHUNK_BYTES:
            self._finish_chunk()
        self.data += encoded
        self.offsets.append(len(self.data))
        self.valid.append(value is not None)

    def _finish_chunk(self) -> None:
        length = len(self.valid)
        validity = None
        if self.nulls:
            validity = pa.py_buffer(np.packbits(np.array(self.valid, dtype=bool), bitorder="little").tobytes())
        self.chunks.append(pa.Array.from_buffers(
            pa.string(), length, [validity, pa.py_buffer(self.offsets), pa.py_buffer(self.data)],
            null_count=self.nulls))
        self._start()

    def finish(self) -> pa.Array | pa.ChunkedArray:
        self._finish_chunk()
        return self.chunks[0] if len(self.chunks) == 1 else pa.chunked_array(self.chunks, pa.string())


def row_group_table(rows: Iterable[dict], schema: pa.Schema) -> pa.Table:
    """The rows as a table of ``schema``: string columns built as above, the others by ``pa.array``
    (a row without a field has null there, as with ``from_pylist``)."""
    columns: dict[str, Utf8Column | list] = {
        field.name: Utf8Column() if field.type == pa.string() else [] for field in schema}
    for row in rows:
        for name, column in columns.items():
            column.append(row.get(name))
    arrays = [column.finish() if isinstance(column, Utf8Column) else pa.array(column, type=schema.field(name).type)
              for name, column in columns.items()]
    if any(isinstance(a, pa.ChunkedArray) for a in arrays):
        arrays = [a if isinstance(a, pa.ChunkedArray) else pa.chunked_array([a]) for a in arrays]
    return pa.Table.from_arrays(arrays, schema=schema)
