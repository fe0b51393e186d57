"""Record types that travel between stages: provenance, pages for extraction, rejects, documents.

Provenance is set once by the reader and copied unchanged to the output row or dead letter.
"""

from dataclasses import dataclass
from datetime import datetime, timezone

# The one column of a cross-crawl index file: written by the writing stage, read by dedup.
INDEX_KEY = "key"


@dataclass(frozen=True)
class Provenance:
    warc_path: str  # URL of the WARC/WET/ARC file as read
    warc_offset: int  # file offset to read from: the record's gzip member, or the record itself
    warc_length: int  # file bytes to read from warc_offset to hold the whole record
    warc_record_id: str | None
    warc_date: str | None  # WARC-Date as written in the record (ISO 8601, UTC)
    url: str | None  # WARC-Target-URI
    payload_digest: str | None  # WARC-Payload-Digest, e.g. "sha1:..."
    record_type: str  # response, conversion, ...
    # Decompressed bytes before the record once warc_length bytes at warc_offset are decompressed:
    # 0 when the record starts its own gzip member (Common Crawl) or the file is not compressed.
    warc_inner_offset: int = 0


@dataclass(frozen=True)
class PageRecord:
    """A payload that passed the read checks and goes to text extraction."""

    provenance: Provenance
    content_type: str  # bare MIME type ("" when the server sent none)
    declared_charset: str | None
    payload: bytes  # HTTP body with transfer/content encodings removed
    is_plain_text: bool  # WET conversion records: the payload already is the text
    truncated: bool = False  # the payload is cut short (kept only when the recipe says so)


@dataclass(frozen=True)
class Rejected:
    """A record that produced no document, with the reason it was counted under."""

    stage: str
    reason: str
    provenance: Provenance
    detail: str = ""


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    provenance: Provenance
    content_type: str
    charset: str
    text_sha256: str
    duplicate_count: int = 1
    truncated: bool = False
    language: str | None = None  # set by the language filter
    language_score: float | None = None
    near_dup_cluster_size: int = 1  # documents in this survivor's near-duplicate cluster, itself included


@dataclass(frozen=True)
class RejectedDocument:
    """A document a filter removed, kept (sampled) for auditing."""

    document: Document
    stage: str
    reason: str


def parse_warc_date(value: str | None) -> datetime | None:
    """WARC-Date (ISO 8601, 'Z' or offset, optional fraction) as an aware UTC datetime, or None."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


@dataclass(frozen=True)
class RecordPointer:
    """Where a published document's record lies and what its text must hash to, without the text:
    one row of a pointer dataset. ``filter_stage``/``filter_reason`` are set for a sampled rejected document."""

    id: str
    warc_path: str
    warc_offset: int
    warc_length: int
    warc_inner_offset: int
    warc_record_id: str | None
    warc_payload_digest: str | None
    text_sha256: str
    language: str | None
    duplicate_count: int
    near_dup_cluster_size: int
    filter_stage: str | None = None
    filter_reason: str | None = None
