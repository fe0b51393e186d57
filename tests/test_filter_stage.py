"""The filter and PII stages in Beam, the rejected output, and trafilatura under its time limit."""

import time

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.conftest import build, read_rows, write_recipe
from tests.filter_texts import sentence_lines
from transforms.common.ids import text_sha256
from transforms.common.records import Document, PageRecord, Provenance
from transforms.extraction.html_text import ExtractOptions
from transforms.extraction.stage import ExtractSettings, ExtractText
from transforms.extraction.time_limited import CallTimedOut, TimeLimitedWorker
from transforms.filters.c4 import C4Params
from transforms.filters.gopher_quality import GopherQualityParams
from transforms.filters.quality_rules import FilterSettings, LanguageRule, sampled
from transforms.filters.stage import FilterDocuments

GOOD = "\n".join(sentence_lines(8, words_per_line=14))


def doc(doc_id: str, text: str, url: str = "https://ok.example/") -> Document:
    prov = Provenance("f.warc.gz", 0, 1, None, None, url, None, "response")
    return Document(doc_id, text, prov, "text/html", "utf-8", text_sha256(text))


def test_each_rule_drops_under_its_own_reason_and_c4_rewrites_text():
    docs = [doc("a" * 32, GOOD), doc("b" * 32, "Too short."), doc("c" * 32, GOOD + "\nMenu"),
            doc("d" * 32, GOOD + "\nLorem ipsum dolor sit amet.")]
    settings = FilterSettings(gopher_quality=GopherQualityParams(), c4=C4Params())
    with TestPipeline() as p:
        out = p | beam.Create(docs) | FilterDocuments(settings)
        assert_that(out.kept | "Kept" >> beam.Map(lambda d: (d.id[0], d.text == GOOD, d.text_sha256 == text_sha256(
            d.text))), equal_to([("a", True, True), ("c", True, True)]), label="kept")
        assert_that(out.rejected, equal_to([]), label="nothing sampled at rate 0")


def test_rejected_documents_are_sampled_by_id_with_their_reason():
    ids = [f"{i:02x}" + "0" * 30 for i in range(256)]
    assert sum(sampled(i, 0.25) for i in ids) == 64
    docs = [doc(i, "Too short.") for i in ids]
    settings = FilterSettings(gopher_quality=GopherQualityParams(), rejected_sample_rate=0.25)
    with TestPipeline() as p:
        out = p | beam.Create(docs) | FilterDocuments(settings)
        assert_that(out.rejected | beam.Map(lambda r: (r.stage, r.reason)),
                    equal_to([("filter", "gopher_too_few_words")] * 64))


def test_language_rule_annotates_and_drops():
    german = "Der Gemeinderat hat am Dienstag über die Zukunft der alten Eisenbahnbrücke entschieden. " * 3
    english = "The council met on Tuesday to decide the future of the old railway bridge over the river. " * 3
    docs = [doc("e" * 32, english), doc("f" * 32, german)]
    with TestPipeline() as p:
        out = p | beam.Create(docs) | FilterDocuments(FilterSettings(language=LanguageRule(("en",), 0.65, 2000)))
        assert_that(out.kept | beam.Map(lambda d: (d.language, d.language_score > 0.65)), equal_to([("en", True)]))


def test_time_limited_worker_kills_a_stuck_call_and_recovers():
    worker = TimeLimitedWorker("tests.slow_call:sleep_then_answer")
    try:
        assert worker.call((0.0,), timeout_s=30) == "done"
        started = time.monotonic()
        with pytest.raises(CallTimedOut):
            worker.call((30.0,), timeout_s=0.5)
        assert time.monotonic() - started < 5
        assert worker.call((0.0,), timeout_s=30) == "done"  # a fresh child answers the next call
    finally:
        worker.stop()


def test_a_call_s_time_limit_does_not_count_the_child_s_start_up():
    worker = TimeLimitedWorker("tests.slow_import_call:answer")  # 1.5 s to import, then answers at once
    try:
        assert worker.call((), timeout_s=0.5) == "done"
    finally:
        worker.stop()


def test_a_child_that_cannot_start_is_named():
    worker = TimeLimitedWorker("tests.no_such_module:answer")
    with pytest.raises(RuntimeError, match="tests.no_such_module:answer did not start"):
        worker.call((), timeout_s=0.5)


SLOW_PAGE = ("<html><body><table>" + "".join("<tr>" + "<td>cell text</td>" * 50 + "</tr>" for _ in range(3000))
             + "</table></body></html>").encode()
ARTICLE = ("<html><body><article>" + "".join(f"<p>{line}</p>" for line in sentence_lines(8, 14))
           + "</article></body></html>").encode()


def test_trafilatura_extracts_and_a_page_crafted_to_be_slow_times_out():
    pages = [PageRecord(Provenance("f", i, 1, f"<urn:uuid:{i}>", None, f"https://x/{i}", None, "response"),
                        "text/html", "utf-8", payload, False)
             for i, payload in enumerate([ARTICLE, SLOW_PAGE, ARTICLE])]
    settings = ExtractSettings(ExtractOptions(), "trafilatura", timeout_s=1.0)
    with TestPipeline() as p:
        out = p | beam.Create(pages) | ExtractText(settings)
        assert_that(out.documents | "Docs" >> beam.Map(lambda d: d.provenance.warc_offset), equal_to([0, 2]),
                    label="documents")
        assert_that(out.dead_letter | "Dead" >> beam.Map(lambda r: (r.reason, r.provenance.warc_offset)),
                    equal_to([("extract_timeout", 1)]), label="timeouts")


def test_pii_stage_in_a_build(sample_dir, sample_index, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")], filters={"pii": {"enabled": True}})
    manifest = build(recipe, tmp_path / "out")
    rows = read_rows(tmp_path / "out")
    contact_pages = sum(c["kind"] == "contact_page" for c in sample_index["captures"])
    assert manifest["counts"]["pii"] == {"documents_changed": contact_pages, "emails": 2 * contact_pages,
                                         "ips": contact_pages}
    assert all(r["text_sha256"] == text_sha256(r["text"]) for r in rows)
    assert not any("@newsroom." in r["text"] or "8.8.4.4" in r["text"] for r in rows)
    assert sum("email@example.com" in r["text"] for r in rows) == contact_pages
    assert sum("198.51.100.77" in r["text"] for r in rows) == contact_pages  # not a public address: kept


def test_a_missing_blocklist_stops_the_run_with_its_name(sample_dir, tmp_path):
    from transforms.common.errors import MissingInputError

    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "sample-00000.warc.gz")],
                          filters={"url": {"enabled": True, "domains": [str(tmp_path / "nope.txt")]}})
    with pytest.raises(MissingInputError, match=r"blocklist .*nope\.txt cannot be read"):
        build(recipe, tmp_path / "out")
    assert not (tmp_path / "out").exists()
