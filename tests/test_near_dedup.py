"""MinHash LSH near-duplicate removal: the S-curve, cluster resolution in Beam, hot buckets, determinism."""

import collections
import math
import random
from dataclasses import replace

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
from transforms.dedup.clusters import (
    HOT,
    REMOVED,
    bucket_round,
    hot_bucket_of,
    membership_key,
    node_label,
    pack_document,
    split_buckets,
    survivors,
    tally,
    unpack_document,
    verdict,
    verdict_votes,
)
from transforms.dedup.codepoint_classes import COMBINING, DIGIT, WORD, code_point_classes
from transforms.dedup.minhash import (
    _COMBINING,
    _DIGIT,
    _SEPARATORS,
    MinHasher,
    bucket_key,
    jaccard,
    normalize_for_minhash,
    s_curve,
    shingle_hashes,
    shingles,
    text_word_hashes,
    word_hashes,
)
from transforms.dedup.stage import NearDedup, NearDedupSettings
from transforms.dedup.survivor import compact_rank, survivor_rank


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


# Compact ranks, bucket keys and cluster resolution without the buckets of one document.

RULES = ("smallest_id", "newest", "longest")


def random_docs(count: int, seed: int) -> list[Document]:
    """Documents with clashing dates and lengths, some undated or dated before 1970, so that the
    rank's number ties often and the id decides."""
    rng = random.Random(seed)
    dates = [None, "1969-07-20T20:17:40Z", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00.5Z", "2025-06-30T23:59:59Z"]
    return [doc("x" * rng.choice([0, 1, 5, 300, 12_000]), f"{rng.getrandbits(128):032x}", rng.choice(dates))
            for _ in range(count)]


@pytest.mark.parametrize("rule", RULES)
def test_compact_ranks_sort_as_the_spelled_out_ranks(rule):
    docs = random_docs(400, seed=11)
    by_string = sorted(docs, key=lambda d: survivor_rank(d, rule))
    by_bytes = sorted(docs, key=lambda d: compact_rank(d, rule))
    assert [d.id for d in by_bytes] == [d.id for d in by_string]
    assert {len(compact_rank(d, rule)) for d in docs} == {16 if rule == "smallest_id" else 24}


@pytest.mark.parametrize("rule", RULES)
def test_ids_made_in_sequence_keep_their_order_and_never_tie(rule):
    # Ids that differ only in their last digits (as test corpora make them) and equal otherwise.
    docs = [doc("same text", f"{i:032x}") for i in (0, 1, 2, 15, 16, 255, 2**64, 2**64 + 1)]
    ranks = [compact_rank(d, rule) for d in docs]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(docs)
    assert [survivor_rank(d, rule) for d in docs] == sorted(survivor_rank(d, rule) for d in docs)


def test_a_rank_needs_a_hex_id():
    for bad in ("not-a-hex-id-at-all-but-32-chars", "A" * 32, "a" * 31):
        with pytest.raises(ValueError, match="32 lowercase hex digits"):
            compact_rank(doc("text", bad), "smallest_id")


def test_bucket_keys_are_8_bytes_and_keep_each_band_apart():
    hasher = MinHasher(14, 8)
    keys = hasher.bucket_keys(hasher.signature(shingle_hashes(BASE)))
    assert len(keys) == 14 * 8 and len(set(split_buckets(keys))) == 14
    # The same band key in two bands is two buckets; within a band the key decides alone.
    assert bucket_key(0, 7) != bucket_key(1, 7) and bucket_key(3, 7) == bucket_key(3, 7)
    assert len({bucket_key(2, k) for k in range(1000)}) == 1000


def test_a_packed_document_comes_back_whole():
    original = replace(doc("Café lone \ud800 surrogate " * 50, "a" * 32, None), language="fr", language_score=0.5,
                       truncated=True, duplicate_count=3)
    packed = pack_document(original)
    assert unpack_document(packed) == original and len(packed) < len(original.text)


def full_propagation(members: dict, ranks: dict, rounds: int) -> dict:
    """The reference: every bucket, singletons included, in every round, all in memory."""
    labels = dict(ranks)
    for _ in range(rounds):
        smallest = {bucket: min(labels[node] for node in nodes) for bucket, nodes in members.items()}
        labels = {node: min([labels[node]] + [smallest[b] for b, nodes in members.items() if node in nodes])
                  for node in labels}
    return labels


def reference_survivors(members: dict, ranks: dict, rounds: int) -> dict:
    """node -> cluster size of every survivor, as near dedup defines them: a document survives when its
    final label is its own rank, with the number of documents whose label that is."""
    labels = full_propagation(members, ranks, rounds)
    sizes = collections.Counter(labels.values())
    return {node: sizes[rank] for node, rank in ranks.items() if labels[node] == rank}


def pruned_survivors(members: dict, ranks: dict, rounds: int, hot_bucket_size: int) -> dict:
    """Near dedup's steps in memory, as stage.NearDedup wires them: hot buckets by side input, the
    buckets of one document left out, only the members of the others labelled."""
    node_of = {rank: node for node, rank in ranks.items()}
    hot = {b for b, nodes in members.items() if len(nodes) > hot_bucket_size}
    grouped = collections.defaultdict(list)
    for bucket, nodes in members.items():
        for node in nodes:
            grouped[membership_key(bucket, ranks[node], bucket in hot)].append((ranks[node], ranks[node]))
    for number in range(1, rounds + 1):
        messages, hot_labels = collections.defaultdict(list), {}
        for key, pairs in grouped.items():
            bucket = hot_bucket_of(key)
            if bucket is None:
                for node, message in bucket_round(key, pairs):
                    messages[node].append(message)
                continue
            for node, label in pairs:
                messages[node].append((bucket, HOT))
                hot_labels[bucket] = min(label, hot_labels.get(bucket, label))
        grouped, votes = collections.defaultdict(list), collections.defaultdict(list)
        for node, received in messages.items():
            label, cold, hot_buckets = node_label(received, hot_labels)
            if number == rounds:
                for key, vote in verdict_votes(node, label):
                    votes[key].append(vote)
            for bucket in cold:
                grouped[bucket].append((node, label))
            for bucket in hot_buckets:
                grouped[membership_key(bucket, node, hot=True)].append((node, label))
    verdicts = {node: verdict(tally(v)) for node, v in votes.items()}
    kept = {}
    for rank, node in node_of.items():
        for _, size in survivors([node], [verdicts[rank]] if rank in verdicts else []):
            kept[node] = size
    return kept


def random_graph(rng: random.Random, nodes: int) -> tuple[dict, dict]:
    """Memberships where a few buckets are large (hot) and most hold one document."""
    ranks = {f"n{i}": rng.getrandbits(64).to_bytes(8, "big") for i in range(nodes)}
    members = collections.defaultdict(set)
    for node in ranks:
        for band in range(3):
            size_class = rng.random()
            pool = 3 if size_class < 0.05 else (nodes // 3 if size_class < 0.4 else nodes * 5)
            members[bucket_key(band, rng.randrange(pool))].add(node)
    return dict(members), ranks


@pytest.mark.parametrize("seed", range(30))
def test_leaving_out_single_document_buckets_gives_the_full_propagations_survivors(seed):
    rng = random.Random(seed)
    members, ranks = random_graph(rng, nodes=rng.choice([5, 40, 150]))
    for rounds in (1, 2, 4):
        hot_bucket_size = rng.choice([2, 4, 10_000])
        assert pruned_survivors(members, ranks, rounds, hot_bucket_size) == reference_survivors(members, ranks, rounds)


def chain_documents(chains: int = 4, steps: int = 7) -> list[Document]:
    """Chains of documents, each a small edit of the one before: near duplicates that reach further
    than one bucket-hop, so that the number of rounds shows in the survivors."""
    rng = random.Random(3)
    docs = []
    for chain in range(chains):
        words = distinct_words(150, syllables=4, offset=700 * chain)
        for step in range(steps):
            words = [f"edit{step}{i}" if rng.random() < 0.04 else w for i, w in enumerate(words)]
            date = None if (chain + step) % 5 == 0 else f"2024-0{1 + step}-0{1 + chain}T00:00:00Z"
            docs.append(doc(" ".join(words) + " end" * step, f"{rng.getrandbits(128):032x}", date))
    return docs


@pytest.mark.parametrize("rule", RULES)
def test_near_dedup_keeps_the_survivors_of_the_full_propagation_on_chains(rule):
    docs = chain_documents()
    settings = NearDedupSettings(bands=20, rows=3, rounds=2, hot_bucket_size=3, survivor=rule)
    hasher = MinHasher(settings.bands, settings.rows, settings.seed)
    members = collections.defaultdict(set)
    for d in docs:
        for band, key in enumerate(hasher.band_keys(hasher.signature(shingles(d.text, settings.ngram)))):
            members[(band, key)].add(d.id)
    assert max(len(nodes) for nodes in members.values()) > settings.hot_bucket_size  # some buckets are hot
    ranks = {d.id: survivor_rank(d, rule) for d in docs}  # the spelled-out ranks, as the reference
    expected = {}
    for rounds in (1, 2):
        expected[rounds] = reference_survivors(dict(members), ranks, rounds)
    assert expected[1] != expected[2]  # the chains are long enough for the rounds to matter
    for rounds in (1, 2):
        with TestPipeline() as p:
            out = (p | beam.Create(docs) | NearDedup(replace(settings, rounds=rounds))
                   | beam.Map(lambda d: (d.id, d.near_dup_cluster_size)))
            assert_that(out, equal_to(list(expected[rounds].items())))


def test_a_rank_collision_keeps_both_documents():
    # b1 and b2 share their rank (one id: the same record read twice, exact dedup off) but not a
    # bucket. b1 has a near duplicate a with a better rank, b2 has none: b2 must survive, and so does
    # b1 (kept too much), since their one label may have come through the buckets of either.
    a = doc(BASE, "1" * 32)
    b1 = doc(BASE.replace(f" {WORDS[9]} ", " edited "), "5" * 32)
    b2 = doc(" ".join(distinct_words(200, syllables=4, offset=9000)), "5" * 32)
    with TestPipeline() as p:
        out = p | beam.Create([a, b1, b2]) | NearDedup(NearDedupSettings()) | beam.Map(lambda d: d.text)
        assert_that(out, equal_to([a.text, b1.text, b2.text]))


def test_a_rank_collision_resolves_to_keeping_every_document_of_the_node():
    assert survivors(["one"], [REMOVED]) == []
    assert survivors(["one", "two"], [REMOVED]) == [("one", 1), ("two", 1)]
    assert survivors(["one", "two"], [3]) == [("one", 3), ("two", 3)]
    assert survivors(["alone"], []) == [("alone", 1)]
