"""ExactDedup: one survivor per group of documents with the same normalized text.

A combiner keeps only the best copy and a count per key, so a group of a million copies costs
one document of memory, and Beam can pre-combine before the shuffle.
"""

from dataclasses import replace

import apache_beam as beam

from transforms import reasons
from transforms.counting import StageCounters
from transforms.records import Document
from transforms.survivor import survivor_key


class KeepSurvivor(beam.CombineFn):
    def __init__(self, rule: str) -> None:
        self.rule = rule

    def create_accumulator(self) -> tuple:
        return (None, 0)

    def _better(self, a: Document | None, b: Document | None) -> Document | None:
        if a is None or b is None:
            return a if b is None else b
        return a if survivor_key(a, self.rule) <= survivor_key(b, self.rule) else b

    def add_input(self, accumulator: tuple, doc: Document) -> tuple:
        best, count = accumulator
        return (self._better(best, doc), count + doc.duplicate_count)

    def merge_accumulators(self, accumulators: list) -> tuple:
        best, count = None, 0
        for other_best, other_count in accumulators:
            best, count = self._better(best, other_best), count + other_count
        return (best, count)

    def extract_output(self, accumulator: tuple) -> Document:
        best, count = accumulator
        return replace(best, duplicate_count=count)


class CountDedupFn(beam.DoFn):
    def __init__(self, counted: str, stage: str = reasons.DEDUP_EXACT, removed: str = reasons.EXACT_DUPLICATE,
                 ) -> None:
        self.counted, self.stage, self.removed = counted, stage, removed

    def setup(self) -> None:
        self.counters = StageCounters(self.stage)

    def process(self, item: Document | tuple):  # noqa: ANN201 - a DoFn generator
        if self.counted == reasons.IN:
            self.counters.inc(reasons.IN)
            yield item
            return
        doc, copies = item if isinstance(item, tuple) else (item, item.duplicate_count)
        self.counters.inc(reasons.OUT)
        if copies > 1:
            self.counters.inc(self.removed, copies - 1)
        yield doc


class ExactDedup(beam.PTransform):
    def __init__(self, survivor_rule: str) -> None:
        super().__init__()
        self.survivor_rule = survivor_rule

    def expand(self, docs: beam.PCollection) -> beam.PCollection:
        return (
            docs
            | "CountIn" >> beam.ParDo(CountDedupFn(reasons.IN))
            | "KeyByNormalizedText" >> beam.Map(lambda doc: (doc.dedup_key, doc))
            | "KeepOneSurvivorPerText" >> beam.CombinePerKey(KeepSurvivor(self.survivor_rule))
            | "DropKeys" >> beam.Values()
            | "CountSurvivorsAndCopies" >> beam.ParDo(CountDedupFn(reasons.OUT))
        )
