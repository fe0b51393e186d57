"""Whether warcforge's quality rules decide as datatrove 0.10.1's do, on the real pages.

Texts: the real pages extracted as configs/fineweb-like.yaml extracts them (its extractor, whichever
it is), in two sets: the documents its URL and language rules keep (English at 0.65: the texts the
quality rules see in that recipe), and every extracted document whatever its language (datatrove's
filters run on any text). warcforge's Gopher repetition, Gopher quality, C4 and FineWeb rules, with
the recipe's settings, against datatrove's GopherRepetitionFilter, GopherQualityFilter,
C4QualityFilter(filter_no_terminal_punct=False) and FineWebQualityFilter (bench/datatrove_reference.py
runs them in their own environment). Compared: each rule alone on the same text (keep or drop); the
document, the four in FineWeb's order with C4's kept lines feeding FineWeb's rule (warcforge's
``QualityRules``, as the pipeline runs it); the first rule that drops it; the words (spaCy's against
``word_tokens``); and CPU time per document. Writes docs/BENCH-FILTER-PARITY.md.
"""

import collections
import platform
import re
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from beam_jobs.pipeline import extract_settings, filter_settings  # noqa: E402
from beam_jobs.recipe import load_recipe  # noqa: E402
from bench.datatrove_reference import FILTERS, reference_python, reference_verdicts, versions  # noqa: E402
from bench.filter_inputs import FilterInput, filter_inputs  # noqa: E402
from bench.report import write_report  # noqa: E402
from transforms.filters import gopher_quality as gopher_quality_module  # noqa: E402
from transforms.filters import sentences  # noqa: E402
from transforms.filters.c4 import c4_clean  # noqa: E402
from transforms.filters.fineweb_quality import fineweb_quality  # noqa: E402
from transforms.filters.gopher_quality import gopher_quality  # noqa: E402
from transforms.filters.gopher_repetition import gopher_repetition  # noqa: E402
from transforms.filters.quality_rules import FilterSettings, QualityRules  # noqa: E402
from transforms.filters.word_tokens import cached_piece_tokens, word_tokens  # noqa: E402

RECIPE = REPO / "configs" / "fineweb-like.yaml"
OUT = REPO / "docs" / "BENCH-FILTER-PARITY.md"
REPEATS = 3
# datatrove's drop reasons under warcforge's names (its n-gram reasons are matched below).
REASONS = {
    "dup_para_frac": "gopher_dup_paragraphs", "dup_para_char_frac": "gopher_dup_paragraph_chars",
    "dup_line_frac": "gopher_dup_lines", "dup_line_char_frac": "gopher_dup_line_chars",
    "gopher_short_doc": "gopher_too_few_words", "gopher_long_doc": "gopher_too_many_words",
    "gopher_below_avg_threshold": "gopher_short_words", "gopher_above_avg_threshold": "gopher_long_words",
    "gopher_too_many_hashes": "gopher_symbol_ratio", "gopher_too_many_ellipsis": "gopher_symbol_ratio",
    "gopher_too_many_bullets": "gopher_bullet_lines", "gopher_too_many_end_ellipsis": "gopher_ellipsis_lines",
    "gopher_below_alpha_threshold": "gopher_non_alpha_words", "gopher_enough_stop_words": "gopher_stop_words",
    "lorem_ipsum": "c4_lorem_ipsum", "curly_bracket": "c4_curly_bracket", "too_few_sentences": "c4_too_few_sentences",
    "line_punct_ratio": "fineweb_terminal_punctuation", "short_line_ratio": "fineweb_short_lines",
    "char_dup_ratio": "fineweb_dup_line_chars", "list_ratio": "fineweb_newline_ratio",
}


def warcforge_reason(reference_reason: str | None, rule: str) -> str | None:
    if reference_reason is None:
        return None
    if found := re.fullmatch(r"top_(\d+)_gram", reference_reason):
        return f"gopher_top_{found[1]}gram"
    if found := re.fullmatch(r"duplicated_(\d+)_n_grams", reference_reason):
        return f"gopher_dup_{found[1]}gram"
    if reference_reason == "empty":
        return "fineweb_terminal_punctuation" if rule == "fineweb_quality" else "empty"
    return REASONS.get(reference_reason, reference_reason)


def rule_of(reason: str | None) -> str | None:
    if reason is None:
        return None
    if reason.startswith(("gopher_dup_", "gopher_top_")):
        return "gopher_repetition"
    return {"gopher": "gopher_quality", "c4": "c4", "fineweb": "fineweb_quality"}[reason.split("_")[0]]


@dataclass(frozen=True)
class Verdicts:
    """One side's answers for one document: each rule's reason on the text (None: kept), and the first
    rule and reason when they run in order."""

    each: dict[str, str | None]
    first_rule: str | None
    first_reason: str | None


def four_rules(settings: FilterSettings) -> FilterSettings:
    return replace(settings, url=None, language=None, rejected_sample_rate=0.0)


def each_rule(text: str, s: FilterSettings) -> dict[str, str | None]:
    return {"gopher_repetition": gopher_repetition(text, s.gopher_repetition),
            "gopher_quality": gopher_quality(text, s.gopher_quality),
            "c4": c4_clean(text, s.c4)[0],
            "fineweb_quality": fineweb_quality(text, s.fineweb)}


def ours(item: FilterInput, rules: QualityRules) -> Verdicts:
    reason = rules.decide(item.document)[0]
    return Verdicts(each_rule(item.text, rules.settings), rule_of(reason), reason)


def theirs(answer: dict) -> Verdicts:
    each = {rule: None if kept else warcforge_reason(why, rule) or "dropped"
            for rule, (kept, why) in answer["each"].items()}
    rule, why = answer["first"] or (None, None)
    return Verdicts(each, rule, warcforge_reason(why, rule) if rule else None)


def clear_caches() -> None:
    """Forget every piece, word and line the rules have cut, for a first pass as a fresh worker sees it."""
    for cached in (cached_piece_tokens, word_tokens, gopher_quality_module._kind, sentences._piece_breaks):
        cached.cache_clear()


def cpu_ms(work, items: list) -> float:  # noqa: ANN001 - any callable of one item
    started = time.process_time()
    for item in items:
        work(item)
    return (time.process_time() - started) / max(1, len(items)) * 1e3


def our_costs(items: list[FilterInput], rules: QualityRules) -> dict[str, float]:
    """CPU ms per document: a first pass with empty caches, then the best of REPEATS passes."""
    def in_order(item: FilterInput) -> None:
        rules.decide(item.document)

    def each(item: FilterInput) -> None:
        each_rule(item.text, rules.settings)

    clear_caches()
    first = {"in_order_first": cpu_ms(in_order, items)}
    clear_caches()
    first["each_first"] = cpu_ms(each, items)
    return {**first, "in_order": min(cpu_ms(in_order, items) for _ in range(REPEATS)),
            "each": min(cpu_ms(each, items) for _ in range(REPEATS))}


@dataclass(frozen=True)
class Comparison:
    name: str
    documents: int
    rule_agreement: dict[str, tuple[int, int, int]]  # rule: (agree, warcforge drops, datatrove drops)
    confusion: dict[tuple[bool, bool], int]  # (warcforge keeps, datatrove keeps): documents
    same_first_rule: int
    same_first_reason: int
    disagreements: list[tuple[str, str, str, str]]  # url, rule or "document", warcforge's, datatrove's
    words_equal: int
    words_total: int
    words_differing: int


def _shown(reason: str | None) -> str:
    return "kept" if reason is None else reason


def compare(name: str, items: list[FilterInput], mine: list[Verdicts], reference: list[Verdicts],
            words: list[list[str]]) -> Comparison:
    rule_agreement = {}
    disagreements = []
    for rule in FILTERS:
        agree = sum((m.each[rule] is None) == (r.each[rule] is None) for m, r in zip(mine, reference, strict=True))
        rule_agreement[rule] = (agree, sum(m.each[rule] is not None for m in mine),
                                sum(r.each[rule] is not None for r in reference))
    confusion = collections.Counter((m.first_rule is None, r.first_rule is None)
                                    for m, r in zip(mine, reference, strict=True))
    for item, m, r in zip(items, mine, reference, strict=True):
        for rule in FILTERS:
            if (m.each[rule] is None) != (r.each[rule] is None):
                disagreements.append((item.url, rule, _shown(m.each[rule]), _shown(r.each[rule])))
        if m.first_rule != r.first_rule:
            disagreements.append((item.url, "document (first rule)", _shown(m.first_reason), _shown(r.first_reason)))
    differing = 0
    equal = 0
    for item, theirs_words in zip(items, words, strict=True):
        ours_words = list(word_tokens(item.text))
        if ours_words == theirs_words:
            equal += 1
        else:
            a, b = collections.Counter(ours_words), collections.Counter(theirs_words)
            differing += sum(((a - b) + (b - a)).values())
    return Comparison(
        name, len(items), rule_agreement, dict(confusion),
        sum(m.first_rule == r.first_rule for m, r in zip(mine, reference, strict=True)),
        sum(m.first_reason == r.first_reason for m, r in zip(mine, reference, strict=True)),
        disagreements, equal, sum(map(len, words)), differing)


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def section(c: Comparison) -> list[str]:
    n = c.documents
    kept_same = c.confusion.get((True, True), 0) + c.confusion.get((False, False), 0)
    lines = [
        f"## {c.name}: {n} documents",
        "",
        "| rule (alone, on the same text) | warcforge drops | datatrove drops | keep/drop agree |",
        "|---|---:|---:|---:|",
        *[f"| {rule} | {ours_} | {theirs_} | {agree} ({_pct(agree, n)}) |"
          for rule, (agree, ours_, theirs_) in c.rule_agreement.items()],
        "",
        f"Document kept by all four (in FineWeb's order, FineWeb's rule reading C4's text): agree on "
        f"{kept_same} of {n} ({_pct(kept_same, n)}). First rule that drops it: the same on {c.same_first_rule} "
        f"({_pct(c.same_first_rule, n)}); the same rule and reason on {c.same_first_reason} "
        f"({_pct(c.same_first_reason, n)}).",
        "",
        "| | datatrove keeps | datatrove drops |",
        "|---|---:|---:|",
        f"| warcforge keeps | {c.confusion.get((True, True), 0)} | {c.confusion.get((True, False), 0)} |",
        f"| warcforge drops | {c.confusion.get((False, True), 0)} | {c.confusion.get((False, False), 0)} |",
        "",
        f"Words: warcforge's list equals spaCy's exactly in {c.words_equal} of {n} documents "
        f"({_pct(c.words_equal, n)}); {c.words_differing} words differ (in one list and not the other) "
        f"of {c.words_total} ({c.words_differing / max(1, c.words_total):.4%}).",
        "",
    ]
    if c.disagreements:
        lines += ["| document | rule | warcforge | datatrove |", "|---|---|---|---|",
                  *[f"| {url} | {rule} | {a} | {b} |" for url, rule, a, b in c.disagreements], ""]
    else:
        lines += ["No document where the two disagree.", ""]
    return lines


def distinct_pieces(items: list[FilterInput]) -> int:
    return len({piece for item in items for piece in item.text.split()})


def main() -> int:
    recipe = load_recipe(RECIPE)
    items, described = filter_inputs(RECIPE)
    english = [i for i, item in enumerate(items) if item.passes_language]
    rules = QualityRules(four_rules(filter_settings(recipe)))
    print(f"{len(items)} documents, {len(english)} kept by the recipe's URL and language rules", flush=True)
    python = reference_python()
    started = time.perf_counter()
    answers = reference_verdicts([item.text for item in items])
    print(f"datatrove: {time.perf_counter() - started:.0f} s", flush=True)
    reference = [theirs(a) for a in answers]
    mine = [ours(item, rules) for item in items]
    words = [a["words"] for a in answers]

    def pick(seq: list, which: list[int]) -> list:
        return [seq[i] for i in which]

    comparisons = [
        compare("English (the recipe's URL and language rules)", pick(items, english), pick(mine, english),
                pick(reference, english), pick(words, english)),
        compare("Every extracted document, any language", items, mine, reference, words),
    ]
    costs = {"English": (our_costs(pick(items, english), rules), pick(answers, english)),
             "every document": (our_costs(items, rules), answers)}
    found = versions(python)
    lines = [
        "# Quality rules against datatrove",
        "",
        f"Input: {described}, extracted as `configs/fineweb-like.yaml` extracts them (extractor: "
        f"`{extract_settings(recipe).extractor}`): {len(items)} documents with text, {len(english)} of them kept "
        f"by its URL and language rules. warcforge's rules with the recipe's settings against datatrove "
        f"{found['datatrove']} (spaCy {found['spacy']}): GopherRepetitionFilter, GopherQualityFilter, "
        f"C4QualityFilter(filter_no_terminal_punct=False), FineWebQualityFilter. Produced by `make bench` "
        f"(bench/filter_parity.py; datatrove runs in its own environment, bench/datatrove_reference.py).",
        "",
    ]
    for c in comparisons:
        lines += section(c)
    lines += [
        "## CPU per document",
        "",
        f"One core of {platform.machine()}, Python {platform.python_version()}. warcforge: a first pass with its "
        f"caches empty (as a fresh worker starts), then the best of {REPEATS} passes (the caches warm). datatrove: "
        "one pass, spaCy loaded beforehand, its word cache cleared before each way of running. warcforge's cache "
        f"holds {cached_piece_tokens.cache_info().maxsize:,} white-space pieces of up to 64 characters: the English "
        "documents have "
        f"{distinct_pieces(pick(items, english)):,} distinct ones, every document {distinct_pieces(items):,}, so "
        "a pass over all of them stays partly cold.",
        "",
        "| documents | the four rules | warcforge, first pass | warcforge, warm | datatrove |",
        "|---|---|---:|---:|---:|",
    ]
    for name, (ours_cost, answers_) in costs.items():
        in_order = sum(a["in_order_s"] for a in answers_) / max(1, len(answers_)) * 1e3
        each = sum(a["each_s"] for a in answers_) / max(1, len(answers_)) * 1e3
        lines += [f"| {name} | in order, stopping at the first drop | {ours_cost['in_order_first']:.2f} ms | "
                  f"{ours_cost['in_order']:.2f} ms | {in_order:.1f} ms |",
                  f"| {name} | each on every text | {ours_cost['each_first']:.2f} ms | {ours_cost['each']:.2f} ms | "
                  f"{each:.1f} ms |"]
    lines += [
        "",
        "Known differences kept: letters are Python's (`str.isalpha`), where spaCy lists the letters of the scripts "
        "it knows (a hyphen or comma between letters of other scripts, Bopomofo or Bengali digits, is cut by one "
        "and not the other); spaCy's emoticon list is shortened to common ones; n-gram copies are found by their "
        "words, where datatrove compares the words run together (\"ab c\" equals \"a bc\" there, not here); "
        "a white-space token inside a line (two spaces, a tab) does not start a C4 sentence here.",
        "",
    ]
    write_report(OUT, lines)
    for c in comparisons:
        kept_same = c.confusion.get((True, True), 0) + c.confusion.get((False, False), 0)
        print(f"{c.name}: documents agree {kept_same}/{c.documents}, first rule {c.same_first_rule}/{c.documents}, "
              f"words equal {c.words_equal}/{c.documents}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
