"""`warcforge build` end to end on every real file in ../shared/data/warc."""

import collections
import io
import re
from pathlib import Path

import pytest

from tests.conftest import build, read_rows, write_recipe
from tests.test_build_sample import assert_every_record_is_accounted_for
from transforms.common.errors import NotAnArchiveError
from transforms.extraction.html_text import ExtractOptions
from transforms.extraction.page_text import page_to_text
from transforms.reading.classify_records import ReadRules, read_shard
from transforms.reading.record_fetch import record_bytes

ROWS_PER_FILE = {
    "chatnoir-eu_chatnoir-resiliparse__warcfile.warc.gz": 16,
    "commoncrawl_whirlwind-python__whirlwind.warc.gz": 1,
    "commoncrawl_whirlwind-python__whirlwind.warc.wet.gz": 1,
    "ukwa_webarchive-test-suite__IAH-20080430204825-00000-blackbook-truncated.arc.gz": 2,
    "webrecorder_warcio__example-wrong-chunks.warc.gz": 1,
}


@pytest.fixture(scope="module")
def shared_build(shared_warc, tmp_path_factory):
    out = tmp_path_factory.mktemp("shared-out") / "out"
    recipe = write_recipe(tmp_path_factory.mktemp("recipe") / "r.yaml", [str(shared_warc / "*.gz")],
                          output={"num_shards": 2})
    return out, build(recipe, out)


def test_documents_per_file(shared_build):
    out, manifest = shared_build
    rows = read_rows(out)
    assert dict(collections.Counter(Path(r["warc_path"]).name for r in rows)) == ROWS_PER_FILE
    assert manifest["documents"] == sum(ROWS_PER_FILE.values())
    assert all(r["text"].strip() for r in rows)
    assert len(manifest["inputs"]) == 7


def test_every_record_is_a_row_or_a_reason(shared_build):
    _, manifest = shared_build
    counts = manifest["counts"]
    assert_every_record_is_accounted_for(counts)
    assert counts["read"]["in"] == 70
    assert counts["read"]["truncated_payload"] == 1
    assert counts["read"]["not_html"] == 5 and counts["read"]["non_http_response"] == 1


def test_clipped_file_is_a_dead_letter(shared_build):
    out, _ = shared_build
    dead = read_rows(out, "dead_letter")
    assert [(Path(d["warc_path"]).name, d["warc_offset"], d["reason"]) for d in dead] == [
        ("chatnoir-eu_chatnoir-resiliparse__clipped.warc.gz", 0, "truncated_payload")]
    assert dead[0]["url"].startswith("http://www.houstonpress.com/music/")


def test_charsets_without_a_header_declaration_decode(shared_build):
    rows = read_rows(shared_build[0])
    by_url = {r["url"]: r for r in rows if r["record_type"] == "response"}
    assert re.search("[а-яА-Я]{4}", by_url["http://01spb.ru/company/"]["text"])  # windows-1251, meta only
    assert by_url["http://01spb.ru/company/"]["charset"] == "cp1251"
    gb2312 = by_url["http://0760.jxtdw.com/area/sanxiang/"]  # declared gb2312, decoded as its superset GBK
    assert gb2312["charset"] == "gbk" and re.search("[\u4e00-\u9fff]{4}", gb2312["text"])
    undeclared = by_url["http://041696.com/15477/list_6_4.html"]  # no charset in Content-Type
    assert undeclared["charset"] == "gbk" and "企业公告" in undeclared["text"]
    wet = [r for r in rows if r["record_type"] == "conversion"]
    assert len(wet) == 1 and "Escopete" in wet[0]["text"]


def test_rows_point_at_their_records(shared_build):
    root = Path(shared_build[1]["input_root"])  # warc_path is relative to the inputs' common folder
    for row in read_rows(shared_build[0]):
        data = (root / row["warc_path"]).read_bytes()
        cut = record_bytes(data[row["warc_offset"]: row["warc_offset"] + row["warc_length"]],
                           row["warc_inner_offset"])
        again = next(read_shard(io.BytesIO(cut), row["warc_path"], len(cut), ReadRules()))
        assert (again.provenance.url, again.provenance.warc_date) == (row["url"], row["warc_date"].strftime(
            "%Y-%m-%dT%H:%M:%SZ"))
        assert page_to_text(again, ExtractOptions())[0] == row["text"]


def test_a_file_that_is_not_an_archive_is_refused_before_work(shared_warc, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [str(shared_warc / "*")])
    with pytest.raises(NotAnArchiveError, match=r"SOURCES.md \(matched by .*\) is not a WARC, WET or ARC file"):
        build(recipe, tmp_path / "out")


def test_the_clipped_record_can_be_kept_as_a_truncated_document(shared_warc, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [str(shared_warc / "chatnoir-eu_chatnoir-resiliparse__clipped.warc.gz")],
                          read={"keep_truncated": True})
    build(recipe, tmp_path / "out")
    (row,) = read_rows(tmp_path / "out")
    assert row["truncated"] and row["url"].startswith("http://www.houstonpress.com/music/")
    assert "Chance The Rapper" in row["text"]
