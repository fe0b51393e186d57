"""The bounded pre-combine: its table never holds more than its budget, hot keys stay in it, and the
result is the combine's, whatever the budget, the order or the windows."""

import pickle
import random

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import window
from apache_beam.utils.windowed_value import WindowedValue

from tests.test_transforms import doc
from transforms.common.packed import unpack
from transforms.common.stage import CombinePerKeyBounded, PartialCombineFn
from transforms.dedup.stage import KeepSurvivor, survivor_weight


def run_partial(fn: PartialCombineFn, elements: list[tuple]) -> tuple[list[WindowedValue], int]:
    """What the pre-combine sends on over one bundle, and the most weight its table ever held."""
    fn.setup()
    fn.start_bundle()
    sent, heaviest = [], 0
    for element in elements:
        sent.extend(fn.process(element, window.GlobalWindow()))
        heaviest = max(heaviest, fn.weight)
        assert fn.weight == sum(weight for _, weight in fn.table.values())
    sent.extend(fn.finish_bundle())
    return sent, heaviest


def test_the_table_holds_no_more_than_its_budget_however_many_distinct_keys_pass():
    docs = [doc(f"{i:04d}", f"text number {i} " * 50) for i in range(2_000)]
    weight = survivor_weight((docs[0], 1))
    budget = 40 * weight
    sent, heaviest = run_partial(PartialCombineFn(KeepSurvivor("smallest_id"), survivor_weight, budget),
                                 [(d.text, d) for d in docs])
    assert heaviest <= budget + weight  # one accumulator over, then sent on at once
    assert sorted(unpack(v.value[1])[0].id for v in sent) == [d.id for d in docs]  # each sent once, none lost
    assert all(v.windows == (window.GlobalWindow(),) for v in sent)


def test_a_hot_key_stays_in_the_table_and_is_sent_once_per_bundle():
    hot = [doc(f"h{i:04d}", "the same boilerplate") for i in range(500)]
    cold = [doc(f"c{i:04d}", f"unique page {i} " * 50) for i in range(500)]
    interleaved = [item for pair in zip(hot, cold, strict=True) for item in pair]
    budget = 30 * survivor_weight((cold[0], 1))
    sent, _ = run_partial(PartialCombineFn(KeepSurvivor("smallest_id"), survivor_weight, budget),
                          [(d.text, d) for d in interleaved])
    hot_sent = [unpack(v.value[1]) for v in sent if v.value[0] == "the same boilerplate"]
    assert len(hot_sent) == 1
    assert hot_sent[0][0].id == "h0000" and hot_sent[0][1] == 500


def test_the_result_is_the_combine_s_whatever_the_budget_and_order():
    rng = random.Random(7)
    docs = [doc(f"{i:04d}", f"text {rng.randrange(60)}") for i in range(600)]
    expected = {}
    for d in docs:
        best, count = expected.get(d.text, (d.id, 0))
        expected[d.text] = (min(best, d.id), count + 1)
    for budget in (1, 10 * survivor_weight((docs[0], 1)), 1 << 30):
        shuffled = docs[:]
        rng.shuffle(shuffled)
        with TestPipeline() as p:
            out = (p | beam.Create([(d.text, d) for d in shuffled], reshuffle=False)
                   | CombinePerKeyBounded(KeepSurvivor("smallest_id"), survivor_weight, budget)
                   | beam.MapTuple(lambda key, survivor: (key, survivor.id, survivor.duplicate_count)))
            assert_that(out, equal_to([(key, best, count) for key, (best, count) in expected.items()]))


def test_keys_are_combined_per_window():
    docs = [(0, doc("b", "x")), (5, doc("a", "x")), (65, doc("c", "x")), (70, doc("d", "y"))]
    with TestPipeline() as p:
        out = (p | beam.Create(docs, reshuffle=False)
               | beam.MapTuple(lambda at, d: window.TimestampedValue((d.text, d), at))
               | beam.WindowInto(window.FixedWindows(60))
               | CombinePerKeyBounded(KeepSurvivor("smallest_id"), survivor_weight, budget=1)
               | beam.MapTuple(lambda key, survivor, w=beam.DoFn.WindowParam: (w.start.micros // 10**6, key,
                                                                              survivor.id, survivor.duplicate_count)))
        assert_that(out, equal_to([(0, "x", "a", 2), (60, "x", "c", 1), (60, "y", "d", 1)]))


def test_accumulators_cross_the_shuffle_packed_at_under_half_their_pickled_size():
    docs = [doc(f"{i:04d}", " ".join(f"word{j % 97} of page {i}" for j in range(400))) for i in range(50)]
    sent, _ = run_partial(PartialCombineFn(KeepSurvivor("smallest_id"), survivor_weight, 1 << 30),
                          [(d.text, d) for d in docs])
    assert all(isinstance(v.value[1], bytes) for v in sent)
    assert sum(len(v.value[1]) for v in sent) < sum(len(pickle.dumps((d, 1))) for d in docs) / 2
    assert [unpack(v.value[1]) for v in sent] == [(d, 1) for d in docs]
