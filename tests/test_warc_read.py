"""The reader on real files from ../shared and on hand-made broken ones."""

import collections
import gzip
import io
import random

import pytest

from sample_crawl.warc_writer import gzip_member, http_response, warc_record
from transforms.common.records import PageRecord, Rejected
from transforms.reading.classify_records import ReadRules, read_shard
from transforms.reading.record_fetch import record_bytes

# What every record of each real file must become: a page for extraction, or a reason.
EXPECTED = {
    "chatnoir-eu_chatnoir-resiliparse__warcfile.warc.gz":
        {"page": 16, "record_type_warcinfo": 1, "record_type_request": 17, "record_type_metadata": 16},
    "chatnoir-eu_chatnoir-resiliparse__clipped.warc.gz": {"truncated_payload": 1},
    "commoncrawl_whirlwind-python__whirlwind.warc.gz":
        {"page": 1, "record_type_warcinfo": 1, "record_type_request": 1, "record_type_metadata": 1},
    "commoncrawl_whirlwind-python__whirlwind.warc.wet.gz": {"page": 1, "record_type_warcinfo": 1},
    "commoncrawl_whirlwind-python__whirlwind.warc.wat.gz": {"record_type_warcinfo": 1, "record_type_metadata": 1},
    "ukwa_webarchive-test-suite__IAH-20080430204825-00000-blackbook-truncated.arc.gz":
        {"page": 2, "record_type_warcinfo": 1, "non_http_response": 1, "not_html": 5},
    "webrecorder_warcio__example-wrong-chunks.warc.gz": {"page": 1, "record_type_request": 1},
}


def read_bytes(data: bytes, name: str = "mem.warc.gz", limits: ReadRules = ReadRules()) -> list:
    return list(read_shard(io.BytesIO(data), name, len(data), limits))


def reread(data: bytes, prov, name: str = "mem.warc.gz") -> list:
    """The documented way back to a record: warc_length bytes at warc_offset, decompressed,
    warc_inner_offset bytes skipped."""
    return read_bytes(record_bytes(data[prov.warc_offset: prov.warc_offset + prov.warc_length],
                                   prov.warc_inner_offset), name)


def outcome(decided: PageRecord | Rejected) -> str:
    return "page" if isinstance(decided, PageRecord) else decided.reason


def test_every_real_file_is_listed(shared_warc):
    assert sorted(p.name for p in shared_warc.glob("*.gz")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_record_of_a_real_file_is_a_page_or_a_reason(shared_warc, name):
    data = (shared_warc / name).read_bytes()
    decided = read_bytes(data, name)
    assert dict(collections.Counter(outcome(d) for d in decided)) == EXPECTED[name]
    # Records tile the file: each starts where the previous one ended, the last ends at the end;
    # only a record that starts inside a gzip member shares that member with the one before.
    offsets = [d.provenance.warc_offset for d in decided]
    assert offsets[0] == 0 and offsets == sorted(offsets)
    for before, after in zip(decided, decided[1:], strict=False):
        before_end = before.provenance.warc_offset + before.provenance.warc_length
        assert before_end == after.provenance.warc_offset or (
            after.provenance.warc_inner_offset > 0 and after.provenance.warc_offset < before_end)
    assert decided[-1].provenance.warc_offset + decided[-1].provenance.warc_length == len(data)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_offset_and_length_address_the_same_record(shared_warc, name):
    data = (shared_warc / name).read_bytes()
    for decided in read_bytes(data, name):
        prov = decided.provenance
        again = reread(data, prov, name)[0]  # the first record there; a shared member may hold more
        assert outcome(again) == outcome(decided)
        assert (again.provenance.warc_record_id, again.provenance.url, again.provenance.warc_date) == (
            prov.warc_record_id, prov.url, prov.warc_date)
        if isinstance(decided, PageRecord):
            assert again.payload == decided.payload


def test_common_crawl_excerpt_keeps_charsets_and_types(shared_warc):
    pages = [d for d in read_bytes((shared_warc / next(iter(EXPECTED))).read_bytes()) if isinstance(d, PageRecord)]
    assert {p.declared_charset for p in pages} == {None, "windows-1251", "utf-8", "gb2312", "UTF-8"}
    assert all(p.content_type == "text/html" and not p.is_plain_text for p in pages)
    assert all(p.provenance.payload_digest.startswith("sha1:") for p in pages)


def test_clipped_record_is_reported_with_what_is_missing(shared_warc):
    (clipped,) = read_bytes((shared_warc / "chatnoir-eu_chatnoir-resiliparse__clipped.warc.gz").read_bytes())
    assert clipped.reason == "truncated_payload"
    assert clipped.detail == "payload has 74970 bytes, 13068 declared bytes missing"


def test_wet_conversion_is_plain_text(shared_warc):
    pages = read_bytes((shared_warc / "commoncrawl_whirlwind-python__whirlwind.warc.wet.gz").read_bytes())
    (page,) = [p for p in pages if isinstance(p, PageRecord)]
    assert page.is_plain_text and page.provenance.record_type == "conversion"
    assert page.provenance.url == "https://an.wikipedia.org/wiki/Escopete"


def test_arc_records_have_no_invented_record_ids(shared_warc):
    name = "ukwa_webarchive-test-suite__IAH-20080430204825-00000-blackbook-truncated.arc.gz"
    first = read_bytes((shared_warc / name).read_bytes())
    second = read_bytes((shared_warc / name).read_bytes())
    assert [d.provenance for d in first] == [d.provenance for d in second]
    assert all(d.provenance.warc_record_id is None for d in first)
    pages = [d.provenance.url for d in first if isinstance(d, PageRecord)]
    assert pages == ["http://www.archive.org/", "http://www.archive.org/index.php"]


# --- hand-made records ---------------------------------------------------------------------------

def response(url: str, body: bytes, headers: list | None = None, status: int = 200, record_id: str = "1") -> bytes:
    http_headers = headers if headers is not None else [("Content-Type", "text/html")]
    block = http_response(status, "OK", http_headers, body)
    return warc_record(
        [("WARC-Type", "response"), ("WARC-Record-ID", f"<urn:uuid:{record_id}>"), ("WARC-Target-URI", url),
         ("WARC-Date", "2024-01-01T00:00:00Z"), ("Content-Type", "application/http; msgtype=response")],
        block, payload=body,
    )


PAGE = b"<html><body><p>hello</p></body></html>"
GOOD = gzip_member(response("http://a.test/", PAGE))


def test_status_classes_and_non_http_records():
    data = b"".join(gzip_member(r) for r in [
        response("http://a.test/1", PAGE, status=301), response("http://a.test/2", PAGE, status=404),
        response("http://a.test/3", PAGE, status=503), response("http://a.test/4", PAGE, status=204),
        warc_record([("WARC-Type", "response"), ("WARC-Target-URI", "dns:a.test")], b"a.test. IN A 192.0.2.1\n"),
    ])
    assert [outcome(d) for d in read_bytes(data)] == [
        "http_status_3xx", "http_status_4xx", "http_status_5xx", "page", "non_http_response"]


def test_garbled_status_line_is_an_invalid_http_head():
    block = b"HTPT/1.1 2OO OK\r\nContent-Type: text/html\r\n\r\n" + PAGE
    headers = [("WARC-Type", "response"), ("WARC-Target-URI", "http://a.test/"),
               ("Content-Type", "application/http; msgtype=response")]
    assert [outcome(d) for d in read_bytes(gzip_member(warc_record(headers, block)))] == ["invalid_http_head"]


@pytest.mark.parametrize("pack", [gzip_member, bytes], ids=["gzip", "plain"])
def test_an_http_head_too_long_to_parse_costs_its_record_only(pack):
    # fastwarc refuses a head past its length limit (about 32 KiB); the records after it are still read. Random
    # letters, as a cookie's are: a head that compresses to almost nothing would come out in one read, and hide
    # a short count of the bytes skipped after the failed parse.
    rng = random.Random(7)
    cookies = b"".join(f"Set-Cookie: c{i}=".encode() + bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=60))
                       + b"\r\n" for i in range(600))
    block = b"HTTP/1.1 200 OK\r\n" + cookies + b"Content-Type: text/html\r\n\r\n" + PAGE
    headers = [("WARC-Type", "response"), ("WARC-Target-URI", "http://a.test/"),
               ("Content-Type", "application/http; msgtype=response")]
    data = pack(warc_record(headers, block)) + pack(response("http://a.test/next", PAGE))
    decided = read_bytes(data)
    assert [outcome(d) for d in decided] == ["invalid_http_head", "page"]
    assert "header length" in decided[0].detail and decided[1].provenance.url == "http://a.test/next"
    assert decided[1].provenance.warc_offset == len(pack(warc_record(headers, block)))


def test_a_conversion_record_holding_an_http_message_gives_its_body():
    block = http_response(200, "OK", [("Content-Type", "text/plain")], b"the text")
    headers = [("WARC-Type", "conversion"), ("WARC-Target-URI", "http://a.test/"),
               ("Content-Type", "application/http; msgtype=response")]
    decided = read_bytes(gzip_member(warc_record(headers, block)))
    assert [(outcome(d), d.payload) for d in decided] == [("page", b"the text")]


def test_payload_size_limit_applies_to_declared_and_decoded_sizes():
    big = b"<html>" + b"x" * 5000 + b"</html>"
    limits = ReadRules(max_payload_bytes=2048)
    assert [outcome(d) for d in read_bytes(gzip_member(response("http://a.test/", big)), limits=limits)] == [
        "payload_too_large"]
    encoded = gzip_member(response("http://a.test/", gzip.compress(big), [("Content-Type", "text/html"),
                                                                         ("Content-Encoding", "gzip")]))
    assert [outcome(d) for d in read_bytes(encoded, limits=limits)] == ["payload_too_large"]


def test_stored_encodings_are_decoded_before_the_html_check():
    encoded = gzip_member(response("http://a.test/", gzip.compress(PAGE),
                                   [("Content-Encoding", "gzip")]))  # no type: sniffed after decoding
    (page,) = read_bytes(encoded)
    assert page.payload == PAGE and page.content_type == ""


def test_garbage_after_the_last_record_is_a_shard_error_at_its_offset():
    decided = read_bytes(GOOD + b"\x00garbage" * 20)
    assert [outcome(d) for d in decided] == ["page", "shard_read_error"]
    assert decided[0].provenance.warc_length == len(GOOD)
    assert (decided[1].provenance.warc_offset, decided[1].provenance.warc_length) == (len(GOOD), 160)


def test_a_record_cut_off_in_its_header_is_not_silently_dropped():
    decided = read_bytes(GOOD + GOOD[:30])  # both readers return nothing for this member
    assert [outcome(d) for d in decided] == ["page", "shard_read_error"]
    assert decided[1].detail == "no record could be read from a gzip member cut off before its end (30 bytes)"


def test_a_last_record_cut_off_mid_member_is_truncated():
    decided = read_bytes(GOOD + GOOD + GOOD[:-20])
    assert [outcome(d) for d in decided] == ["page", "page", "truncated_payload"]


def test_uncompressed_file_cut_off_in_its_last_record():
    plain = gzip.decompress(GOOD)
    assert [outcome(d) for d in read_bytes(plain + plain, "x.warc")] == ["page", "page"]
    assert [outcome(d) for d in read_bytes(plain + plain[:60], "x.warc")] == ["page", "truncated_payload"]


def test_not_a_warc_file_at_all():
    decided = read_bytes(b"this is not a web archive\n" * 10, "notes.txt")
    assert [outcome(d) for d in decided] == ["shard_read_error"]


def test_an_exception_inside_one_record_costs_only_that_record(monkeypatch):
    import transforms.reading.classify_records

    real = transforms.reading.classify_records.charset_param

    def explode_on_boom(content_type):
        if content_type and "boom" in content_type:
            raise RuntimeError("charset parser exploded")
        return real(content_type)

    monkeypatch.setattr(transforms.reading.classify_records, "charset_param", explode_on_boom)
    data = b"".join(gzip_member(response(f"http://a.test/{i}", PAGE, [("Content-Type", ct)], record_id=str(i)))
                    for i, ct in enumerate(["text/html", "text/html; charset=boom", "text/html"]))
    decided = read_bytes(data)
    assert [outcome(d) for d in decided] == ["page", "record_error", "page"]
    assert decided[1].detail == "RuntimeError: charset parser exploded"
    assert decided[1].provenance.url == "http://a.test/1" and decided[1].provenance.warc_length > 0


def test_placing_a_decision_keeps_every_other_field():
    # _placed builds the placed record field by field: a field added to a record type must not be dropped.
    from dataclasses import fields, replace

    from transforms.common.records import Provenance
    from transforms.reading.classify_records import _placed
    from transforms.reading.gzip_members import Location

    prov = Provenance("s3://b/f.warc.gz", 7, -1, "<urn:uuid:1>", "2024-01-01T00:00:00Z", "https://a.example/",
                      "sha1:X", "response", 5)
    page = PageRecord(prov, "text/html", "latin-1", b"<p>x</p>", is_plain_text=True, truncated=True)
    rejected = Rejected("read", "not_html", prov, "detail")
    where = Location(100, 200, 3)
    placed_prov = replace(prov, warc_offset=100, warc_length=200, warc_inner_offset=3)
    assert _placed(page, where) == replace(page, provenance=placed_prov)
    assert _placed(rejected, where) == replace(rejected, provenance=placed_prov)
    # Every field above is set: a new one fails here until _placed and this test carry it.
    assert [len(fields(t)) for t in (Provenance, PageRecord, Rejected)] == [9, 6, 4]


def _raise_in_charset_param(monkeypatch, exc: BaseException) -> None:
    import transforms.reading.classify_records

    def explode(content_type):
        raise exc

    monkeypatch.setattr(transforms.reading.classify_records, "charset_param", explode)


def test_a_stop_raised_while_a_record_is_read_stops_the_read(monkeypatch):
    # SIGTERM's exception in a build (beam_jobs.interrupts.Terminated) is a BaseException: taken for a
    # broken record it would be counted as record_error and the build would go on.
    class Stop(BaseException):
        pass

    _raise_in_charset_param(monkeypatch, Stop())
    data = gzip_member(response("http://a.test/1", PAGE, [("Content-Type", "text/html")], record_id="1"))
    with pytest.raises(Stop):
        read_bytes(data)


def test_a_rust_panic_while_a_record_is_read_costs_only_that_record(monkeypatch):
    PanicException = type("PanicException", (BaseException,), {})  # as pyo3 names fastwarc's panics
    _raise_in_charset_param(monkeypatch, PanicException("index out of bounds"))
    data = gzip_member(response("http://a.test/1", PAGE, [("Content-Type", "text/html")], record_id="1"))
    assert [outcome(d) for d in read_bytes(data)] == ["record_error"]
