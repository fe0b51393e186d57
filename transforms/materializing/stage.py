"""MatchPointers: rebuilt documents joined with the pointers that name them, checked, or listed as missing.

Inputs, keyed by document id: the pointers (kept and sampled rejected), the documents the rules
kept, the documents they rejected (sampled), and the pointers whose record could not be fetched.
Each pointer gives exactly one outcome: its document (with the pointer's dedup figures), its
rejected document, or a ``missing`` entry ``(pointer, section, reason, detail)``.
"""

import apache_beam as beam
import fsspec
import pyarrow.parquet as pq

from transforms.common import reasons
from transforms.common.records import RecordPointer, RejectedDocument
from transforms.common.stage import StageCounters
from transforms.materializing.pointer_match import UNKNOWN_FILE, missing_reason, pointer_from_row, restore

DOCUMENTS = "documents"
REJECTED = "rejected"
MISSING = "missing"


def _section(pointer: RecordPointer) -> str:
    return "pointers" if pointer.filter_stage is None else "rejected_pointers"


class MatchPointerFn(beam.DoFn):
    def setup(self) -> None:
        self.counters = StageCounters(reasons.MATERIALIZE)

    def process(self, joined: tuple):  # noqa: ANN201 - a DoFn generator
        _, groups = joined
        failures = list(groups["failed"])
        kept, rejected = list(groups["kept"]), list(groups["rejected"])
        for pointer in groups["pointer"]:
            self.counters.inc("pointers")
            outcome = self._match(pointer, failures, kept, rejected)
            if isinstance(outcome, tuple):
                self.counters.inc(f"missing_{outcome[2]}")
                yield beam.pvalue.TaggedOutput(MISSING, outcome)
            elif isinstance(outcome, RejectedDocument):
                self.counters.inc(REJECTED)
                yield beam.pvalue.TaggedOutput(REJECTED, outcome)
            else:
                self.counters.inc(DOCUMENTS)
                yield outcome

    @staticmethod
    def _match(pointer: RecordPointer, failures: list, kept: list, rejected: list) -> object:
        section = _section(pointer)
        if failures:
            _, reason, detail = failures[0]
            return pointer, section, reason, detail
        if pointer.filter_stage is None and kept:
            doc, reason, detail = restore(pointer, kept[0])
            return doc if doc is not None else (pointer, section, reason, detail)
        same = [r for r in rejected if (r.stage, r.reason) == (pointer.filter_stage, pointer.filter_reason)]
        if pointer.filter_stage is not None and same:
            doc, reason, detail = restore(pointer, same[0].document)
            return RejectedDocument(doc, same[0].stage, same[0].reason) if doc is not None else (
                pointer, section, reason, detail)
        return (pointer, section, *missing_reason(pointer))


class MatchPointers(beam.PTransform):
    """{"pointer", "kept", "rejected", "failed"} PCollections keyed by id -> documents, plus
    ``rejected`` and ``missing`` outputs."""

    def expand(self, keyed):  # noqa: ANN001, ANN201 - Beam reads these hints: a dict of PCollections in, a tuple out
        return (
            keyed
            | "JoinByDocumentId" >> beam.CoGroupByKey()
            | "CheckAgainstPointer" >> beam.ParDo(MatchPointerFn()).with_outputs(REJECTED, MISSING, main=DOCUMENTS)
        )


class ReadPointerFileFn(beam.DoFn):
    def process(self, url: str):  # noqa: ANN201 - a DoFn generator
        with fsspec.open(url, "rb") as stream:
            table = pq.read_table(stream)
        for row in table.to_pylist():
            yield pointer_from_row(row)


class ReadPointerFiles(beam.PTransform):
    """PCollection[URL of a pointers or rejected_pointers Parquet file] -> PCollection[RecordPointer]."""

    def expand(self, files: beam.PCollection) -> beam.PCollection:
        return (
            files
            | "SpreadFilesOverWorkers" >> beam.Reshuffle()
            | "ReadPointerRows" >> beam.ParDo(ReadPointerFileFn())
        )


class RouteByFileFn(beam.DoFn):
    """A pointer to a file the lock lists goes to be fetched, keyed by the file's URL; any other is
    ``unknown`` (pointer, reason, detail) and never opened: a pointer dataset says which records, the lock where."""

    UNKNOWN = "unknown"

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls

    def process(self, pointer: RecordPointer):  # noqa: ANN201 - a DoFn generator
        url = self.urls.get(pointer.warc_path)
        if url is None:
            yield beam.pvalue.TaggedOutput(self.UNKNOWN, (pointer, UNKNOWN_FILE,
                                                          f"{pointer.warc_path} is not among the lock's inputs"))
        else:
            yield url, pointer
