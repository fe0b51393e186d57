"""A page's text and the document made from it: the extraction rules the Beam stage applies.

WET conversion records already hold text and are only tidied; HTML goes through the extractor.
A document's id comes from the record (``transforms.common.ids``), never from the worker.
"""

from resiliparse.parse.encoding import bytes_to_str

from transforms.common.ids import document_id, text_sha256
from transforms.common.records import Document, PageRecord
from transforms.extraction.html_text import ExtractOptions, html_to_text, pruned_html_to_text, tidy_lines

PRUNED = "resiliparse_pruned"
RESILIPARSE = "resiliparse"
TRAFILATURA = "trafilatura"
# What a recipe may name in extract.extractor; the first is the default. Renaming one, or changing
# the text one gives, changes the bytes of every dataset whose recipe names it.
EXTRACTORS = (PRUNED, RESILIPARSE, TRAFILATURA)
_IN_PROCESS = {PRUNED: pruned_html_to_text, RESILIPARSE: html_to_text}


def page_to_text(page: PageRecord, options: ExtractOptions, extractor: str = PRUNED) -> tuple[str, str]:
    """(text, charset) by ``extractor`` (``resiliparse_pruned`` or ``resiliparse``; trafilatura runs in
    a child process, see ``stage``)."""
    if page.is_plain_text:
        return tidy_lines(bytes_to_str(page.payload, "utf-8")), "utf-8"
    return _IN_PROCESS[extractor](page.payload, page.declared_charset, options)


def make_document(page: PageRecord, text: str, charset: str) -> Document:
    prov = page.provenance
    return Document(
        id=document_id(prov.warc_record_id, prov.url, prov.warc_date, prov.payload_digest),
        text=text,
        provenance=prov,
        content_type=page.content_type,
        charset=charset,
        text_sha256=text_sha256(text),
        truncated=page.truncated,
    )
