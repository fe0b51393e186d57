"""The filter stage's Beam transforms: FilterDocuments (quality rules) and RedactPii.

FilterDocuments applies the recipe's quality rules in FineWeb's order (``quality_rules``) and
counts each drop under its reason. A sampled share of removed documents goes to the ``rejected``
output with the reason, chosen by id so the same ones are kept every run.

RedactPii replaces e-mail and public IPv4 addresses in the documents that are kept. It runs after
deduplication (as FineWeb does), so replacing text cannot make two documents equal;
``text_sha256`` is recomputed for the text as written.
"""

from dataclasses import replace

import apache_beam as beam

from transforms.common import reasons
from transforms.common.ids import text_sha256
from transforms.common.records import Document, RejectedDocument
from transforms.common.stage import StageClock, StageCounters
from transforms.filters.pii import redact_pii
from transforms.filters.quality_rules import FilterSettings, QualityRules, sampled

REJECTED = "rejected"
KEPT = "kept"


class FilterDocumentsFn(beam.DoFn):
    def __init__(self, settings: FilterSettings) -> None:
        self.settings = settings

    def setup(self) -> None:
        self.counters = StageCounters(reasons.FILTER)
        self.line_counters = StageCounters(reasons.C4_LINES)
        self.clock = StageClock(StageCounters(reasons.PROGRESS), reasons.FILTER)
        self.rules = QualityRules(self.settings)

    def process(self, doc: Document):  # noqa: ANN201 - a DoFn generator
        self.counters.inc(reasons.IN)
        with self.clock:
            reason, doc, dropped_lines = self.rules.decide(doc)
        for line_reason, count in dropped_lines.items():
            self.line_counters.inc(line_reason, count)
        if reason is None:
            self.counters.inc(reasons.OUT)
            yield doc
            return
        self.counters.inc(reason)
        if sampled(doc.id, self.settings.rejected_sample_rate):
            yield beam.pvalue.TaggedOutput(REJECTED, RejectedDocument(doc, reasons.FILTER, reason))


class FilterDocuments(beam.PTransform):
    """PCollection[Document] -> outputs ``kept`` (Document) and ``rejected`` (RejectedDocument)."""

    def __init__(self, settings: FilterSettings) -> None:
        super().__init__()
        self.settings = settings

    def expand(self, docs: beam.PCollection):  # noqa: ANN201 - Beam reads this hint; a tuple of outputs has none
        return docs | "ApplyQualityRules" >> beam.ParDo(FilterDocumentsFn(self.settings)).with_outputs(
            REJECTED, main=KEPT)


class RedactPiiFn(beam.DoFn):
    def __init__(self, email_placeholder: str, ip_placeholder: str) -> None:
        self.email_placeholder, self.ip_placeholder = email_placeholder, ip_placeholder

    def setup(self) -> None:
        self.counters = StageCounters(reasons.PII)

    def process(self, doc: Document):  # noqa: ANN201 - a DoFn generator
        text, emails, ips = redact_pii(doc.text, self.email_placeholder, self.ip_placeholder)
        if emails or ips:
            self.counters.inc("emails", emails)
            self.counters.inc("ips", ips)
            self.counters.inc("documents_changed")
            doc = replace(doc, text=text, text_sha256=text_sha256(text))
        yield doc


class RedactPii(beam.PTransform):
    def __init__(self, email_placeholder: str, ip_placeholder: str) -> None:
        super().__init__()
        self.email_placeholder, self.ip_placeholder = email_placeholder, ip_placeholder

    def expand(self, docs: beam.PCollection) -> beam.PCollection:
        return docs | "ReplaceEmailsAndIps" >> beam.ParDo(RedactPiiFn(self.email_placeholder, self.ip_placeholder))
