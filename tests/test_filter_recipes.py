"""The shipped FineWeb-like and C4-like recipes on ../shared's real pages: the funnel adds up."""

import json

import pytest

from beam_jobs.recipe import load_recipe
from tests.conftest import REPO, SHARED_REAL_HTML, build, read_rows
from tests.test_build_sample import assert_every_record_is_accounted_for
from transforms.filters.pii import EMAIL


@pytest.fixture(scope="module")
def real_html():
    if not SHARED_REAL_HTML.is_dir():
        pytest.skip(f"{SHARED_REAL_HTML} is not present")
    return str(SHARED_REAL_HTML / "real-html-0000*.warc.gz")


@pytest.fixture(scope="module")
def fineweb_like(real_html, tmp_path_factory):
    out = tmp_path_factory.mktemp("fineweb-like") / "out"
    # From another working directory: the recipe's blocklists resolve against configs/, not here.
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("elsewhere"))
        return out, build(REPO / "configs" / "fineweb-like.yaml", out, "--input", real_html)


def test_fineweb_like_funnel_adds_up(fineweb_like):
    out, manifest = fineweb_like
    counts = manifest["counts"]
    assert_every_record_is_accounted_for(counts)
    filtered = counts["filter"]
    assert filtered["language_not_kept"] > 500  # the pages are mostly German
    assert {"gopher_dup_5gram", "fineweb_dup_line_chars", "c4_curly_bracket"} <= set(filtered)
    rows = read_rows(out)
    assert rows and all(r["language"] == "en" and r["language_score"] >= 0.65 for r in rows)
    assert not any(EMAIL.search(r["text"]) and "email@example.com" not in r["text"] for r in rows)
    assert counts["pii"]["emails"] > 0


def test_rejected_documents_carry_their_reason(fineweb_like):
    out, manifest = fineweb_like
    rejected = read_rows(out, "rejected")
    removed = manifest["counts"]["filter"]["in"] - manifest["counts"]["filter"]["out"]
    assert 0 < len(rejected) < removed  # a 10 % sample, chosen by id
    assert all(r["filter_stage"] == "filter" and r["filter_reason"] in manifest["counts"]["filter"] for r in rejected)
    assert sum(f["rows"] for f in manifest["files"]["rejected"]) == len(rejected)


def test_c4_like_recipe(real_html, tmp_path):
    manifest = build(REPO / "configs" / "c4-like.yaml", tmp_path / "out", "--input", real_html)
    assert manifest["counts"]["c4_lines"]["c4_line_no_terminal_punctuation"] > 0
    assert manifest["documents"] > 0
    recipe = load_recipe(REPO / "configs" / "c4-like.yaml")
    assert recipe.filters.c4.min_sentences == 5 and recipe.filters.language.min_score == 0.99
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["recipe"]["filters"]["c4"]["enabled"]
