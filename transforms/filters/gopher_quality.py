"""Gopher quality rules (Rae et al. 2021, MassiveText, appendix A.1.1).

A document is kept when it has 50 to 100,000 words, a mean word length of 3 to 10 characters, at
most 0.1 hash-or-ellipsis symbols per word, at most 90 % of lines starting with a bullet, at most
30 % of lines ending with an ellipsis, at least 80 % of words containing an alphabetic character,
and at least 2 of the stop words {the, be, to, of, and, that, have, with}. Words that are only
punctuation do not count as words for the word count and mean length.
"""

import re
import string
from dataclasses import dataclass, field

from transforms.filters.text_units import lines, words

BULLETS = ("•", "●", "◦", "▪", "‣", "–", "-", "*", "·")
ELLIPSES = ("...", "…")
_PUNCTUATION = set(string.punctuation) | {"…", "–", "—", "•", "·", "«", "»", "“", "”", "‘", "’"}
_PUNCTUATION_CHARS = "".join(sorted(_PUNCTUATION))
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class GopherQualityParams:
    min_words: int = 50
    max_words: int = 100_000
    min_mean_word_length: float = 3.0
    max_mean_word_length: float = 10.0
    max_symbol_word_ratio: float = 0.1
    max_bullet_lines_ratio: float = 0.9
    max_ellipsis_lines_ratio: float = 0.3
    min_alpha_words_ratio: float = 0.8
    min_stop_words: int = 2
    stop_words: frozenset[str] = field(
        default_factory=lambda: frozenset({"the", "be", "to", "of", "and", "that", "have", "with"}))


def gopher_quality(text: str, p: GopherQualityParams = GopherQualityParams()) -> str | None:
    tokens = words(text)
    punctuation_only = [w for w in tokens if not w.strip(_PUNCTUATION_CHARS)]
    n = len(tokens) - len(punctuation_only)
    if n < p.min_words:
        return "gopher_too_few_words"
    if n > p.max_words:
        return "gopher_too_many_words"
    mean_length = (sum(map(len, tokens)) - sum(map(len, punctuation_only))) / n
    if mean_length < p.min_mean_word_length:
        return "gopher_short_words"
    if mean_length > p.max_mean_word_length:
        return "gopher_long_words"
    symbols = text.count("#") + text.count("...") + text.replace("...", "").count("…")
    if symbols / len(tokens) > p.max_symbol_word_ratio:
        return "gopher_symbol_ratio"
    text_lines = lines(text)
    if text_lines:
        if sum(line.startswith(BULLETS) for line in text_lines) / len(text_lines) > p.max_bullet_lines_ratio:
            return "gopher_bullet_lines"
        if sum(line.endswith(ELLIPSES) for line in text_lines) / len(text_lines) > p.max_ellipsis_lines_ratio:
            return "gopher_ellipsis_lines"
    # isalpha() answers most tokens at C speed; the regex only sees tokens with digits or marks.
    with_letter = sum(1 for w in tokens if w.isalpha() or _LETTER.search(w))
    if with_letter / len(tokens) < p.min_alpha_words_ratio:
        return "gopher_non_alpha_words"
    if not _has_stop_words(tokens, p.stop_words, p.min_stop_words):
        return "gopher_stop_words"
    return None


def _has_stop_words(tokens: list[str], stop_words: frozenset[str], needed: int) -> bool:
    found = 0
    for token in tokens:  # stops at the `needed`-th stop word: usually within the first sentence
        if token.lower().strip(string.punctuation) in stop_words:
            found += 1
            if found >= needed:
                return True
    return found >= needed
