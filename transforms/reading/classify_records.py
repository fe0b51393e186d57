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

from transforms.common import reasons
from transforms.common.errors import ShardUnavailable
from transforms.common.records import PageRecord, Provenance, Rejected
from transforms.reading.byte_stream import PositionedStream
from transforms.reading.gzip_members import DecompressedView, Location, PlainView, open_view
from transforms.reading.html_detect import charset_param, is_html, mime_type
from transforms.reading.http_payload import ContentDecodeError, DecodedTooLarge, decode_chunked, decode_content_encoding
from transforms.reading.record_views import RecordView, fastwarc_views, sniff_format, warcio_views


@dataclass(frozen=True)
class ReadRules:
    max_payload_bytes: int = 8 * 1024 * 1024
    keep_truncated: bool = False  # keep cut-short payloads as pages flagged truncated


def _provenance(view: RecordView, warc_path: str) -> Provenance:
    return Provenance(
        warc_path=warc_path,
        warc_offset=view.offset,  # decompressed offset until the record is placed in the file
        warc_length=-1,  # set when the next record's offset is known
        warc_record_id=view.record_id,
        warc_date=view.date,
        url=view.url,
        payload_digest=view.payload_digest,
        record_type=view.record_type,
    )


def _reject(prov: Provenance, reason: str, detail: str = "") -> Rejected:
    return Rejected(stage=reasons.READ, reason=reason, provenance=prov, detail=detail)


def classify(view: RecordView, warc_path: str, limits: ReadRules) -> PageRecord | Rejected:
    prov = _provenance(view, warc_path)
    if view.http_problem:
        # After a failed parse, fastwarc's count of the bytes it skipped leaves out those it had buffered: not
        # a sign of a cut-off record. One that is cut off is found where the file ends (_last_record_and_rest).
        view.skip_payload()
        return _reject(prov, reasons.INVALID_HTTP_HEAD, view.http_problem)
    if view.record_type == "conversion":
        payload, missing = view.read_payload()
        if missing and not limits.keep_truncated:
            return _truncated(prov, len(payload), missing)
        truncated = bool(missing or view.warc_truncated)
        if view.warc_truncated and not limits.keep_truncated:
            return _reject(prov, reasons.WARC_TRUNCATED, f"WARC-Truncated: {view.warc_truncated}")
        return PageRecord(prov, "text/plain", "utf-8", payload, is_plain_text=True, truncated=truncated)
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
    if missing and not limits.keep_truncated:
        return _truncated(prov, len(payload), missing)
    if view.warc_truncated and not limits.keep_truncated:
        return _reject(prov, reasons.WARC_TRUNCATED, f"WARC-Truncated: {view.warc_truncated}")
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
    return PageRecord(prov, mime_type(content_type), charset_param(content_type), payload, is_plain_text=False,
                      truncated=bool(missing or view.warc_truncated))


def _skipped(view: RecordView, prov: Provenance, reason: str) -> Rejected:
    missing = view.skip_payload()
    if missing:
        return _truncated(prov, None, missing)
    return _reject(prov, reason)


def _truncated(prov: Provenance, got: int | None, missing: int) -> Rejected:
    held = f"payload has {got} bytes, " if got is not None else ""
    return _reject(prov, reasons.TRUNCATED_PAYLOAD, f"{held}{missing} declared bytes missing")


SNIFF_HEAD_BYTES = 512


# Failures that are the interpreter's or the caller's business, never a record's.
_NOT_RECORD_FAILURES = (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError, ShardUnavailable)


def _is_record_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is the file's doing: any Exception but the ones above, or a Rust panic in fastwarc
    (pyo3's PanicException is a BaseException). Any other BaseException (Ctrl-C, the one a build raises
    on SIGTERM, an exit) stops the read: counted as a broken record, it would let the build go on."""
    if isinstance(exc, _NOT_RECORD_FAILURES):
        return False
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def read_shard(
    stream: BinaryIO, warc_path: str, file_size: int, limits: ReadRules
) -> Iterator[PageRecord | Rejected]:
    """Every record of one file, decided, in file order, each with where to find it again.

    Bytes the readers could not turn into records (a cut-off gzip member, garbage, a parse
    failure) end the file with a ``shard_read_error`` reject at the first file offset concerned;
    a last record cut off inside its own bytes is a ``truncated_payload`` reject instead.
    """
    head = stream.read(SNIFF_HEAD_BYTES)
    stream = HeadReplay(stream, head)  # no seek back: over HTTP that would cost a second request
    if sniff_format(head) == "arc":
        # warcio decompresses ARC's gzip members itself and reports their file offsets.
        view, records = PlainView(stream, file_size), warcio_views
    else:
        view, records = open_view(stream, head, file_size), fastwarc_views
    pending: PageRecord | Rejected | None = None
    pending_start = 0
    failure: str | None = None
    try:
        for record in records(view):
            try:
                decided = classify(record, warc_path, limits)
            except BaseException as exc:  # fastwarc's Rust panics are BaseExceptions too
                if not _is_record_failure(exc):
                    raise
                # One bad record must not cost the rest of the file.
                decided = _reject(_provenance(record, warc_path), reasons.RECORD_ERROR, _describe(exc))
            if pending is not None:
                yield _placed(pending, view.locate(pending_start, record.offset))
            pending, pending_start = decided, record.offset
    except BaseException as exc:
        if not _is_record_failure(exc):
            raise  # the source failed (ShardUnavailable), not the file, or the run is stopping: the caller decides
        failure = _describe(exc)
    if pending is None:
        if view.problem or failure or view.position == 0:
            yield _shard_error(warc_path, 0, file_size, view.problem or failure or "an empty file")
        return
    yield from _last_record_and_rest(stream, view, head, warc_path, file_size, pending, pending_start, failure,
                                     limits)


def _last_record_and_rest(
    stream: BinaryIO, view: DecompressedView, head: bytes, warc_path: str, file_size: int,
    pending: PageRecord | Rejected, start: int, failure: str | None, rules: ReadRules,
) -> Iterator[PageRecord | Rejected]:
    """The held-back last record, and whatever the readers did not say about the bytes after it."""
    end = view.position
    if view.problem and view.problem_offset <= start:
        # The last record begins in the bytes that stopped decompressing: it is the one cut off.
        yield _placed(_cut_off(pending, view.problem, rules), view.locate(start, end))
        return
    if view.problem:
        yield _placed(pending, view.locate(start, view.problem_offset))
        unreadable = view.problem_file_offset
        yield _shard_error(warc_path, unreadable, file_size, f"no record could be read from {view.problem}")
        return
    if (failure is None and head.startswith(b"WARC/") and not _is_truncated(pending)
            and not _ends_with_record_end(stream, file_size)):
        pending = _cut_off(pending, "a record cut off before its end", rules)
    located = view.locate(start, end)
    yield _placed(pending, located)
    if failure:
        detail = f"the file cannot be parsed after the record at offset {located.offset}: {failure}"
        yield _shard_error(warc_path, located.offset, file_size, detail)


class HeadReplay(PositionedStream):
    """A stream whose first bytes were already read: gives them again, then reads on."""

    def __init__(self, stream: BinaryIO, head: bytes) -> None:
        super().__init__()
        self.stream, self.head, self.position = stream, head, 0

    def move_to(self, target: int) -> None:
        self.head = b""
        self.stream.seek(target)
        self.position = target

    def read_bytes(self, size: int) -> bytes:
        if self.position < len(self.head):
            return self.head[self.position: self.position + size]
        return self.stream.read(size)


def _ends_with_record_end(stream: BinaryIO, file_size: int) -> bool:
    # An uncompressed WARC record ends with two CRLFs; a file cut inside its last record does not.
    stream.seek(max(0, file_size - 4))
    return stream.read(4) == b"\r\n\r\n"


def _is_truncated(decided: PageRecord | Rejected | None) -> bool:
    if isinstance(decided, PageRecord):
        return decided.truncated
    return decided is not None and decided.reason == reasons.TRUNCATED_PAYLOAD


def _cut_off(decided: PageRecord | Rejected, detail: str, rules: ReadRules) -> PageRecord | Rejected:
    """The record whose bytes stop early: a truncated page when the recipe keeps those."""
    if _is_truncated(decided):
        return decided
    if isinstance(decided, PageRecord) and rules.keep_truncated:
        return replace(decided, truncated=True)
    return _reject(decided.provenance, reasons.TRUNCATED_PAYLOAD, detail)


def _shard_error(warc_path: str, offset: int, file_size: int, detail: str) -> Rejected:
    where = Provenance(warc_path, offset, file_size - offset, None, None, None, None, "unknown")
    return Rejected(reasons.READ, reasons.SHARD_READ_ERROR, where, detail)


def _placed(decided: PageRecord | Rejected, where: Location) -> PageRecord | Rejected:
    # Built field by field: dataclasses.replace costs twice as much, and every record is placed.
    p = decided.provenance
    provenance = Provenance(p.warc_path, where.offset, where.length, p.warc_record_id, p.warc_date, p.url,
                            p.payload_digest, p.record_type, where.inner_offset)
    if isinstance(decided, PageRecord):
        return PageRecord(provenance, decided.content_type, decided.declared_charset, decided.payload,
                          decided.is_plain_text, decided.truncated)
    return Rejected(decided.stage, decided.reason, provenance, decided.detail)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
