"""Which copy of a duplicate group survives: the one with the smallest key under the recipe's rule.

Keys are total orders over documents (ties end on id, then file and offset), so the survivor
never depends on which copy a worker saw first. Near dedup needs the same preference as one
string (``survivor_rank``), because its labels travel and are compared as strings.
"""

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


def survivor_rank(doc: Document, rule: str) -> str:
    """A string whose order is the survivor preference: the smallest rank in a cluster survives."""
    if rule == "newest":
        date = parse_warc_date(doc.provenance.warc_date)
        micros = int(date.timestamp() * 1_000_000) if date else 0
        return f"{_MAX_MICROS - micros:020d}{doc.id}"
    if rule == "longest":
        return f"{_MAX_LENGTH - len(doc.text):013d}{doc.id}"
    if rule == "smallest_id":
        return doc.id
    raise ValueError(f"unknown survivor rule {rule!r}; allowed: smallest_id, newest, longest")
