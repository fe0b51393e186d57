"""The output schemas (documents and dead letters) and the row builders for them.

The only place a column is named; README.md ("Output schema") describes each one.
"""

import pyarrow as pa

from transforms.common.records import INDEX_KEY, Document, RecordPointer, Rejected, RejectedDocument, parse_warc_date

DOCUMENT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("warc_date", pa.timestamp("us", tz="UTC")),
        pa.field("warc_path", pa.string(), nullable=False),
        pa.field("warc_offset", pa.int64(), nullable=False),
        pa.field("warc_length", pa.int64(), nullable=False),
        pa.field("warc_inner_offset", pa.int64(), nullable=False),
        pa.field("warc_record_id", pa.string()),
        pa.field("warc_payload_digest", pa.string()),
        pa.field("record_type", pa.string(), nullable=False),
        pa.field("content_type", pa.string(), nullable=False),
        pa.field("charset", pa.string(), nullable=False),
        pa.field("text_sha256", pa.string(), nullable=False),
        pa.field("duplicate_count", pa.int32(), nullable=False),
        pa.field("truncated", pa.bool_(), nullable=False),
        pa.field("language", pa.string()),
        pa.field("language_score", pa.float64()),
        pa.field("near_dup_cluster_size", pa.int32(), nullable=False),
    ]
)

REJECTED_SCHEMA = DOCUMENT_SCHEMA.append(pa.field("filter_stage", pa.string(), nullable=False)).append(
    pa.field("filter_reason", pa.string(), nullable=False))

DEAD_LETTER_SCHEMA = pa.schema(
    [
        pa.field("warc_path", pa.string(), nullable=False),
        pa.field("warc_offset", pa.int64(), nullable=False),
        pa.field("warc_length", pa.int64(), nullable=False),
        pa.field("warc_inner_offset", pa.int64(), nullable=False),
        pa.field("warc_record_id", pa.string()),
        pa.field("url", pa.string()),
        pa.field("record_type", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
    ]
)

# A pointer dataset (output.format: pointers): per document, where its record lies and what its text hashes
# to, never the text. warcforge materialize fetches the records and rebuilds the documents.
POINTER_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("warc_path", pa.string(), nullable=False),
        pa.field("warc_offset", pa.int64(), nullable=False),
        pa.field("warc_length", pa.int64(), nullable=False),
        pa.field("warc_inner_offset", pa.int64(), nullable=False),
        pa.field("warc_record_id", pa.string()),
        pa.field("warc_payload_digest", pa.string()),
        pa.field("text_sha256", pa.string(), nullable=False),
        pa.field("language", pa.string()),
        pa.field("duplicate_count", pa.int32(), nullable=False),
        pa.field("near_dup_cluster_size", pa.int32(), nullable=False),
    ]
)
REJECTED_POINTER_SCHEMA = POINTER_SCHEMA.append(pa.field("filter_stage", pa.string(), nullable=False)).append(
    pa.field("filter_reason", pa.string(), nullable=False))

# What materialize could not bring back: the pointer, and why.
MISSING_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("warc_path", pa.string(), nullable=False),
        pa.field("warc_offset", pa.int64(), nullable=False),
        pa.field("section", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
    ]
)

# A crawl's cross-crawl index (refresh.cross_crawl_dedup): one key per row, for later crawls to join on.
INDEX_SCHEMA = pa.schema([pa.field(INDEX_KEY, pa.string(), nullable=False)])

# Columns whose few distinct values make dictionary encoding pay off.
DICTIONARY_COLUMNS = ["record_type", "content_type", "charset", "stage", "reason", "warc_path", "language",
                      "filter_stage", "filter_reason", "section"]


def document_row(doc: Document) -> dict:
    prov = doc.provenance
    return {
        "id": doc.id,
        "text": doc.text,
        "url": prov.url,
        "warc_date": parse_warc_date(prov.warc_date),
        "warc_path": prov.warc_path,
        "warc_offset": prov.warc_offset,
        "warc_length": prov.warc_length,
        "warc_inner_offset": prov.warc_inner_offset,
        "warc_record_id": prov.warc_record_id,
        "warc_payload_digest": prov.payload_digest,
        "record_type": prov.record_type,
        "content_type": doc.content_type,
        "charset": doc.charset,
        "text_sha256": doc.text_sha256,
        "duplicate_count": doc.duplicate_count,
        "truncated": doc.truncated,
        "language": doc.language,
        "language_score": None if doc.language_score is None else round(doc.language_score, 4),
        "near_dup_cluster_size": doc.near_dup_cluster_size,
    }


def rejected_row(rejected: RejectedDocument) -> dict:
    return {**document_row(rejected.document), "filter_stage": rejected.stage, "filter_reason": rejected.reason}


def rejected_shard_key(rejected: RejectedDocument) -> str:
    return rejected.document.id


def rejected_sort_key(rejected: RejectedDocument) -> tuple:
    return document_sort_key(rejected.document)


def dead_letter_row(rejected: Rejected) -> dict:
    prov = rejected.provenance
    return {
        "warc_path": prov.warc_path,
        "warc_offset": prov.warc_offset,
        "warc_length": prov.warc_length,
        "warc_inner_offset": prov.warc_inner_offset,
        "warc_record_id": prov.warc_record_id,
        "url": prov.url,
        "record_type": prov.record_type,
        "stage": rejected.stage,
        "reason": rejected.reason,
        "detail": rejected.detail,
    }


def document_shard_key(doc: Document) -> str:
    return doc.id


def document_sort_key(doc: Document) -> tuple:
    return (doc.id, doc.provenance.warc_path, doc.provenance.warc_offset)


def dead_letter_shard_key(rejected: Rejected) -> str:
    return f"{rejected.provenance.warc_path}\0{rejected.provenance.warc_offset}"


def dead_letter_sort_key(rejected: Rejected) -> tuple:
    prov = rejected.provenance
    return (prov.warc_path, prov.warc_offset, rejected.stage, rejected.reason, rejected.detail)


def pointer_row(doc: Document) -> dict:
    prov = doc.provenance
    return {
        "id": doc.id,
        "warc_path": prov.warc_path,
        "warc_offset": prov.warc_offset,
        "warc_length": prov.warc_length,
        "warc_inner_offset": prov.warc_inner_offset,
        "warc_record_id": prov.warc_record_id,
        "warc_payload_digest": prov.payload_digest,
        "text_sha256": doc.text_sha256,
        "language": doc.language,
        "duplicate_count": doc.duplicate_count,
        "near_dup_cluster_size": doc.near_dup_cluster_size,
    }


def rejected_pointer_row(rejected: RejectedDocument) -> dict:
    return {**pointer_row(rejected.document), "filter_stage": rejected.stage, "filter_reason": rejected.reason}


def missing_row(missing: tuple[RecordPointer, str, str, str]) -> dict:
    pointer, section, reason, detail = missing
    return {"id": pointer.id, "warc_path": pointer.warc_path, "warc_offset": pointer.warc_offset,
            "section": section, "reason": reason, "detail": detail}


def missing_sort_key(missing: tuple[RecordPointer, str, str, str]) -> tuple:
    return (missing[0].warc_path, missing[0].warc_offset, missing[0].id, missing[1])


def missing_shard_key(missing: tuple[RecordPointer, str, str, str]) -> str:
    return missing[0].id


def index_row(key: str) -> dict:
    return {INDEX_KEY: key}


def index_sort_key(key: str) -> tuple:
    return (key,)


def index_shard_key(key: str) -> str:
    return key
