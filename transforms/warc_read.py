"""Stream the records of one WARC, WET or ARC file and decide, record by record, what each is.

No Beam here: ``read_shard`` takes an open binary stream and yields a ``PageRecord`` for every
HTML (or WET text) payload and a ``Rejected`` for everything else, so every record is accounted
for. fastwarc reads WARC/WET (gzip, zstd, lz4 or plain); warcio reads ARC, which fastwarc cannot.
A record's length is only known when the next record starts, so each decision is held back one
record.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import BinaryIO

from transforms import reasons
from transforms.gzip_members import GZIP_MAGIC, complete_members_end
from transforms.html_detect import charset_param, is_html, mime_type
from transforms.http_payload import ContentDecodeError, DecodedTooLarge, decode_chunked, decode_content_encoding
from transforms.record_views import RecordView, fastwarc_views, sniff_format, warcio_views
from transforms.records import PageRecord, Provenance, Rejected


@dataclass(frozen=True)
class ReadLimits:
    max_payload_bytes: int = 8 * 1024 * 1024


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


SNIFF_HEAD_BYTES = 512


def read_shard(
    stream: BinaryIO, warc_path: str, file_size: int, limits: ReadLimits
) -> Iterator[PageRecord | Rejected]:
    """Every record of one file, decided, in file order.

    A file that stops parsing, or whose last bytes do not form a complete record, ends with a
    ``shard_read_error`` reject at the first offset that could not be read.
    """
    head = stream.read(SNIFF_HEAD_BYTES)
    stream.seek(0)
    views = warcio_views if sniff_format(head) == "arc" else fastwarc_views
    pending: PageRecord | Rejected | None = None
    failure: str | None = None
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
        failure = _describe(exc)
    yield from _last_record_and_tail(stream, head, warc_path, file_size, pending, failure)


def _last_record_and_tail(
    stream: BinaryIO, head: bytes, warc_path: str, file_size: int,
    pending: PageRecord | Rejected | None, failure: str | None,
) -> Iterator[PageRecord | Rejected]:
    """Emit the held-back last record with its length, and whatever the readers did not say:
    a parse failure after it, or (in a gzip file) bytes after it that hold no complete record."""
    start = pending.provenance.warc_offset if pending is not None else 0
    good_end, problem = file_size, None
    if head.startswith(GZIP_MAGIC) and not _is_truncated(pending):
        stream.seek(start)
        good, problem = complete_members_end(stream.read(file_size - start))
        good_end = start + good
    elif head.startswith(b"WARC/") and pending is not None and not _is_truncated(pending):
        # An uncompressed WARC record ends with two CRLFs; a file cut inside its last record does not.
        stream.seek(max(0, file_size - 4))
        if stream.read(4) != b"\r\n\r\n":
            good_end, problem = start, "a record cut off before its end"
    if problem and pending is not None and good_end == start:
        # The last record's own gzip member is cut off: that record is the one truncated.
        yield _with_length(_reject(pending.provenance, reasons.TRUNCATED_PAYLOAD, problem), file_size - start)
        return
    if pending is not None:
        yield _with_length(pending, (good_end if problem else file_size) - start)
    if problem or failure:
        error_at = good_end if problem else start
        reader_said = f"; reader: {failure}" if failure else ""
        what = problem or f"the file cannot be parsed after offset {start}"
        yield _shard_error(warc_path, error_at, file_size, f"no record could be read from {what}{reader_said}")


def _is_truncated(decided: PageRecord | Rejected | None) -> bool:
    return isinstance(decided, Rejected) and decided.reason == reasons.TRUNCATED_PAYLOAD


def _shard_error(warc_path: str, offset: int, file_size: int, detail: str) -> Rejected:
    where = Provenance(warc_path, offset, file_size - offset, None, None, None, None, "unknown")
    return Rejected(reasons.READ, reasons.SHARD_READ_ERROR, where, detail)


def _with_length(decided: PageRecord | Rejected, length: int) -> PageRecord | Rejected:
    return replace(decided, provenance=replace(decided.provenance, warc_length=length))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
