"""Record types that travel between stages: provenance, pages for extraction, rejects, documents.

Provenance is set once by the reader and copied unchanged to the output row or dead letter.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Provenance:
    warc_path: str  # URL of the WARC/WET/ARC file as read
    warc_offset: int  # byte offset of the record in that file (start of its gzip member)
    warc_length: int  # bytes from warc_offset to the next record (or the end of the file)
    warc_record_id: str | None
    warc_date: str | None  # WARC-Date as written in the record (ISO 8601, UTC)
    url: str | None  # WARC-Target-URI
    payload_digest: str | None  # WARC-Payload-Digest, e.g. "sha1:..."
    record_type: str  # response, conversion, ...


@dataclass(frozen=True)
class PageRecord:
    """A payload that passed the read checks and goes to text extraction."""

    provenance: Provenance
    content_type: str  # bare MIME type ("" when the server sent none)
    declared_charset: str | None
    payload: bytes  # HTTP body with transfer/content encodings removed
    is_plain_text: bool  # WET conversion records: the payload already is the text


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
    dedup_key: str
    duplicate_count: int = 1
