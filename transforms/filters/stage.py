"""FilterDocuments: the quality rules in FineWeb's order, each drop counted under its reason.

URL blocklists, then language identification (which also fills ``language`` and
``language_score``), Gopher repetition, Gopher quality, C4 (whose line rules may shorten the
text) and FineWeb's rules. A sampled share of removed documents goes to the ``rejected`` output
with the reason, chosen by id so the same ones are kept every run.
"""

from dataclasses import dataclass, replace

import apache_beam as beam

from transforms import reasons
from transforms.counting import StageCounters
from transforms.filters.c4 import C4Params, c4_clean
from transforms.filters.fineweb_quality import FineWebQualityParams, fineweb_quality
from transforms.filters.gopher_quality import GopherQualityParams, gopher_quality
from transforms.filters.gopher_repetition import GopherRepetitionParams, gopher_repetition
from transforms.filters.language import LanguageIdentifier, language_reason
from transforms.filters.url_filter import Blocklists, url_reason
from transforms.records import Document, RejectedDocument
from transforms.text_normalize import exact_dedup_key, text_sha256

REJECTED = "rejected"
KEPT = "kept"


@dataclass(frozen=True)
class LanguageRule:
    keep: tuple[str, ...]
    min_score: float
    max_chars: int


@dataclass(frozen=True)
class UrlLists:
    domains: tuple[str, ...]
    urls: tuple[str, ...]
    words: tuple[str, ...]
    subwords: tuple[str, ...]

    def load(self) -> Blocklists:
        return Blocklists.load(list(self.domains), list(self.urls), list(self.words), list(self.subwords))


@dataclass(frozen=True)
class FilterSettings:
    url: UrlLists | None = None
    language: LanguageRule | None = None
    gopher_repetition: GopherRepetitionParams | None = None
    gopher_quality: GopherQualityParams | None = None
    c4: C4Params | None = None
    fineweb: FineWebQualityParams | None = None
    rejected_sample_rate: float = 0.0


def sampled(doc_id: str, rate: float) -> bool:
    """The same documents every run: the id is a hash, so its first 32 bits are uniform."""
    return rate > 0 and int(doc_id[:8], 16) < rate * 2**32


def with_text(doc: Document, text: str) -> Document:
    return replace(doc, text=text, text_sha256=text_sha256(text), dedup_key=exact_dedup_key(text))


class FilterDocumentsFn(beam.DoFn):
    def __init__(self, settings: FilterSettings) -> None:
        self.settings = settings

    def setup(self) -> None:
        self.counters = StageCounters(reasons.FILTER)
        self.line_counters = StageCounters(reasons.C4_LINES)
        self.blocklists = self.settings.url.load() if self.settings.url else None
        rule = self.settings.language
        self.identifier = LanguageIdentifier(rule.max_chars) if rule else None

    def decide(self, doc: Document) -> tuple[str | None, Document]:
        s = self.settings
        if self.blocklists is not None and (reason := url_reason(doc.provenance.url, self.blocklists)):
            return reason, doc
        if self.identifier is not None:
            language, score = self.identifier.predict(doc.text)
            doc = replace(doc, language=language, language_score=score)
            if reason := language_reason(language, score, s.language.keep, s.language.min_score):
                return reason, doc
        if s.gopher_repetition and (reason := gopher_repetition(doc.text, s.gopher_repetition)):
            return reason, doc
        if s.gopher_quality and (reason := gopher_quality(doc.text, s.gopher_quality)):
            return reason, doc
        if s.c4:
            reason, cleaned, dropped_lines = c4_clean(doc.text, s.c4)
            for line_reason, count in dropped_lines.items():
                self.line_counters.inc(line_reason, count)
            if reason:
                return reason, doc
            if cleaned != doc.text:
                doc = with_text(doc, cleaned)
        if s.fineweb and (reason := fineweb_quality(doc.text, s.fineweb)):
            return reason, doc
        return None, doc

    def process(self, doc: Document):  # noqa: ANN201 - a DoFn generator
        self.counters.inc(reasons.IN)
        reason, doc = self.decide(doc)
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
