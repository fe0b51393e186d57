"""C4's cleaning rules (Raffel et al. 2020, section 2.2), as line rules then document rules.

Line rules drop a line that: holds a word longer than 1,000 characters; does not end in terminal
punctuation (switchable); has fewer than 3 words; mentions "javascript"; or carries a cookie /
terms-of-use / privacy-policy phrase. Citation markers such as ``[1]``, ``[edit]`` and
``[citation needed]`` are removed from lines first. Document rules drop a page that contains
"lorem ipsum" or a curly brace, or that keeps fewer than 5 sentences after the line rules.
Sentences are counted as runs of text ending in ``.``, ``!`` or ``?`` (C4 used NLTK's tokenizer).
"""

import re
from dataclasses import dataclass

from transforms.filters.text_units import TERMINAL_PUNCTUATION

CITATION = re.compile(r"\[\d+\]|\[edit\]|\[citation needed\]", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?。！？]+[\"'”’)\]]*(?=\s|$)")
POLICY_PHRASES = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies",
                  "use cookies")


@dataclass(frozen=True)
class C4Params:
    max_word_length: int = 1000
    min_words_per_line: int = 3
    require_terminal_punctuation: bool = True
    drop_javascript_lines: bool = True
    drop_policy_lines: bool = True
    remove_citations: bool = True
    drop_lorem_ipsum: bool = True
    drop_curly_bracket: bool = True
    min_sentences: int = 5


def c4_line_reason(line: str, p: C4Params) -> str | None:
    """Why C4 drops this (already citation-stripped) line, or None to keep it."""
    tokens = line.split()
    if any(len(w) > p.max_word_length for w in tokens):
        return "c4_line_long_word"
    if p.require_terminal_punctuation and not line.endswith(TERMINAL_PUNCTUATION):
        return "c4_line_no_terminal_punctuation"
    if len(tokens) < p.min_words_per_line:
        return "c4_line_too_few_words"
    lowered = line.lower()
    if p.drop_javascript_lines and "javascript" in lowered:
        return "c4_line_javascript"
    if p.drop_policy_lines and any(phrase in lowered for phrase in POLICY_PHRASES):
        return "c4_line_policy"
    return None


def count_sentences(text: str) -> int:
    return len(SENTENCE_END.findall(text))


def c4_clean(text: str, p: C4Params = C4Params()) -> tuple[str | None, str, dict[str, int]]:
    """(drop reason or None, the cleaned text, dropped lines per line reason)."""
    lowered = text.lower()
    if p.drop_lorem_ipsum and "lorem ipsum" in lowered:
        return "c4_lorem_ipsum", text, {}
    if p.drop_curly_bracket and "{" in text:
        return "c4_curly_bracket", text, {}
    kept, dropped = [], {}
    for raw in text.split("\n"):
        line = CITATION.sub("", raw).strip() if p.remove_citations else raw.strip()
        if not line:
            if kept and kept[-1] != "":
                kept.append("")  # keep paragraph breaks between kept lines
            continue
        reason = c4_line_reason(line, p)
        if reason is None:
            kept.append(line)
        else:
            dropped[reason] = dropped.get(reason, 0) + 1
    cleaned = "\n".join(kept).strip()
    if count_sentences(cleaned) < p.min_sentences:
        return "c4_too_few_sentences", cleaned, dropped
    return None, cleaned, dropped
