import pytest

from transforms.common.records import Document, Provenance
from transforms.dedup.survivor import survivor_key


def doc(doc_id: str, date: str | None, path: str = "a.warc.gz", offset: int = 0) -> Document:
    prov = Provenance(path, offset, 10, None, date, "http://x/", None, "response")
    return Document(doc_id, "t", prov, "text/html", "utf-8", "h")


DOCS = [doc("b", "2024-05-01T00:00:00Z"), doc("a", "2024-06-01T00:00:00Z"), doc("c", "2024-04-01T00:00:00Z"),
        doc("d", None)]


def best(rule: str) -> str:
    return min(DOCS, key=lambda d: survivor_key(d, rule)).id


def test_smallest_id():
    assert best("smallest_id") == "a"


def test_earliest_and_latest_by_warc_date_with_missing_dates_last():
    assert best("earliest") == "c"
    assert best("latest") == "a"
    only_undated = [doc("z", None), doc("y", None)]
    assert min(only_undated, key=lambda d: survivor_key(d, "latest")).id == "y"


def test_ties_break_on_id_then_file_then_offset():
    same = [doc("a", "2024-01-01T00:00:00Z", "b.warc.gz", 5), doc("a", "2024-01-01T00:00:00Z", "a.warc.gz", 9),
            doc("a", "2024-01-01T00:00:00Z", "a.warc.gz", 3)]
    for rule in ("smallest_id", "earliest", "latest"):
        winner = min(same, key=lambda d, rule=rule: survivor_key(d, rule))
        assert (winner.provenance.warc_path, winner.provenance.warc_offset) == ("a.warc.gz", 3)


def test_unknown_rule_names_the_allowed_ones():
    with pytest.raises(ValueError, match="allowed: smallest_id, earliest, latest, longest"):
        survivor_key(DOCS[0], "first")
