"""What each quality rule costs per document, next to what extraction costs, on real pages.

Floor and reference, measured in the same run: extraction of the same pages as configs/fineweb-like.yaml
extracts them (its extractor, whichever it is). Then each rule on the extracted texts, alone, and
the whole FineWeb-like chain. Microseconds per document on one core. Writes docs/BENCH-FILTERS.md.
"""

import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from beam_jobs.pipeline import extract_settings, filter_settings  # noqa: E402
from beam_jobs.recipe import load_recipe  # noqa: E402
from bench.corpus import html_pages  # noqa: E402
from bench.filter_inputs import extract_pages  # noqa: E402
from bench.report import write_report  # noqa: E402
from transforms.common.records import PageRecord  # noqa: E402
from transforms.extraction.stage import ExtractTextFn  # noqa: E402
from transforms.extraction.trafilatura_text import trafilatura_to_text  # noqa: E402
from transforms.filters.c4 import C4Params, c4_clean  # noqa: E402
from transforms.filters.fineweb_quality import fineweb_quality  # noqa: E402
from transforms.filters.gopher_quality import gopher_quality  # noqa: E402
from transforms.filters.gopher_repetition import gopher_repetition  # noqa: E402
from transforms.filters.language import LanguageIdentifier  # noqa: E402
from transforms.filters.pii import redact_pii  # noqa: E402
from transforms.filters.quality_rules import QualityRules  # noqa: E402
from transforms.filters.url_filter import Blocklists, url_reason  # noqa: E402

OUT = REPO / "docs" / "BENCH-FILTERS.md"
RECIPE = REPO / "configs" / "fineweb-like.yaml"
REPEATS = 3


def per_doc_us(function, items) -> float:  # noqa: ANN001
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        for item in items:
            function(item)
        best = min(best, time.perf_counter() - started)
    return best / len(items) * 1e6


def _extract_or_none(extractor: ExtractTextFn, page: PageRecord) -> tuple[str, str] | None:
    try:
        return extractor.extract(page)
    except Exception:  # a page the stage sends to dead_letter still costs its time
        return None


def main() -> int:
    records, described = html_pages()
    recipe = load_recipe(RECIPE)
    documents = extract_pages(RECIPE, records)
    texts = [d.text for d in documents]
    extraction_settings = extract_settings(recipe)
    extractor = ExtractTextFn(extraction_settings)
    extractor.setup()
    blocklists = Blocklists.load(*[[str(REPO / "configs" / "blocklists" / f"example-{k}.txt")]
                                   for k in ("domains", "urls", "words", "subwords")])
    identifier = LanguageIdentifier()
    urls = [p.provenance.url for p in records]
    rows = [
        (f"extraction: {extraction_settings.extractor}, as fineweb-like.yaml extracts (reference)",
         per_doc_us(lambda p: _extract_or_none(extractor, p), records)),
        ("extraction: trafilatura (first 200 pages)",
         per_doc_us(lambda p: trafilatura_to_text(p.payload, p.declared_charset), records[:200])),
        ("url blocklists", per_doc_us(lambda u: url_reason(u, blocklists), urls)),
        ("language id (fastText lid.176, first 1,000 chars)", per_doc_us(identifier.predict, texts)),
        ("gopher repetition", per_doc_us(gopher_repetition, texts)),
        ("gopher quality", per_doc_us(gopher_quality, texts)),
        ("c4 (line and document rules)", per_doc_us(lambda t: c4_clean(t, C4Params()), texts)),
        ("fineweb quality", per_doc_us(fineweb_quality, texts)),
        ("pii replacement", per_doc_us(lambda t: redact_pii(t, "e", "i"), texts)),
    ]

    def chain(text: str) -> None:
        identifier.predict(text)
        gopher_repetition(text)
        gopher_quality(text)
        c4_clean(text)
        fineweb_quality(text)

    def four_rules(text: str) -> None:
        gopher_repetition(text)
        gopher_quality(text)
        fineweb_quality(c4_clean(text, C4Params(require_terminal_punctuation=False))[1])

    rows.append(("the four quality rules, each on every text (FineWeb on C4's lines)", per_doc_us(four_rules, texts)))
    rows.append(("rule chain, every rule on every text (worst case)", per_doc_us(chain, texts)))
    extractor.teardown()
    as_run = QualityRules(filter_settings(recipe))
    rows.append(("rule chain as the pipeline runs it (fineweb-like.yaml: stops at the first failing rule)",
                 per_doc_us(as_run.decide, documents)))
    extraction = rows[0][1]
    for label, us in rows:
        print(f"{label:<48} {us:9.1f} us/doc  {us / extraction:6.2f} x extraction", flush=True)
    chain_cost = max(rows[-1][1], rows[-2][1])
    lines = [
        "# Filter cost per document",
        "",
        f"Input: {described}: {len(records)} HTML pages, {len(texts)} non-empty texts. One core of "
        f"{platform.machine()}, Python {platform.python_version()}; best of {REPEATS} runs.",
        "Produced by `make bench` (bench/filter_cost.py); extraction is measured in the same run.",
        "",
        "| stage | µs per document | × extraction |",
        "|---|---:|---:|",
        *[f"| {label} | {us:.1f} | {us / extraction:.2f} |" for label, us in rows],
        "",
        f"The rule chain costs at most {chain_cost / extraction:.0%} of extraction"
        + (" (less than extraction itself)." if chain_cost < extraction else " (MORE than extraction)."),
        "",
    ]
    write_report(OUT, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
