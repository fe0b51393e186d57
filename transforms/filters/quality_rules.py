"""The quality rules in FineWeb's order, applied to one document: which rule drops it, if any.

URL blocklists, then language identification (which also fills ``language`` and
``language_score``), Gopher repetition, Gopher quality, C4 (whose line rules may shorten the
text, so ``text_sha256`` follows the new text) and FineWeb's rules, which read the text C4 kept, as
in datatrove's FineWeb pipeline. Each rule is off unless its settings are given. The first rule that
returns a reason decides; later rules are not run.
"""

from dataclasses import dataclass, replace

from transforms.common.ids import text_sha256
from transforms.common.records import Document
from transforms.filters.c4 import C4Params, c4_clean
from transforms.filters.fineweb_quality import FineWebQualityParams, fineweb_quality
from transforms.filters.gopher_quality import GopherQualityParams, gopher_quality
from transforms.filters.gopher_repetition import GopherRepetitionParams, gopher_repetition
from transforms.filters.language import LanguageIdentifier, language_reason
from transforms.filters.url_filter import Blocklists, url_reason

# What the Gopher, C4 and FineWeb rules decide as: a recipe switching any of them on builds another
# dataset when this changes, so it is part of the build digest and the manifest. Until warcforge
# 0.2.0 the rules were warcforge's own reading of the papers (white-space words, every copy of a
# repeated n-gram counted); a dataset built with them does not rebuild with these.
QUALITY_RULES = "datatrove-0.10.1"


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
    return replace(doc, text=text, text_sha256=text_sha256(text))


class QualityRules:
    """The rules a recipe switches on, with their lists and model loaded (once per worker)."""

    def __init__(self, settings: FilterSettings) -> None:
        self.settings = settings
        self.blocklists = settings.url.load() if settings.url else None
        self.identifier = LanguageIdentifier(settings.language.max_chars) if settings.language else None

    def decide(self, doc: Document) -> tuple[str | None, Document, dict[str, int]]:
        """(the reason the document is dropped or None, the document as kept, lines C4 removed per rule)."""
        s = self.settings
        if self.blocklists is not None and (reason := url_reason(doc.provenance.url, self.blocklists)):
            return reason, doc, {}
        if self.identifier is not None:
            language, score = self.identifier.predict(doc.text)
            doc = replace(doc, language=language, language_score=score)
            if reason := language_reason(language, score, s.language.keep, s.language.min_score):
                return reason, doc, {}
        if s.gopher_repetition and (reason := gopher_repetition(doc.text, s.gopher_repetition)):
            return reason, doc, {}
        if s.gopher_quality and (reason := gopher_quality(doc.text, s.gopher_quality)):
            return reason, doc, {}
        dropped_lines: dict[str, int] = {}
        if s.c4:
            reason, cleaned, dropped_lines = c4_clean(doc.text, s.c4)
            if reason:
                return reason, doc, dropped_lines
            if cleaned != doc.text:
                doc = with_text(doc, cleaned)
        if s.fineweb and (reason := fineweb_quality(doc.text, s.fineweb)):
            return reason, doc, dropped_lines
        return None, doc, dropped_lines
