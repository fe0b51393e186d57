"""Fetch the records a pointer dataset names, one file at a time, in file order.

Each pointer gives a record's place (``warc_offset``, ``warc_length``, ``warc_inner_offset``). The
file is read through one ``ResumableFile``, so every request has a build's retries, Range resume
and spacing between retries to a host. A record near the last one is reached by reading on; a
far one by a new Range request, so a file is never read whole for a few of its records. The
record is decided by the same rules as a build's read, and must be the record the pointer names.
"""

import io
from collections.abc import Iterator
from dataclasses import replace

from transforms.common.errors import ShardUnavailable
from transforms.common.records import PageRecord, RecordPointer
from transforms.reading.classify_records import ReadRules, read_shard
from transforms.reading.record_fetch import record_bytes
from transforms.reading.resumable_file import ResumableFile

# Reading on through a gap this small is cheaper than a new request (one round trip, one more log line).
READ_ON_BYTES = 1 << 20
# Why a pointer brought no page back (materialize's counters and the missing/ rows).
FETCH_FAILED = "fetch_failed"
NOT_A_PAGE = "not_a_page"
OTHER_RECORD = "other_record"
BAD_POINTER = "bad_pointer"


def _read_exactly(stream: ResumableFile, count: int) -> bytes:
    chunks, left = [], count
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _go_to(stream: ResumableFile, offset: int) -> None:
    gap = offset - stream.position
    if 0 <= gap <= READ_ON_BYTES:
        _read_exactly(stream, gap)
    else:
        stream.move_to(offset)


def fetch_pointed(stream: ResumableFile, pointers: list[RecordPointer],
                  rules: ReadRules) -> Iterator[tuple[RecordPointer, PageRecord | None, str, str]]:
    """(pointer, page, reason, detail) for each pointer in file order; page is None with the reason
    when it could not be brought back. Once the file fails after its retries, the rest fail with it."""
    failed: str | None = None
    longest = 2 * rules.max_payload_bytes + (1 << 20)  # a record holds its payload, headers and compression overhead
    for pointer in sorted(pointers, key=lambda p: (p.warc_offset, p.id)):
        if not (0 <= pointer.warc_offset and 0 < pointer.warc_length <= longest and pointer.warc_inner_offset >= 0):
            # Never fetched: a negative offset or a gigabyte length would cost retries or memory for nothing.
            yield pointer, None, BAD_POINTER, (f"offset {pointer.warc_offset}, length {pointer.warc_length}, inner "
                                               f"offset {pointer.warc_inner_offset}: not a record's place")
            continue
        if failed is not None:
            yield pointer, None, FETCH_FAILED, failed
            continue
        try:
            _go_to(stream, pointer.warc_offset)
            block = _read_exactly(stream, pointer.warc_length)
        except ShardUnavailable as exc:
            failed = exc.reason
            yield pointer, None, FETCH_FAILED, failed
            continue
        if len(block) < pointer.warc_length:
            yield pointer, None, FETCH_FAILED, f"the file ends {pointer.warc_length - len(block)} bytes short"
            continue
        yield (pointer, *_decide(block, pointer, rules))


def _decide(block: bytes, pointer: RecordPointer, rules: ReadRules) -> tuple[PageRecord | None, str, str]:
    try:
        data = record_bytes(block, pointer.warc_inner_offset)
        decided = next(read_shard(io.BytesIO(data), pointer.warc_path, len(data), rules), None)
    except Exception as exc:  # noqa: BLE001 - bytes that are not the record are a reason, not a crash
        return None, NOT_A_PAGE, f"{type(exc).__name__}: {exc}"
    if not isinstance(decided, PageRecord):
        return None, NOT_A_PAGE, "no page at this place" if decided is None else decided.reason
    prov = decided.provenance
    if (prov.warc_record_id, prov.payload_digest) != (pointer.warc_record_id, pointer.warc_payload_digest):
        return None, OTHER_RECORD, f"found record {prov.warc_record_id}, the pointer names {pointer.warc_record_id}"
    # Parsed from the cut-out bytes, the record sits at 0: give it its place in the file back.
    place = replace(prov, warc_offset=pointer.warc_offset, warc_length=pointer.warc_length,
                    warc_inner_offset=pointer.warc_inner_offset)
    return replace(decided, provenance=place), "", ""
