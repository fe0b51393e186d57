"""How good each extractor's main text is, and what it costs, on real pages with references.

Two reference sets:
- ../shared/data/real-html/trafilatura_annotations.jsonl: for 990 real pages, snippets the main
  text must hold and snippets it must not. Reported: the share of must-hold snippets found and the
  share of must-not snippets kept (white space collapsed on both sides before matching).
- Zyte's article-extraction benchmark (181 news and blog pages with hand-made article bodies; MIT,
  https://github.com/scrapinghub/article-extraction-benchmark), when a copy lies at
  $WARCFORGE_ARTICLE_BENCH or ../article-extraction-benchmark (ground-truth.json and html/). Scored
  as that benchmark scores: word 4-gram shingles, precision and recall per page, averaged over
  pages, F1 of the averages.

CPU milliseconds per page are measured in the same run for every extractor, over the same pages,
best of REPEATS; resiliparse as it comes is the floor the others are compared with. Writes
docs/BENCH-EXTRACTION.md.
"""

import gzip
import json
import os
import platform
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.corpus import html_pages  # noqa: E402
from bench.report import write_report  # noqa: E402
from transforms.extraction.html_text import ExtractOptions, html_to_text, pruned_html_to_text  # noqa: E402
from transforms.extraction.trafilatura_text import trafilatura_to_text  # noqa: E402

OUT = REPO / "docs" / "BENCH-EXTRACTION.md"
ANNOTATIONS = REPO.parent / "shared" / "data" / "real-html" / "trafilatura_annotations.jsonl"
OWN_ANNOTATIONS = REPO / "bench" / "data" / "warcforge_annotations.jsonl"  # written by us, see its README
ARTICLE_BENCH = Path(os.environ.get("WARCFORGE_ARTICLE_BENCH", REPO.parent / "article-extraction-benchmark"))
REPEATS = 5
OPTIONS = ExtractOptions()
EXTRACTORS: dict[str, Callable[[bytes, str | None], str]] = {
    "resiliparse (floor; the default until warcforge 0.2.0)": lambda p, c: html_to_text(p, c, OPTIONS)[0],
    "resiliparse_pruned (the default)": lambda p, c: pruned_html_to_text(p, c, OPTIONS)[0],
    "trafilatura": lambda p, c: trafilatura_to_text(p, c)[0],
}
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def annotated_pages(annotations: Path = ANNOTATIONS) -> list[tuple[bytes, str | None, list[str], list[str]]]:
    pages = {p.provenance.warc_record_id: p for p in html_pages()[0]}
    out = []
    for line in annotations.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        page = pages[row["warc_record_id"]]
        out.append((page.payload, page.declared_charset, row["with"], row["without"]))
    return out


def article_pages() -> list[tuple[bytes, None, str]]:
    truth = json.loads((ARTICLE_BENCH / "ground-truth.json").read_text(encoding="utf-8"))
    return [(gzip.decompress((ARTICLE_BENCH / "html" / f"{key}.html.gz").read_bytes()), None, row["articleBody"])
            for key, row in sorted(truth.items())]


def timed_texts(pages: list) -> dict[str, tuple[list[str], float]]:
    """{extractor: (texts of every page, best CPU ms per page)}. The extractors take turns within each
    of REPEATS rounds, so that a busy moment on the machine falls on all of them alike."""
    best = dict.fromkeys(EXTRACTORS, float("inf"))
    texts: dict[str, list[str]] = {}
    for _ in range(REPEATS):
        for name, extract in EXTRACTORS.items():
            started = time.process_time()
            texts[name] = [extract(page[0], page[1]) for page in pages]
            best[name] = min(best[name], time.process_time() - started)
    return {name: (texts[name], best[name] * 1000 / len(pages)) for name in EXTRACTORS}


def snippet_scores(texts: list[str], pages: list) -> tuple[float, float]:
    found = held = kept = unwanted = 0
    for text, (_, _, must, must_not) in zip(texts, pages, strict=True):
        flat = collapse(text)
        found += sum(collapse(s) in flat for s in must)
        held += len(must)
        kept += sum(collapse(s) in flat for s in must_not)
        unwanted += len(must_not)
    return found / held, kept / unwanted


def _shingles(text: str, n: int = 4) -> Counter:
    words = _WORD.findall(text)
    return Counter(tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1)) if words[i:i + n])


def shingle_scores(texts: list[str], pages: list) -> tuple[float, float, float]:
    """F1, precision, recall as the article-extraction benchmark computes them."""
    precisions, recalls = [], []
    for text, (_, _, body) in zip(texts, pages, strict=True):
        truth, predicted = _shingles(body), _shingles(text)
        tp, fp, fn = (sum((truth & predicted).values()), sum((predicted - truth).values()),
                      sum((truth - predicted).values()))
        if fp == fn == 0:
            precisions.append(1.0)
            recalls.append(1.0)
            continue
        if tp + fp:
            precisions.append(tp / (tp + fp))
        if tp + fn:
            recalls.append(tp / (tp + fn))
    precision, recall = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    return 2 * precision * recall / (precision + recall), precision, recall


SNIPPET_HEADER = ["| extractor | must-hold found | must-not kept | ms/page | CPU vs floor |",
                  "|---|---:|---:|---:|---:|"]
SHINGLE_HEADER = ["| extractor | F1 | precision | recall | ms/page | CPU vs floor |", "|---|---:|---:|---:|---:|---:|"]


def snippet_rows(pages: list) -> list[str]:
    results = timed_texts(pages)
    floor = next(iter(results.values()))[1]
    rows = []
    for name, (texts, ms) in results.items():
        found, kept = snippet_scores(texts, pages)
        rows.append(f"| {name} | {found:.1%} | {kept:.1%} | {ms:.2f} | {ms / floor:.2f}x |")
    return SNIPPET_HEADER + rows


def shingle_rows(pages: list) -> list[str]:
    results = timed_texts(pages)
    floor = next(iter(results.values()))[1]
    rows = []
    for name, (texts, ms) in results.items():
        f1, precision, recall = shingle_scores(texts, pages)
        rows.append(f"| {name} | {f1:.3f} | {precision:.3f} | {recall:.4f} | {ms:.2f} | {ms / floor:.2f}x |")
    return SHINGLE_HEADER + rows


def main() -> None:
    sets = []  # (title, what is measured, pages, how they are scored)
    if ANNOTATIONS.exists():
        sets.append(("Annotated real pages (../shared/data/real-html/, trafilatura's annotations)",
                     "Snippets from trafilatura's evaluation data: must-hold snippets found (higher is better) "
                     "and must-not snippets kept (lower is better).", annotated_pages(), snippet_rows))
        if OWN_ANNOTATIONS.exists():
            sets.append(("Annotated real pages (../shared/data/real-html/, warcforge's annotations)",
                         "Pages trafilatura's data leaves out, annotated by warcforge's developers from the "
                         "pages themselves, without looking at any extractor's output (bench/data/README.md); "
                         "not used to choose the rules.", annotated_pages(OWN_ANNOTATIONS), snippet_rows))
    if (ARTICLE_BENCH / "ground-truth.json").exists():
        sets.append(("Article-extraction benchmark (pages with hand-made reference bodies)",
                     "Word 4-gram shingles against the reference bodies, precision and recall averaged per page "
                     "(the benchmark's own scoring). The marker words were chosen by reading what pages of this "
                     "set and of trafilatura's annotations keep wrongly; no rule names a site.",
                     article_pages(), shingle_rows))
    if not sets:
        sys.exit("extraction_quality: neither ../shared's annotations nor the article benchmark is here")
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("resiliparse", "trafilatura", "lxml"))
    lines = [
        "# Extraction quality and cost",
        "",
        f"`make bench` (`bench/extraction_quality.py`), one core, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, {versions}. CPU time per page, best of {REPEATS} passes, the "
        "extractors taking turns in each; the ratio is to resiliparse as it comes (the floor: parsing and "
        "extracting, with nothing removed first).",
        "",
    ]
    for title, what, pages, rows in sets:
        print(f"extraction_quality: {title}: {len(pages)} pages", flush=True)
        lines += [f"## {title}: {len(pages)} pages", "", what, "", *rows(pages), ""]
    if not (ARTICLE_BENCH / "ground-truth.json").exists():
        lines += ["The article-extraction benchmark was not found: clone "
                  "https://github.com/scrapinghub/article-extraction-benchmark next to the repository "
                  "(or set WARCFORGE_ARTICLE_BENCH) to score F1 against its reference bodies.", ""]
    write_report(OUT, lines)


if __name__ == "__main__":
    main()
