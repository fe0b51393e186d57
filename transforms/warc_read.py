"""Stream the records of one WARC, WET or ARC file and decide, record by record, what each is.

No Beam here: ``read_shard`` takes an open binary stream and yields a ``PageRecord`` for every
HTML (or WET text) payload and a ``Rejected`` for everything else, so every record is accounted
for. fastwarc reads WARC/WET (gzip, zstd, lz4 or plain); warcio reads ARC, which fastwarc cannot.
A record's length is only known when the next record starts, so each decision is held back one
record.
"""

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import BinaryIO

from fastwarc.warc import ArchiveIterator as FastArchiveIterator
from fastwarc.warc import WarcRecordPayloadReader
from warcio.archiveiterator import ArchiveIterator as WarcioArchiveIterator
from warcio.limitreader import LimitReader

from transforms import reasons
from transforms.html_detect import charset_param, is_html, mime_type
from transforms.http_payload import ContentDecodeError, DecodedTooLarge, decode_chunked, decode_content_encoding
from transforms.records import PageRecord, Provenance, Rejected


@dataclass(frozen=True)
class ReadLimits:
    max_payload_bytes: int = 8 * 1024 * 1024


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
    is_http: bool
    status: int | None
    http_header: Callable[[str], str | None]
    payload_length: int  # declared size of the payload (HTTP body, or block when not HTTP)
    # Each returns how many declared payload bytes the file did not hold (0 when complete).
    read_payload: Callable[[], tuple[bytes, int]]
    skip_payload: Callable[[], int]


def _provenance(view: RecordView, warc_path: str) -> Provenance:
    return Provenance(
        warc_path=warc_path,
        warc_offset=view.offset,
        warc_length=-1,  # set when the next record's offset is known
        warc_record_id=view.record_id,
        warc_date=view.date,
        url=view.url,
        payload_digest=view.payload_digest,
        record_type=view.record_type,
    )


def _reject(prov: Provenance, reason: str, detail: str = "") -> Rejected:
    return Rejected(stage=reasons.READ, reason=reason, provenance=prov, detail=detail)


def classify(view: RecordView, warc_path: str, limits: ReadLimits) -> PageRecord | Rejected:
    prov = _provenance(view, warc_path)
    if view.record_type == "conversion":
        payload, missing = view.read_payload()
        if missing:
            return _truncated(prov, len(payload), missing)
        return PageRecord(prov, "text/plain", "utf-8", payload, is_plain_text=True)
    if view.record_type != "response":
        return _skipped(view, prov, reasons.record_type_reason(view.record_type))
    scheme = (view.url or "").split(":", 1)[0].lower()
    if not view.is_http or scheme not in ("http", "https"):
        return _skipped(view, prov, reasons.NON_HTTP_RESPONSE)
    if view.status is None or not 200 <= view.status <= 299:
        return _skipped(view, prov, reasons.http_status_reason(view.status))
    if view.payload_length > limits.max_payload_bytes:
        return _skipped(view, prov, reasons.PAYLOAD_TOO_LARGE)
    content_type = view.http_header("Content-Type")
    if mime_type(view.identified_type) or mime_type(content_type):
        # Decide before reading when a type is declared; sniffing needs the bytes.
        if not is_html(content_type, view.identified_type, b"<html>"):
            return _skipped(view, prov, reasons.NOT_HTML)
    payload, missing = view.read_payload()
    if missing:
        return _truncated(prov, len(payload), missing)
    try:
        if "chunked" in (view.http_header("Transfer-Encoding") or "").lower():
            payload = decode_chunked(payload)
        payload = decode_content_encoding(
            payload, view.http_header("Content-Encoding"), limits.max_payload_bytes
        )
    except DecodedTooLarge:
        return _reject(prov, reasons.PAYLOAD_TOO_LARGE)
    except ContentDecodeError as exc:
        return _reject(prov, reasons.CONTENT_DECODE_ERROR, str(exc))
    if not is_html(content_type, view.identified_type, payload):
        return _reject(prov, reasons.NOT_HTML)
    return PageRecord(prov, mime_type(content_type), charset_param(content_type), payload, is_plain_text=False)


def _skipped(view: RecordView, prov: Provenance, reason: str) -> Rejected:
    missing = view.skip_payload()
    if missing:
        return _truncated(prov, None, missing)
    return _reject(prov, reason)


def _truncated(prov: Provenance, got: int | None, missing: int) -> Rejected:
    held = f"payload has {got} bytes, " if got is not None else ""
    return _reject(prov, reasons.TRUNCATED_PAYLOAD, f"{held}{missing} declared bytes missing")


def sniff_format(head: bytes) -> str:
    """'arc' or 'warc' from the first bytes of a file (gzip-compressed or not)."""
    if head.startswith(b"\x1f\x8b"):
        try:
            head = zlib.decompressobj(31).decompress(head, 64)
        except zlib.error:
            return "warc"
    return "arc" if head.startswith(b"filedesc://") else "warc"


def _fastwarc_views(stream: BinaryIO) -> Iterator[RecordView]:
    for record in FastArchiveIterator(stream, parse_http=True, fsspec_args=False):
        headers = record.headers
        http = record.http_headers if record.is_http else None
        declared = record.content_length  # after the HTTP head: the payload's declared size
        yield RecordView(
            record_type=str(record.record_type),
            offset=record.stream_pos,
            record_id=record.record_id,
            date=headers.get("WARC-Date"),
            url=headers.get("WARC-Target-URI"),
            payload_digest=headers.get("WARC-Payload-Digest"),
            identified_type=headers.get("WARC-Identified-Payload-Type"),
            is_http=record.is_http,
            status=http.status_code if http is not None else None,
            http_header=(http.get if http is not None else _no_header),
            payload_length=declared,
            read_payload=partial(_fastwarc_read, record.reader, declared),
            skip_payload=partial(_fastwarc_skip, record.reader, declared),
        )


def _fastwarc_read(reader: WarcRecordPayloadReader, declared: int) -> tuple[bytes, int]:
    payload = reader.read()
    return payload, max(0, declared - len(payload))


def _fastwarc_skip(reader: WarcRecordPayloadReader, declared: int) -> int:
    return max(0, declared - reader.consume())


def _no_header(_name: str) -> None:
    return None


def _warcio_views(stream: BinaryIO) -> Iterator[RecordView]:
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


SNIFF_HEAD_BYTES = 512


def read_shard(
    stream: BinaryIO, warc_path: str, file_size: int, limits: ReadLimits
) -> Iterator[PageRecord | Rejected]:
    """Every record of one file, decided, in file order; a file that stops parsing ends with a
    ``shard_read_error`` reject placed after the last record that was read."""
    head = stream.read(SNIFF_HEAD_BYTES)
    stream.seek(0)
    views = _warcio_views if sniff_format(head) == "arc" else _fastwarc_views
    pending: PageRecord | Rejected | None = None
    try:
        for view in views(stream):
            try:
                decided = classify(view, warc_path, limits)
            except Exception as exc:  # one bad record must not cost the rest of the file
                decided = _reject(_provenance(view, warc_path), reasons.RECORD_ERROR, _describe(exc))
            if pending is not None:
                yield _with_length(pending, view.offset - pending.provenance.warc_offset)
            pending = decided
    except Exception as exc:
        start = pending.provenance.warc_offset if pending is not None else 0
        if pending is not None:
            yield _with_length(pending, file_size - start)
        failure = Provenance(warc_path, start, file_size - start, None, None, None, None, "unknown")
        detail = f"file unreadable from here: {_describe(exc)}"
        yield Rejected(reasons.READ, reasons.SHARD_READ_ERROR, failure, detail)
        return
    if pending is not None:
        yield _with_length(pending, file_size - pending.provenance.warc_offset)


def _with_length(decided: PageRecord | Rejected, length: int) -> PageRecord | Rejected:
    return replace(decided, provenance=replace(decided.provenance, warc_length=length))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
