"""Stable document ids, and the hash that names a text exactly as written.

An id is derived from the record, never random: the WARC-Record-ID where the record has one
(globally unique by the WARC standard, and the same whichever mirror the file is read from),
otherwise the target URI, capture date and payload digest (ARC files have no record ids).
"""

import hashlib

ID_HEX_CHARS = 32  # 128 bits: collisions are out of reach at a few billion documents per crawl


def document_id(
    warc_record_id: str | None, url: str | None, warc_date: str | None, payload_digest: str | None
) -> str:
    if warc_record_id:
        basis = f"record-id\0{warc_record_id}"
    else:
        basis = f"capture\0{url or ''}\0{warc_date or ''}\0{payload_digest or ''}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:ID_HEX_CHARS]


def text_sha256(text: str) -> str:
    """Hex SHA-256 of the text exactly as written to the ``text`` column (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
