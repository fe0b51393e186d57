"""Hand-built texts for the filter rules: distinct words, so that only the property under test varies."""

import itertools

SYLLABLES = ("ba", "ke", "di", "mo", "lu", "fa", "ni", "so", "ru", "te")


def distinct_words(n: int, syllables: int = 3, offset: int = 0) -> list[str]:
    """n different words of 2 * syllables letters, none a stop word, none repeated."""
    combos = itertools.islice(itertools.product(SYLLABLES, repeat=syllables), offset, offset + n)
    return ["".join(c) for c in combos]


def sentence_lines(count: int, words_per_line: int = 12, offset: int = 0) -> list[str]:
    """Lines of distinct words that each read as a sentence with two stop words and a full stop. The
    stop words are lower case: Gopher's rule matches them exactly ("The" is not "the"), as datatrove does."""
    out = []
    for i in range(count):
        body = distinct_words(words_per_line - 2, syllables=4, offset=offset + i * words_per_line)
        out.append(" ".join(["the", *body[:4], "and", *body[4:]]) + ".")
    return out
