"""ExtractText: HTML pages in, documents with main-content text and stable ids out.

WET conversion records already hold text and are taken as they are. A page whose extraction
raises goes to the ``dead_letter`` output; a page with no text is counted as ``empty_text``.
"""

import apache_beam as beam
from resiliparse.parse.encoding import bytes_to_str

from transforms import reasons
from transforms.counting import StageCounters
from transforms.doc_id import document_id
from transforms.html_text import ExtractOptions, html_to_text, tidy_lines
from transforms.records import Document, PageRecord, Rejected
from transforms.text_normalize import exact_dedup_key, text_sha256

DEAD_LETTER = "dead_letter"
DOCUMENTS = "documents"


def page_to_text(page: PageRecord, options: ExtractOptions) -> tuple[str, str]:
    if page.is_plain_text:
        return tidy_lines(bytes_to_str(page.payload, "utf-8")), "utf-8"
    return html_to_text(page.payload, page.declared_charset, options)


def make_document(page: PageRecord, text: str, charset: str) -> Document:
    prov = page.provenance
    return Document(
        id=document_id(prov.warc_record_id, prov.url, prov.warc_date, prov.payload_digest),
        text=text,
        provenance=prov,
        content_type=page.content_type,
        charset=charset,
        text_sha256=text_sha256(text),
        dedup_key=exact_dedup_key(text),
        truncated=page.truncated,
    )


class ExtractTextFn(beam.DoFn):
    def __init__(self, options: ExtractOptions) -> None:
        self.options = options

    def setup(self) -> None:
        self.counters = StageCounters(reasons.EXTRACT)

    def process(self, page: PageRecord):  # noqa: ANN201 - a DoFn generator
        self.counters.inc(reasons.IN)
        try:
            text, charset = page_to_text(page, self.options)
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

    def __init__(self, options: ExtractOptions) -> None:
        super().__init__()
        self.options = options

    def expand(self, pages: beam.PCollection):  # noqa: ANN201 - Beam reads this hint; a tuple of outputs has none
        return pages | "ExtractMainText" >> beam.ParDo(ExtractTextFn(self.options)).with_outputs(
            DEAD_LETTER, main=DOCUMENTS
        )
