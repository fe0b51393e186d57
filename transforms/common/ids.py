"""Stable document ids and the output shard a document lands in.

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


def shard_of(key: str, num_shards: int) -> int:
    """Output shard for a key: a hash of the key, so shards fill evenly whatever the id's shape."""
    if num_shards < 1:
        raise ValueError(f"num_shards must be at least 1, got {num_shards}")
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % num_shards
