"""Gopher quality and repetition rules at each threshold: just below, at, just above.

Every threshold text here gets the same verdict from datatrove 0.10.1's GopherQualityFilter and
GopherRepetitionFilter (with the same thresholds), which the rules follow: words are spaCy's, shares
are over the whole text, n-gram copies count from the second.
"""

import pytest

from tests.filter_texts import distinct_words, sentence_lines
from transforms.filters.gopher_quality import GopherQualityParams, gopher_quality
from transforms.filters.gopher_repetition import GopherRepetitionParams, NgramCounts, gopher_repetition


def words_text(n: int) -> str:
    return " ".join(["the", "and", *distinct_words(n - 2)])


# --- quality ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("n", "expected"), [(49, "gopher_too_few_words"), (50, None), (51, None)])
def test_minimum_word_count(n, expected):
    assert gopher_quality(words_text(n)) == expected


@pytest.mark.parametrize(("n", "expected"), [(99, None), (100, None), (101, "gopher_too_many_words")])
def test_maximum_word_count(n, expected):
    assert gopher_quality(words_text(n), GopherQualityParams(max_words=100)) == expected


def test_punctuation_only_tokens_are_not_words():
    assert gopher_quality(words_text(49) + " - — !") == "gopher_too_few_words"


@pytest.mark.parametrize(("extra", "expected"), [(-1, "gopher_short_words"), (0, None), (1, None)])
def test_minimum_mean_word_length(extra, expected):
    # 50 three-letter words (mean 3.0); one letter fewer or more in total moves the mean below/above.
    tokens = ["the", "and"] + [w[:3] for w in distinct_words(48)]
    tokens[-1] = tokens[-1][: 3 + extra] if extra < 0 else tokens[-1] + "x" * extra
    assert gopher_quality(" ".join(tokens)) == expected


@pytest.mark.parametrize(("extra", "expected"), [(-1, None), (0, None), (1, "gopher_long_words")])
def test_maximum_mean_word_length(extra, expected):
    # 2 stop words (6 letters) + 48 words of 494 letters: mean exactly 10.0.
    tokens = ["the", "and"] + [w + "abcd" for w in distinct_words(46, syllables=3)] + ["q" * 17, "z" * (17 + extra)]
    assert sum(map(len, tokens)) / len(tokens) == 10.0 + extra / 50
    assert gopher_quality(" ".join(tokens)) == expected


@pytest.mark.parametrize(("symbols", "expected"), [(9, None), (10, None), (11, "gopher_symbol_ratio")])
def test_symbol_to_word_ratio(symbols, expected):
    tokens = ["the", "and", *distinct_words(100 - 10 - 2), *(["#"] * symbols)]  # 10 symbols in 100 tokens: 0.1
    tokens += ["pad"] * (10 - symbols) if symbols < 10 else []
    assert gopher_quality(" ".join(tokens)) == expected


def test_ellipsis_counts_as_a_symbol():
    # "end." is two words, "end" and ".": 10 ellipses in 103 words, then 12 in 105.
    tokens = ["the", "and", *distinct_words(89), *(["..."] * 5), *(["…"] * 5), "end."]
    assert gopher_quality(" ".join(tokens)) is None
    assert gopher_quality(" ".join(tokens[:-1] + ["…"] * 2 + ["end."])) == "gopher_symbol_ratio"


def test_hashes_and_ellipses_are_two_ratios():
    # 6 "#" and 6 "..." in 100 words: 0.06 each, kept (as datatrove checks them one at a time), where a
    # sum of both (0.12) would drop the page.
    tokens = ["the", "and", *(["#"] * 6), *(["..."] * 6), *distinct_words(86)]
    assert gopher_quality(" ".join(tokens)) is None


@pytest.mark.parametrize(("bullets", "lines", "expected"),
                         [(8, 10, None), (9, 10, None), (19, 20, "gopher_bullet_lines")])
def test_bullet_lines(bullets, lines, expected):
    text = "\n".join(("• " if i < bullets else "") + line for i, line in enumerate(sentence_lines(lines)))
    assert gopher_quality(text) == expected


@pytest.mark.parametrize(("ellipses", "expected"), [(2, None), (3, None), (4, "gopher_ellipsis_lines")])
def test_ellipsis_lines(ellipses, expected):
    text = "\n".join(line[:-1] + ("..." if i < ellipses else ".") for i, line in enumerate(sentence_lines(10)))
    assert gopher_quality(text) == expected


@pytest.mark.parametrize(("numbers", "expected"), [(19, None), (20, None), (21, "gopher_non_alpha_words")])
def test_alphabetic_words(numbers, expected):
    tokens = ["the", "and", *distinct_words(100 - numbers - 2), *(["2024"] * numbers)]
    assert gopher_quality(" ".join(tokens)) == expected


@pytest.mark.parametrize(("stop_words", "expected"), [(1, "gopher_stop_words"), (2, None), (3, None)])
def test_stop_words(stop_words, expected):
    tokens = ["the", "of", "with"][:stop_words] + distinct_words(60)
    assert gopher_quality(" ".join(tokens)) == expected


# --- repetition ---------------------------------------------------------------------------------

def test_ngram_counts_by_hand():
    counts = NgramCounts("a b c d e a b c d e x y z".split())
    assert counts.top_chars(2) == 2 * len("a b")  # every 2-gram of the first five twice: the first, "a b"
    assert counts.duplicated_chars(5) == len("abcde")  # the second copy only; the first is not a copy
    assert counts.duplicated_chars(6) == 0
    assert NgramCounts("a b c".split()).top_chars(2) == len("a b")  # a 2-gram that occurs once counts
    assert NgramCounts("a".split()).top_chars(2) == 0  # no 2-gram at all


def padded_text(words: list[str], total: int) -> str:
    """``words`` joined by spaces, then distinct filler words up to exactly ``total`` characters."""
    text = " ".join(words)
    filler = iter(distinct_words(total, syllables=4, offset=5000))
    while len(text) + 9 <= total:
        text += " " + next(filler)
    return text + " " + "q" * (total - len(text) - 1) if len(text) < total - 1 else text + "q" * (total - len(text))


def gram_text(n: int, chars_per_copy: int, copies: int, total: int) -> tuple[str, int]:
    """A text of ``total`` characters in which one n-gram of ``chars_per_copy`` characters (its words joined
    by spaces) occurs ``copies`` times, each copy followed by distinct words; and the characters of one
    copy with its words run together."""
    gram = distinct_words(n, syllables=1)
    gram[-1] += "x" * (chars_per_copy - len(" ".join(gram)))
    words = []
    for i in range(copies):
        words += gram + distinct_words(3, syllables=4, offset=3 * i)
    text = padded_text(words, total)
    assert len(text) == total and text.count(" ".join(gram)) == copies
    return text, len("".join(gram))


@pytest.mark.parametrize(("total", "expected"), [(999, "gopher_top_2gram"), (1000, None), (1001, None)])
def test_top_2gram_character_share(total, expected):
    # The most frequent 2-gram, twice, holds 2 * 100 characters (with the space between its words): 0.20
    # of a 1,000-character text; every share is over the whole text.
    text, _ = gram_text(2, 100, 2, total)
    assert NgramCounts(text.split()).top_chars(2) == 200
    assert gopher_repetition(text, GopherRepetitionParams(max_dup_ngram_char_ratio={})) == expected


@pytest.mark.parametrize(("n", "limit"), [(3, 0.18), (4, 0.16)])
def test_top_3gram_and_4gram_character_share(n, limit):
    params = GopherRepetitionParams(max_top_ngram_char_ratio={n: limit}, max_dup_ngram_char_ratio={})
    at = round(limit * 1000 / 2)
    for total, expected in [(999, f"gopher_top_{n}gram"), (1000, None), (1001, None)]:
        assert gopher_repetition(gram_text(n, at, 2, total)[0], params) == expected


@pytest.mark.parametrize(("n", "limit"), [(5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)])
def test_duplicated_ngram_character_share(n, limit):
    # Two copies of an n-gram: only the second counts. Its words run together hold limit * 1,000 characters.
    params = GopherRepetitionParams(max_top_ngram_char_ratio={}, max_dup_ngram_char_ratio={n: limit})
    at = round(limit * 1000)
    for total, expected in [(999, f"gopher_dup_{n}gram"), (1000, None), (1001, None)]:
        text, copy_chars = gram_text(n, at + n - 1, 2, total)  # + n - 1: the spaces are not counted
        assert copy_chars == at
        assert NgramCounts(text.split()).duplicated_chars(n) == at
        assert gopher_repetition(text, params) == expected


def test_default_thresholds_are_the_published_ones():
    p = GopherRepetitionParams()
    assert (p.max_dup_line_ratio, p.max_dup_paragraph_ratio, p.max_dup_line_char_ratio,
            p.max_dup_paragraph_char_ratio) == (0.3, 0.3, 0.2, 0.2)
    assert p.max_top_ngram_char_ratio == {2: 0.2, 3: 0.18, 4: 0.16}
    assert p.max_dup_ngram_char_ratio == {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
    q = GopherQualityParams()
    assert (q.min_words, q.max_words, q.min_mean_word_length, q.max_mean_word_length) == (50, 100_000, 3, 10)
    assert (q.max_symbol_word_ratio, q.max_bullet_lines_ratio, q.max_ellipsis_lines_ratio,
            q.min_alpha_words_ratio, q.min_stop_words) == (0.1, 0.9, 0.3, 0.8, 2)


@pytest.mark.parametrize(("copies", "expected"), [(3, None), (4, None), (5, "gopher_dup_lines")])
def test_duplicate_line_ratio(copies, expected):
    # 6 long distinct lines and `copies` copies of a short line: copies-1 duplicates in 6+copies lines.
    lines = sentence_lines(6, words_per_line=20) + ["ok."] * copies
    assert gopher_repetition("\n".join(lines)) == expected


def dup_char_text(dup_chars: int) -> str:
    """Text of exactly 1,000 characters: 5 distinct lines, then a line and its copy; the copy holds
    `dup_chars` characters."""
    copy = "x" * (dup_chars - 1) + "."
    unique = sentence_lines(4, words_per_line=10) + sentence_lines(1, words_per_line=100, offset=200)
    room = 1000 - 2 * len(copy) - 6  # 6 line breaks
    unique[-1] = unique[-1][: room - sum(map(len, unique[:-1]))]
    text = "\n".join([*unique, copy, copy])
    assert len(text) == 1000 and text.count(copy) == 2
    return text


@pytest.mark.parametrize(("dup_chars", "expected"), [(199, None), (200, None), (201, "gopher_dup_line_chars")])
def test_duplicate_line_characters(dup_chars, expected):
    params = GopherRepetitionParams(max_top_ngram_char_ratio={}, max_dup_ngram_char_ratio={})
    assert gopher_repetition(dup_char_text(dup_chars), params) == expected


@pytest.mark.parametrize(("copies", "expected"), [(3, None), (4, None), (5, "gopher_dup_paragraphs")])
def test_duplicate_paragraph_ratio(copies, expected):
    blocks = ["\n".join(sentence_lines(2, 20, offset=i * 40)) for i in range(6)] + ["ok."] * copies
    params = GopherRepetitionParams(max_dup_line_ratio=1.0)
    assert gopher_repetition("\n\n".join(blocks), params) == expected


@pytest.mark.parametrize(("dup_chars", "expected"), [(199, None), (200, None), (201, "gopher_dup_paragraph_chars")])
def test_duplicate_paragraph_characters(dup_chars, expected):
    # The same 1,000-character text, its lines made paragraphs: the copy now repeats a paragraph.
    text = dup_char_text(dup_chars).replace("\n", "\n\n")
    params = GopherRepetitionParams(max_dup_line_ratio=1, max_dup_line_char_ratio=1, max_dup_paragraph_ratio=1,
                                    max_top_ngram_char_ratio={}, max_dup_ngram_char_ratio={})
    # Six blank lines were added, so the share moves by 6 characters in 1,006: scale the limit to match.
    params = GopherRepetitionParams(**{**params.__dict__, "max_dup_paragraph_char_ratio": 200 / 1006})
    assert gopher_repetition(text, params) == expected


def test_text_without_blank_lines_is_one_paragraph():
    # Paragraphs are cut at blank lines only (as datatrove cuts them): repeated lines are not repeated
    # paragraphs, so the line rule is the one that drops this text.
    text = "\n".join(sentence_lines(4, words_per_line=20) + ["ok."] * 4)
    assert gopher_repetition(text) == "gopher_dup_lines"
    assert gopher_repetition(text.replace("\n", "\n\n")) == "gopher_dup_paragraphs"
