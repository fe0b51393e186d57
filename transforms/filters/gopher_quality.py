"""Gopher quality rules (Rae et al. 2021, MassiveText, appendix A.1.1), as datatrove 0.10.1 computes them.

Words are spaCy's English tokens (``word_tokens``: punctuation marks are words of their own); a word
made only of symbols (``SYMBOL_CHARACTERS``) is left out of the word count and the mean length. A
document is kept when it has 50 to 100,000 such words and a mean word length of 3 to 10 characters;
at most 0.1 ``#`` per word and, separately, at most 0.1 ellipses (``...`` or ``…``) per word (all
words counted here); at most 90 % of lines (``str.splitlines``, blank ones included) starting with
``•`` or ``-`` after leading white space and at most 30 % ending with an ellipsis before trailing
white space; at least 80 % of all words containing a letter; and at least 2 different stop words
of {the, be, to, of, and, that, have, with} among the words, matched exactly (lower case: "The"
is not "the").
"""

from dataclasses import dataclass, field
from functools import lru_cache
from itertools import filterfalse

from transforms.filters.text_units import SYMBOL_CHARACTERS

BULLETS = ("•", "-")
ELLIPSES = ("...", "…")


def _word_kind(word: str) -> tuple[int, int, int]:
    """(1 if made only of symbols, then its length, else 0 and 0; 1 if it holds no letter) for a word
    that is not all letters: those are few, and the same ones recur (a long one, a URL, seldom does:
    it is not cached, so that the cache stays small)."""
    return _kind_of(word) if len(word) > 64 else _kind(word)


def _kind_of(word: str) -> tuple[int, int, int]:
    symbol = all(c in SYMBOL_CHARACTERS for c in word)
    return int(symbol), len(word) if symbol else 0, int(not any(c.isalpha() for c in word))


_kind = lru_cache(maxsize=1 << 14)(_kind_of)


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
    from transforms.filters.word_tokens import word_tokens  # its tables take 0.3 s: built when a rule first runs

    words = word_tokens(text)
    kinds = list(map(_word_kind, filterfalse(str.isalpha, words)))
    symbol_words, symbol_chars, letterless = map(sum, zip(*kinds, strict=True)) if kinds else (0, 0, 0)
    n = len(words) - symbol_words
    if n < p.min_words:
        return "gopher_too_few_words"
    if n > p.max_words:
        return "gopher_too_many_words"
    if n:  # the characters of all words less those of the symbol words
        mean_length = (len("".join(words)) - symbol_chars) / n
        if mean_length < p.min_mean_word_length:
            return "gopher_short_words"
        if mean_length > p.max_mean_word_length:
            return "gopher_long_words"
    all_words = max(1, len(words))
    if text.count("#") / all_words > p.max_symbol_word_ratio:
        return "gopher_symbol_ratio"
    if (text.count("...") + text.count("…")) / all_words > p.max_symbol_word_ratio:
        return "gopher_symbol_ratio"
    lines = text.splitlines()
    if sum(line.lstrip().startswith(BULLETS) for line in lines) / max(1, len(lines)) > p.max_bullet_lines_ratio:
        return "gopher_bullet_lines"
    if sum(line.rstrip().endswith(ELLIPSES) for line in lines) / max(1, len(lines)) > p.max_ellipsis_lines_ratio:
        return "gopher_ellipsis_lines"
    with_letter = len(words) - letterless
    if with_letter / all_words < p.min_alpha_words_ratio:
        return "gopher_non_alpha_words"
    if len(p.stop_words.intersection(words)) < p.min_stop_words:
        return "gopher_stop_words"
    return None
