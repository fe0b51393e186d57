"""MinHash LSH near-duplicate removal: the S-curve, cluster resolution in Beam, hot buckets, determinism."""

import math

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from testbed.near_dup_corpus import by_bin, planted_pairs
from tests.conftest import build, read_rows, write_recipe
from tests.filter_texts import distinct_words
from tests.hot_bucket_check import add_hot_bucket_job, assert_no_worker_grouped_the_bucket, doc
from transforms.common.records import Document, Provenance
from transforms.dedup.codepoint_classes import COMBINING, DIGIT, WORD, code_point_classes
from transforms.dedup.minhash import (
    _COMBINING,
    _DIGIT,
    _SEPARATORS,
    MinHasher,
    jaccard,
    normalize_for_minhash,
    s_curve,
    shingle_hashes,
    shingles,
    text_word_hashes,
    word_hashes,
)
from transforms.dedup.stage import NearDedup, NearDedupSettings
from transforms.dedup.survivor import survivor_rank


def test_normalization():
    assert normalize_for_minhash("Café, STRASSE 2024!  naïve—fine") == "cafe strasse 0000 naive fine"


def test_word_hashes_are_per_word_and_stable():
    hashes = word_hashes("ab cd ab x")
    assert hashes[0] == hashes[2] and len(set(hashes.tolist())) == 3
    assert word_hashes("ab") [0] == hashes[0]  # noqa: E211 - the same word alone hashes the same
    assert int(word_hashes("warcforge")[0]) == int(word_hashes("warcforge")[0])


def test_the_code_point_table_classifies_as_the_normalization_regexes_do():
    classes = code_point_classes(_SEPARATORS, _DIGIT, _COMBINING)
    for code_point in list(range(0x3000)) + list(range(0xfe00, 0x10000)) + [0x1d7ce, 0x1f600, 0x10ffff]:
        char = chr(code_point)
        assert bool(classes[code_point] & WORD) == (not _SEPARATORS.match(char)), hex(code_point)
        assert bool(classes[code_point] & DIGIT) == bool(_DIGIT.match(char)), hex(code_point)
        assert bool(classes[code_point] & COMBINING) == bool(_COMBINING.match(char)), hex(code_point)


@pytest.mark.parametrize("text", [
    "Café, STRASSE 2024!  naïve—fine", "", " ,, ", "snake_case words", "x\u0301y", "٣ apples ١٢ ௭",
    "日本語のテキスト、句読点。", "ﬁne ﬂow Ⅻ ²", "lone \ud800 surrogate", "tab\tand\nnew line\u00a0nbsp",
    " ".join(distinct_words(500, syllables=3)),
])
def test_the_table_path_hashes_the_same_words_as_the_regex_path(text):
    assert np.array_equal(text_word_hashes(text), word_hashes(normalize_for_minhash(text)))


def test_every_ngram_size_a_recipe_allows_has_its_own_shingles():
    text = " ".join(distinct_words(120, syllables=3))
    seen = set()
    for n in (1, 5, 10, 11, 50):
        hashes = shingle_hashes(text, n)
        assert hashes.size == 120 - n + 1
        seen.add(hashes.tobytes())
    assert len(seen) == 5


def test_repeated_shingles_do_not_change_a_signature():
    text = "the same five words again " * 40 + "and then something else entirely for a change"
    assert shingles(text).size > shingle_hashes(text).size
    hasher = MinHasher()
    assert np.array_equal(hasher.signature(shingles(text)), hasher.signature(shingle_hashes(text)))


def test_identical_texts_have_identical_signatures_and_jaccard_one():
    hasher = MinHasher()
    a = shingle_hashes("one two three four five six seven")
    assert jaccard(a, a) == 1.0
    assert np.array_equal(hasher.signature(a), hasher.signature(a.copy()))
    assert len(hasher.band_keys(hasher.signature(a))) == 14


def test_signature_agreement_estimates_jaccard():
    hasher = MinHasher(bands=64, rows=8)  # 512 permutations
    for a, b, similarity in planted_pairs(12, seed=3):
        agreement = float(np.mean(hasher.signature(shingle_hashes(a)) == hasher.signature(shingle_hashes(b))))
        assert abs(agreement - similarity) < 0.08


def test_s_curve_values():
    assert s_curve(1.0, 14, 8) == 1.0 and s_curve(0.0, 14, 8) == 0.0
    assert s_curve(0.8, 14, 8) == pytest.approx(0.9235, abs=1e-4)
    assert s_curve(0.7, 14, 8) == pytest.approx(0.5643, abs=1e-3)


def test_detection_rate_follows_the_s_curve():
    hasher = MinHasher(14, 8)
    pairs = planted_pairs(800)
    similarity = np.array([s for _, _, s in pairs])
    detected = np.array([
        any(x == y for x, y in zip(hasher.band_keys(hasher.signature(shingle_hashes(a))),
                                   hasher.band_keys(hasher.signature(shingle_hashes(b))), strict=True))
        for a, b, _ in pairs])
    theory = np.array([s_curve(s, 14, 8) for s in similarity])
    for row in by_bin(pairs, similarity, detected, theory):
        # Binomial spread of the measured rate around the expected one, with a small floor.
        sigma = math.sqrt(max(row["expected"] * (1 - row["expected"]), 0.01) / row["pairs"])
        assert abs(row["detected"] - row["expected"]) <= 4 * sigma + 0.02, row


WORDS = distinct_words(200, syllables=4)  # letters only: normalization folds every digit to 0
BASE = " ".join(WORDS)


def test_clusters_keep_one_survivor_even_through_chains():
    # c1 ~ c2 ~ c3 share buckets pairwise (one edit apart), c1 and c3 may not share any directly.
    c1 = BASE
    c2 = BASE.replace(f" {WORDS[50]} ", " edited ")
    c3 = c2.replace(f" {WORDS[150]} ", " changed ")
    other = " ".join(distinct_words(200, syllables=4, offset=5000))
    docs = [doc(c1, "c" * 32), doc(c2, "a" * 32), doc(c3, "b" * 32), doc(other, "d" * 32)]
    with TestPipeline() as p:
        out = p | beam.Create(docs) | NearDedup(NearDedupSettings()) | beam.Map(
            lambda d: (d.id[0], d.near_dup_cluster_size))
        assert_that(out, equal_to([("a", 3), ("d", 1)]))


@pytest.mark.parametrize(("rule", "survivor"), [("smallest_id", "a"), ("newest", "b"), ("longest", "c")])
def test_survivor_rules(rule, survivor):
    docs = [doc(BASE, "a" * 32, "2024-01-01T00:00:00Z"),
            doc(BASE.replace(f" {WORDS[7]} ", " edited "), "b" * 32, "2025-01-01T00:00:00Z"),
            doc(BASE + " appended", "c" * 32, "2023-01-01T00:00:00Z")]
    assert survivor_rank(docs[0], rule) != survivor_rank(docs[1], rule)
    with TestPipeline() as p:
        out = p | beam.Create(docs) | NearDedup(NearDedupSettings(survivor=rule)) | beam.Map(lambda d: d.id[0])
        assert_that(out, equal_to([survivor]))


def test_a_hot_bucket_of_200000_members_is_never_grouped():
    # 200,000 near-identical documents share every bucket. The bucket's label reaches its members
    # through a side input; the largest group any worker holds is reported as a metric.
    pipeline = TestPipeline()
    add_hot_bucket_job(pipeline)
    result = pipeline.run()
    result.wait_until_finish()
    assert_no_worker_grouped_the_bucket(result)


def test_near_dedup_in_a_build_is_deterministic_across_worker_counts(sample_dir, sample_index, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")],
                          dedup={"near": {"enabled": True}}, output={"num_shards": 2})
    one = build(recipe, tmp_path / "one")
    two = build(recipe, tmp_path / "two", "--direct_num_workers", "2", "--direct_running_mode", "multi_processing")
    for entry in one["files"]["data"]:
        assert (tmp_path / "one" / entry["path"]).read_bytes() == (tmp_path / "two" / entry["path"]).read_bytes()
    assert one["counts"] == two["counts"]
    near = one["counts"]["near_dedup"]
    planted = sum(c["kind"] == "near_duplicate" for c in sample_index["captures"])
    assert near["in"] == near["out"] + near["near_duplicate"]
    assert 0 < near["near_duplicate"] <= planted + 2
    rows = read_rows(tmp_path / "one")
    assert sum(r["near_dup_cluster_size"] - 1 for r in rows) == near["near_duplicate"]


def test_url_dedup_keeps_the_newest_or_the_longest_capture(tmp_path):
    from transforms.dedup.normalize import normalize_capture_url
    from transforms.dedup.stage import DedupByUrl

    assert normalize_capture_url("https://www.Example.com/a/?q=1#top", "x") == "example.com/a?q=1"
    assert normalize_capture_url("http://example.com/a", "x") == "example.com/a"
    docs = [Document("a" * 32, "short", Provenance("f", 0, 1, None, "2024-01-01T00:00:00Z", "https://ex.com/a", None,
                                                   "response"), "text/html", "utf-8", ""),
            Document("b" * 32, "much longer text", Provenance("f", 9, 1, None, "2023-01-01T00:00:00Z",
                                                              "http://www.ex.com/a/", None, "response"),
                     "text/html", "utf-8", ""),
            Document("c" * 32, "other", Provenance("f", 5, 1, None, "2023-01-01T00:00:00Z", "https://ex.com/b",
                                                   None, "response"), "text/html", "utf-8", "")]
    for rule, kept in (("newest", ["a", "c"]), ("longest", ["b", "c"])):
        with TestPipeline() as p:
            out = p | beam.Create(docs) | DedupByUrl(rule) | beam.Map(lambda d: d.id[0])
            assert_that(out, equal_to(kept))
