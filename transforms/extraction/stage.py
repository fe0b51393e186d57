"""ExtractText: HTML pages in, documents with main-content text and stable ids out.

WET conversion records already hold text and are taken as they are. A page whose extraction
raises goes to the ``dead_letter`` output; a page with no text is counted as ``empty_text``.
"""

from dataclasses import dataclass

import apache_beam as beam

from transforms.common import reasons
from transforms.common.records import PageRecord, Rejected
from transforms.common.stage import StageClock, StageCounters, settle_heap
from transforms.extraction.html_text import ExtractOptions
from transforms.extraction.page_text import PRUNED, TRAFILATURA, make_document, page_to_text
from transforms.extraction.time_limited import CallTimedOut, TimeLimitedWorker

DEAD_LETTER = "dead_letter"
DOCUMENTS = "documents"


@dataclass(frozen=True)
class ExtractSettings:
    options: ExtractOptions = ExtractOptions()
    extractor: str = PRUNED
    timeout_s: float = 10.0


TRAFILATURA_CALL = "transforms.extraction.trafilatura_text:trafilatura_to_text"


class ExtractTextFn(beam.DoFn):
    def __init__(self, settings: ExtractSettings) -> None:
        self.settings = settings

    def setup(self) -> None:
        self.counters = StageCounters(reasons.EXTRACT)
        self.progress = StageCounters(reasons.PROGRESS)
        self.clock = StageClock(self.progress, reasons.EXTRACT)
        self.worker = TimeLimitedWorker(TRAFILATURA_CALL) if self.settings.extractor == TRAFILATURA else None
        if self.worker is not None:
            self.worker.start()  # trafilatura loads here, not in the first page's time limit
        settle_heap()  # extraction makes most of a worker's garbage

    def teardown(self) -> None:
        self.progress.flush()
        if self.worker is not None:
            self.worker.stop()

    def extract(self, page: PageRecord) -> tuple[str, str]:
        if self.worker is None or page.is_plain_text:
            return page_to_text(page, self.settings.options, self.settings.extractor)
        return tuple(self.worker.call((page.payload, page.declared_charset), self.settings.timeout_s))

    def process(self, page: PageRecord):  # noqa: ANN201 - a DoFn generator
        self.counters.inc(reasons.IN)
        try:
            with self.clock:
                text, charset = self.extract(page)
        except CallTimedOut as exc:
            self.counters.inc(reasons.EXTRACT_TIMEOUT)
            yield beam.pvalue.TaggedOutput(
                DEAD_LETTER, Rejected(reasons.EXTRACT, reasons.EXTRACT_TIMEOUT, page.provenance, str(exc)))
            return
        except Exception as exc:  # one pathological page must not fail its shard
            self.counters.inc(reasons.EXTRACT_ERROR)
            detail = f"{type(exc).__name__}: {exc}"
            yield beam.pvalue.TaggedOutput(
                DEAD_LETTER, Rejected(reasons.EXTRACT, reasons.EXTRACT_ERROR, page.provenance, detail)
            )
            return
        if not text:
            self.counters.inc(reasons.EMPTY_TEXT)
            return
        self.counters.inc(reasons.OUT)
        yield make_document(page, text, charset)


class ExtractText(beam.PTransform):
    """PCollection[PageRecord] -> outputs ``documents`` (Document) and ``dead_letter`` (Rejected)."""

    def __init__(self, settings: ExtractSettings) -> None:
        super().__init__()
        self.settings = settings

    def expand(self, pages: beam.PCollection):  # noqa: ANN201 - Beam reads this hint; a tuple of outputs has none
        return pages | "ExtractMainText" >> beam.ParDo(ExtractTextFn(self.settings)).with_outputs(
            DEAD_LETTER, main=DOCUMENTS
        )
