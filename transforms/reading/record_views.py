"""One record, whichever library parsed it: fastwarc for WARC and WET, warcio for ARC.

``RecordView`` holds what the read decision needs; its payload is read (or skipped) only when
the decision asks, and both readers report how many declared bytes the file did not hold.
"""

import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import BinaryIO

# The package before its submodules: fastwarc's __init__ imports fastwarc.warc and fastwarc.stream_io,
# and `from fastwarc.warc import ...` takes the submodule's import lock before the package's. Two
# threads importing fastwarc for the first time from different submodules (an SDK worker unpickling
# two stages' DoFns at once) can then each hold a lock the other waits for, and CPython breaks that
# by handing one of them the half-made package: "No module named 'fastwarc.warc'".
import fastwarc  # noqa: F401
from fastwarc.warc import ArchiveIterator as FastArchiveIterator
from fastwarc.warc import WarcRecord, WarcRecordPayloadReader, WarcRecordType
from warcio.archiveiterator import ArchiveIterator as WarcioArchiveIterator
from warcio.limitreader import LimitReader

from transforms.reading.gzip_members import GZIP_MAGIC, LZ4_MAGIC, ZSTD_MAGIC


@dataclass
class RecordView:
    """What the decision needs from one record, whichever library parsed it."""

    record_type: str
    offset: int
    record_id: str | None
    date: str | None
    url: str | None
    payload_digest: str | None
    identified_type: str | None
    warc_truncated: str | None  # the WARC-Truncated header: why the crawler cut the payload short
    is_http: bool
    status: int | None
    http_header: Callable[[str], str | None]
    payload_length: int  # declared size of the payload (HTTP body, or block when not HTTP)
    # Each returns how many declared payload bytes the file did not hold (0 when complete).
    read_payload: Callable[[], tuple[bytes, int]]
    skip_payload: Callable[[], int]
    http_problem: str | None = None  # why the HTTP head could not be parsed, when it could not


# zstd's skippable frames (Common Crawl's zstd WARCs start with one holding the dictionary).
_ZSTD_SKIPPABLE = b"\x5d\x2a\x4d\x18"
# An ARC v1 record line: URL, IP address, 14-digit date, content type, length.
_ARC_RECORD_LINE = re.compile(rb"^\S+ \d{1,3}(?:\.\d{1,3}){3} \d{14} \S+ \d+\n")


ARCHIVE_HEAD_BYTES = 4096
_WARC_START = re.compile(rb"^WARC/\d")


def archive_problem(head: bytes) -> str | None:
    """Why a file that starts with ``head`` is not a WARC, WET or ARC file, or None if it may be one.

    Only the start is judged: a file that starts well and breaks later is read, and its broken
    part reported as a dead letter. zstd and lz4 files are taken on their magic number.
    """
    if not head:
        return "the file is empty"
    if head.startswith((ZSTD_MAGIC, LZ4_MAGIC)) or head[:4] == _ZSTD_SKIPPABLE:
        return None
    if head.startswith(GZIP_MAGIC):
        try:
            head = zlib.decompressobj(31).decompress(head, 256)
        except zlib.error as exc:
            return f"gzip data that does not decompress ({exc})"
        if not head:
            return None  # a first member larger than the head: too little to judge
    if _WARC_START.match(head) or head.startswith(b"filedesc://") or _ARC_RECORD_LINE.match(head):
        return None
    return f"it starts with {head[:24]!r}"


def sniff_format(head: bytes) -> str:
    """'arc' or 'warc' from the first bytes of a file, or of one record cut from it."""
    if head.startswith(GZIP_MAGIC):
        try:
            head = zlib.decompressobj(31).decompress(head, 256)
        except zlib.error:
            return "warc"
    if head.startswith(b"filedesc://") or _ARC_RECORD_LINE.match(head):
        return "arc"
    return "warc"


def fastwarc_views(stream: BinaryIO) -> Iterator[RecordView]:
    # HTTP heads are parsed for the records whose payload is read (responses, and conversions that hold one)
    # only: in Common Crawl's layout one record in three is a request, whose head nothing here reads. Parsed
    # here, a head that fastwarc cannot parse (one longer than its limit) is that record's problem, not the
    # end of the file, as it is inside the iterator.
    for record in FastArchiveIterator(stream, parse_http=False, fsspec_args=False, stream_detect=False):
        headers = record.headers
        kind = record.record_type
        problem = _parse_http(record) if kind in _PAYLOAD_READ else None
        http = record.http_headers if record.is_http_parsed else None
        declared = record.content_length  # after the HTTP head when parsed: the payload's declared size
        yield RecordView(
            record_type=str(kind),
            offset=record.stream_pos,
            record_id=record.record_id,
            date=headers.get("WARC-Date"),
            url=headers.get("WARC-Target-URI"),
            payload_digest=headers.get("WARC-Payload-Digest"),
            identified_type=headers.get("WARC-Identified-Payload-Type"),
            warc_truncated=headers.get("WARC-Truncated"),
            is_http=record.is_http,
            status=http.status_code if http is not None else None,
            http_header=(http.get if http is not None else _no_header),
            payload_length=declared,
            read_payload=partial(_fastwarc_read, record.reader, declared),
            skip_payload=partial(_fastwarc_skip, record.reader, declared),
            http_problem=problem,
        )


_PAYLOAD_READ = (WarcRecordType.response, WarcRecordType.conversion)


def _parse_http(record: WarcRecord) -> str | None:
    if not record.is_http:
        return None
    try:
        record.parse_http()
    except OSError as exc:
        return str(exc)
    return None


def _fastwarc_read(reader: WarcRecordPayloadReader, declared: int) -> tuple[bytes, int]:
    payload = reader.read()
    return payload, max(0, declared - len(payload))


def _fastwarc_skip(reader: WarcRecordPayloadReader, declared: int) -> int:
    return max(0, declared - reader.consume())


def _no_header(_name: str) -> None:
    return None


def warcio_views(stream: BinaryIO) -> Iterator[RecordView]:
    iterator = WarcioArchiveIterator(stream, arc2warc=True)
    for record in iterator:
        http = record.http_headers
        raw = record.raw_stream
        status = http.get_statuscode() if http is not None else None
        yield RecordView(
            record_type=record.rec_type,
            offset=iterator.offset,  # start of this record (get_record_offset() would read it to the end)
            # warcio invents a random id when it converts an ARC header: not part of the record.
            record_id=None,
            date=record.rec_headers.get_header("WARC-Date"),
            url=record.rec_headers.get_header("WARC-Target-URI"),
            payload_digest=None,
            identified_type=None,
            warc_truncated=record.rec_headers.get_header("WARC-Truncated"),
            is_http=http is not None and record.rec_type == "response",
            status=int(status) if status and status.isdigit() else None,
            http_header=(http.get_header if http is not None else _no_header),
            payload_length=raw.limit,
            read_payload=partial(_warcio_read, raw),
            skip_payload=partial(_warcio_skip, raw),
        )


# warcio's payload stream is a LimitReader whose ``limit`` is what the file still owes after a read.
def _warcio_read(raw: LimitReader) -> tuple[bytes, int]:
    payload = raw.read()
    return payload, raw.limit


def _warcio_skip(raw: LimitReader) -> int:
    while raw.read(1 << 16):
        pass
    return raw.limit


