"""The texts that reach the quality rules: a recipe's own extraction, then its URL and language rules.

Extraction is the pipeline's (``ExtractTextFn`` with the recipe's extract settings), so a change of
extractor in the recipe or in the stage changes these texts too; nothing here names an extractor.
"""

from dataclasses import dataclass, replace
from pathlib import Path

from beam_jobs.pipeline import extract_settings, filter_settings
from beam_jobs.recipe import load_recipe
from bench.corpus import html_pages
from transforms.common.records import Document, PageRecord
from transforms.extraction.page_text import make_document
from transforms.extraction.stage import ExtractTextFn
from transforms.filters.quality_rules import QualityRules


@dataclass(frozen=True)
class FilterInput:
    document: Document  # as extracted, with the language the recipe's model gives it
    passes_language: bool  # kept by the recipe's URL and language rules: the text the quality rules see

    @property
    def url(self) -> str:
        return self.document.provenance.url

    @property
    def text(self) -> str:
        return self.document.text


def extracted_documents(recipe_path: Path) -> tuple[list[Document], str]:
    """Every page's document as the recipe extracts it (pages with no text left out), and the input's name."""
    pages, described = html_pages()
    return extract_pages(recipe_path, pages), described


def extract_pages(recipe_path: Path, pages: list[PageRecord]) -> list[Document]:
    extractor = ExtractTextFn(extract_settings(load_recipe(recipe_path)))
    extractor.setup()
    try:
        documents = [_document(extractor, page) for page in pages]
    finally:
        extractor.teardown()
    return [d for d in documents if d is not None]


def _document(extractor: ExtractTextFn, page: PageRecord) -> Document | None:
    try:
        text, charset = extractor.extract(page)
    except Exception:  # the stage sends such a page to dead_letter; it never reaches the rules
        return None
    return make_document(page, text, charset) if text else None


def filter_inputs(recipe_path: Path) -> tuple[list[FilterInput], str]:
    """Each extracted document with the language the recipe's model gives it and whether the recipe's URL
    and language rules keep it."""
    documents, described = extracted_documents(recipe_path)
    settings = filter_settings(load_recipe(recipe_path))
    gate = QualityRules(replace(settings, gopher_repetition=None, gopher_quality=None, c4=None, fineweb=None))
    out = []
    for doc in documents:
        reason, annotated, _ = gate.decide(doc)
        out.append(FilterInput(annotated, reason is None))
    return out, described
