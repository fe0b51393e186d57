"""The read stage reads records in runs before they go on: same records, same order, none lost to a failure."""

import pytest

from transforms.common.errors import ShardUnavailable
from transforms.common.records import PageRecord, Provenance
from transforms.reading import stage
from transforms.reading.classify_records import ReadRules
from transforms.reading.resumable_file import RetryPolicy
from transforms.reading.sources import InputFile


def page(number: int, size: int) -> PageRecord:
    prov = Provenance("f.warc", number, 1, None, None, f"https://a.example/{number}", None, "response")
    return PageRecord(prov, "text/html", None, b"x" * size, is_plain_text=False)


def reading(tmp_path, monkeypatch, decisions, skip: bool = False):
    """ReadShardFn.process over a local file whose records are ``decisions`` (a generator function)."""
    path = tmp_path / "f.warc"
    path.write_bytes(b"WARC/1.0\r\n")
    monkeypatch.setattr(stage, "read_shard", lambda *args: decisions())
    reader = stage.ReadShardFn(stage.ReadSettings(ReadRules(), RetryPolicy(max_attempts=1), skip_failed_shards=skip))
    reader.setup()
    return reader.process(InputFile(url=str(path), size=None))


def run(tmp_path, monkeypatch, decisions, skip: bool) -> list:
    return list(reading(tmp_path, monkeypatch, decisions, skip))


def test_records_go_on_in_order_across_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(stage, "READ_AHEAD_BYTES", 250)  # a run ends after about three pages
    pages = [page(n, 100) for n in range(10)]
    out = run(tmp_path, monkeypatch, lambda: iter(pages), skip=False)
    assert out == pages


def test_a_source_failing_mid_run_keeps_what_was_read_before_it(tmp_path, monkeypatch):
    pages = [page(n, 10) for n in range(3)]

    def three_then_gone():
        yield from pages
        raise ShardUnavailable("f.warc", "connection reset", 30)

    out = run(tmp_path, monkeypatch, three_then_gone, skip=True)
    assert out[:3] == pages
    failed = [o.value for o in out if getattr(o, "tag", None) == stage.FAILED_SHARDS]
    assert [(f["reason"], f["offset"], f["records_read"]) for f in failed] == [("connection reset", 30, 3)]


def test_a_source_failing_mid_run_fails_the_run_after_the_records_before_it(tmp_path, monkeypatch):
    pages = [page(n, 10) for n in range(3)]
    seen = []

    def three_then_gone():
        yield from pages
        raise ShardUnavailable("f.warc", "connection reset", 30)

    with pytest.raises(stage.ShardFailedError, match="connection reset"):
        for element in reading(tmp_path, monkeypatch, three_then_gone):
            seen.append(element)
    assert seen == pages


def test_a_run_is_read_before_its_first_record_goes_on_and_holds_at_most_512_records(tmp_path, monkeypatch):
    produced = []

    def counted():
        for number in range(600):  # records that hold no payload: only the record cap ends a run
            produced.append(number)
            yield page(number, 0)

    read_when_seen = [len(produced) for _ in reading(tmp_path, monkeypatch, counted)]
    assert read_when_seen[0] == stage.READ_AHEAD_RECORDS == 512
    assert read_when_seen[512] == 600 and len(read_when_seen) == 600
