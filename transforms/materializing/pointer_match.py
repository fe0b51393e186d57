"""Whether a rebuilt document is the one its pointer names, and the pointer's dedup figures put back.

A pointer records what the document-level steps cannot recompute from one record: how many
copies dedup found (``duplicate_count``, ``near_dup_cluster_size``). Everything else must come
out of the record again exactly: the text (its sha256) and the language.
"""

from dataclasses import replace

from transforms.common.records import Document, RecordPointer

# Why a pointer brought no document back.
NO_DOCUMENT = "no_document"  # the record was fetched, but extraction and the recipe's rules kept nothing
NOT_REJECTED = "not_rejected"  # a sampled rejected document that the rules now keep, or reject otherwise
DIGEST_MISMATCH = "digest_mismatch"
LANGUAGE_MISMATCH = "language_mismatch"


UNKNOWN_FILE = "unknown_file"  # the pointer names a file its lock does not list: never fetched


def place_key(doc_id: str, warc_path: str, warc_offset: int) -> str:
    """What a pointer and its rebuilt document are joined on: the id and the record's place. The id alone
    is not enough: the same record (same WARC-Record-ID) can lie in two input files."""
    return f"{doc_id}\0{warc_path}\0{warc_offset}"


def pointer_from_row(row: dict) -> RecordPointer:
    """A row of a pointers (or rejected_pointers) file, as a RecordPointer."""
    return RecordPointer(**{name: row.get(name) for name in RecordPointer.__dataclass_fields__})


def restore(pointer: RecordPointer, doc: Document) -> tuple[Document | None, str, str]:
    """The document with the pointer's dedup figures, or None with the reason it is not the one named."""
    if doc.text_sha256 != pointer.text_sha256:
        return None, DIGEST_MISMATCH, f"text sha256 is {doc.text_sha256}, the pointer says {pointer.text_sha256}"
    if doc.language != pointer.language:
        return None, LANGUAGE_MISMATCH, f"language is {doc.language}, the pointer says {pointer.language}"
    return replace(doc, duplicate_count=pointer.duplicate_count,
                   near_dup_cluster_size=pointer.near_dup_cluster_size), "", ""


def missing_reason(pointer: RecordPointer) -> tuple[str, str]:
    """Why a fetched record gave no document of the kind its pointer expects."""
    if pointer.filter_stage is None:
        return NO_DOCUMENT, "the record was fetched, but extraction and the recipe's rules kept no document"
    return NOT_REJECTED, f"the pointer expects a document rejected by {pointer.filter_stage}/{pointer.filter_reason}"
