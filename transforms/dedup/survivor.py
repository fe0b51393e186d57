"""Which copy of a duplicate group survives: the one with the smallest key under the recipe's rule.

Keys are total orders over documents (ties end on id, then file and offset), so the survivor
never depends on which copy a worker saw first. Near dedup needs its preference as one value
that travels as a label and is compared: ``compact_rank``, fixed-width bytes (16 for smallest_id,
24 otherwise) whose order is the order of ``survivor_rank``, the same preference spelled out as a
string (kept as the reference the tests hold the bytes to).
"""

import re

from transforms.common.records import Document, parse_warc_date

SURVIVOR_RULES = ("smallest_id", "earliest", "latest", "longest")
_NO_DATE = 2**62
_MAX_MICROS = 10**19
_MAX_LENGTH = 10**12


def _date_micros(doc: Document) -> int | None:
    parsed = parse_warc_date(doc.provenance.warc_date)
    if parsed is None:
        return None
    return int(parsed.timestamp()) * 1_000_000 + parsed.microsecond


def survivor_key(doc: Document, rule: str) -> tuple:
    tie_break = (doc.id, doc.provenance.warc_path, doc.provenance.warc_offset)
    if rule == "smallest_id":
        return tie_break
    if rule == "longest":
        return (-len(doc.text), *tie_break)
    micros = _date_micros(doc)
    if rule == "earliest":
        return (_NO_DATE if micros is None else micros, *tie_break)
    if rule == "latest":
        return (_NO_DATE if micros is None else -micros, *tie_break)
    raise ValueError(f"unknown survivor rule {rule!r}; allowed: {', '.join(SURVIVOR_RULES)}")


def _newest_micros(doc: Document) -> int:
    date = parse_warc_date(doc.provenance.warc_date)
    return int(date.timestamp() * 1_000_000) if date else 0  # undated: as if dated 1970-01-01


def survivor_rank(doc: Document, rule: str) -> str:
    """A string whose order is the survivor preference: the smallest rank in a cluster survives."""
    if rule == "newest":
        return f"{_MAX_MICROS - _newest_micros(doc):020d}{doc.id}"
    if rule == "longest":
        return f"{_MAX_LENGTH - len(doc.text):013d}{doc.id}"
    if rule == "smallest_id":
        return doc.id
    raise ValueError(f"unknown survivor rule {rule!r}; allowed: smallest_id, newest, longest")


_HEX_ID = re.compile("[0-9a-f]{32}")


def _id_bytes(doc_id: str) -> bytes:
    """The id's 16 bytes: ids are 32 lowercase hex digits (``transforms.common.ids``), whose string
    order is the order of the bytes they spell. All of them: a prefix would tie ids that differ only
    at the end (ids made in sequence, as test corpora make them), and a tie is a collision."""
    if not _HEX_ID.fullmatch(doc_id):
        raise ValueError(f"near dedup needs document ids of 32 lowercase hex digits (as transforms.common.ids "
                         f"makes them), not {doc_id!r}")
    return bytes.fromhex(doc_id)


def compact_rank(doc: Document, rule: str) -> bytes:
    """``survivor_rank`` as fixed-width bytes in the same order: the same number as 8 bytes
    big-endian, then the id's 16 bytes. Two documents share a compact rank only when they share
    their id (the same record read twice); near dedup then keeps every document of that rank
    (``transforms.dedup.clusters.survivors``): a collision can keep too much, never drop a
    document that shares no bucket with another."""
    if rule == "newest":
        return (_MAX_MICROS - _newest_micros(doc)).to_bytes(8, "big") + _id_bytes(doc.id)
    if rule == "longest":
        return (_MAX_LENGTH - len(doc.text)).to_bytes(8, "big") + _id_bytes(doc.id)
    if rule == "smallest_id":
        return _id_bytes(doc.id)
    raise ValueError(f"unknown survivor rule {rule!r}; allowed: smallest_id, newest, longest")
