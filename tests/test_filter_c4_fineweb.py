"""C4 and FineWeb rules at each threshold, on hand-written texts.

Every whole text here gets the same verdict from datatrove 0.10.1's C4QualityFilter and
FineWebQualityFilter (with the same settings), which the rules follow.
"""

import pytest

from tests.filter_texts import distinct_words, sentence_lines
from transforms.filters.c4 import C4Params, c4_clean, c4_line_reason
from transforms.filters.fineweb_quality import FineWebQualityParams, fineweb_quality
from transforms.filters.sentences import count_sentences

P = C4Params()


# --- C4 line rules ------------------------------------------------------------------------------

@pytest.mark.parametrize(("line", "reason"), [
    ("Two words.", "c4_line_too_few_words"),
    ("Three words here.", None),
    ("No terminal punctuation here", "c4_line_no_terminal_punctuation"),
    ('He said "stop here."', None),
    ("Please enable JavaScript to view this page.", "c4_line_javascript"),
    ("By using this site you accept our Privacy Policy.", "c4_line_policy"),
    ("This website uses cookies to improve things.", "c4_line_policy"),
    ("Read the terms of use before you post.", "c4_line_policy"),
])
def test_line_rules(line, reason):
    assert c4_line_reason(line, P) == reason


@pytest.mark.parametrize(("length", "reason"), [(999, None), (1000, None), (1001, "c4_line_long_word")])
def test_word_length_limit(length, reason):
    assert c4_line_reason("A word of " + "x" * length + " letters.", P) == reason


def test_terminal_punctuation_rule_can_be_switched_off():
    assert c4_line_reason("No terminal punctuation here", C4Params(require_terminal_punctuation=False)) is None


def test_citation_markers_are_removed_and_lines_filtered():
    text = "\n".join(sentence_lines(5)) + "\nThe river rose[1] after the rain[edit] last spring.[citation needed]\nMenu"
    reason, cleaned, dropped = c4_clean(text)
    assert reason is None
    assert "The river rose after the rain last spring." in cleaned
    assert "[1]" not in cleaned and "Menu" not in cleaned
    assert dropped == {"c4_line_no_terminal_punctuation": 1}


@pytest.mark.parametrize(("sentences", "reason"), [(4, "c4_too_few_sentences"), (5, None), (6, None)])
def test_minimum_sentences(sentences, reason):
    assert c4_clean("\n".join(sentence_lines(sentences)))[0] == reason


def test_sentences_are_counted_within_lines():
    # spaCy's sentence splitter, as datatrove counts: "..." ends no sentence, and the full stop inside
    # "five." is followed by a closing quote only, so no new sentence starts after it.
    assert count_sentences("One is here. Two is here! Three? Four... and \"five.\"") == 4


def test_document_rules():
    body = "\n".join(sentence_lines(6))
    assert c4_clean(body + "\nLorem ipsum dolor sit amet.")[0] == "c4_lorem_ipsum"
    assert c4_clean(body + "\nThe style is {color: red} here.")[0] == "c4_curly_bracket"
    assert c4_clean(body + "\nThe style is {color: red} here.", C4Params(drop_curly_bracket=False))[0] is None


def test_kept_lines_are_joined_by_single_line_breaks():
    # As datatrove's C4 filter writes the text: blank lines are lines too few words long, and go.
    lines = sentence_lines(6)
    reason, cleaned, dropped = c4_clean("\n".join(lines[:3]) + "\n\nMenu\n\n" + "\n".join(lines[3:]))
    assert reason is None and cleaned == "\n".join(lines)
    assert dropped == {"c4_line_no_terminal_punctuation": 1}  # "Menu"; blank lines are not counted


# --- FineWeb ------------------------------------------------------------------------------------

def fineweb_lines(punctuated: int, total: int) -> str:
    out = []
    for i, line in enumerate(sentence_lines(total, words_per_line=12)):
        out.append(line if i < punctuated else line[:-1])
    return "\n".join(out)


@pytest.mark.parametrize(("punctuated", "reason"), [(11, "fineweb_terminal_punctuation"), (12, None), (13, None)])
def test_terminal_punctuation_ratio(punctuated, reason):
    assert fineweb_quality(fineweb_lines(punctuated, 100)) == reason


@pytest.mark.parametrize(("short", "reason"), [(66, None), (67, None), (68, "fineweb_short_lines")])
def test_short_line_ratio(short, reason):
    # `short` lines of exactly 30 characters (short), the rest longer; 100 lines; newline ratio kept low.
    long_lines = [line + " " + line for line in sentence_lines(100 - short, words_per_line=12)]
    short_lines = [line[:29] + "." for line in sentence_lines(short, words_per_line=12, offset=5000)]
    assert all(len(line) == 30 for line in short_lines) and all(len(line) > 30 for line in long_lines)
    params = FineWebQualityParams(max_newline_word_ratio=1.0)
    assert fineweb_quality("\n".join(long_lines + short_lines), params) == reason


def test_short_line_ratio_boundary_is_inclusive_at_exactly_the_threshold():
    lines = sentence_lines(33, words_per_line=12) + [line[:29] + "." for line in sentence_lines(67, 12, offset=9000)]
    assert fineweb_quality("\n".join(lines), FineWebQualityParams(max_newline_word_ratio=1.0)) is None


def dup_text(dup_chars: int) -> str:
    """Lines totalling 10,000 characters of which a repeated line holds `dup_chars`."""
    copy = "y" * (dup_chars - 1) + "."
    lines = sentence_lines(200, words_per_line=12)
    body, total = [], 0
    for line in lines:
        if total + len(line) > 10_000 - 2 * len(copy):
            break
        body.append(line)
        total += len(line)
    body[-1] = body[-1][:-1] + "z" * (10_000 - 2 * len(copy) - total) + "."
    assert sum(map(len, body)) + 2 * len(copy) == 10_000
    return "\n".join([*body, copy, copy])


@pytest.mark.parametrize(("dup_chars", "reason"), [(99, None), (100, None), (101, "fineweb_dup_line_chars")])
def test_duplicated_line_characters(dup_chars, reason):
    assert fineweb_quality(dup_text(dup_chars)) == reason


@pytest.mark.parametrize(("words_per_line", "reason"), [(2, "fineweb_newline_ratio"), (3, None)])
def test_newline_to_word_ratio(words_per_line, reason):
    # Words are spaCy's, so each line's full stop is a word: 50 lines of 2 words and a full stop give
    # 49 breaks / 150 words = 0.33; of 3 words and a full stop, 49 / 200 = 0.245.
    words = distinct_words(50 * words_per_line)
    lines = [" ".join(words[i: i + words_per_line]) + "." for i in range(0, len(words), words_per_line)]
    params = FineWebQualityParams(max_short_lines_ratio=1.0)
    assert fineweb_quality("\n".join(lines), params) == reason


def test_newline_ratio_at_the_threshold():
    # 30 line breaks for 100 words: exactly 0.3 is kept; one more break is not.
    words = " ".join(["word"] * 99) + " end"
    tokens = words.split()
    at = "\n".join(" ".join(tokens[i * 10 // 3: (i + 1) * 10 // 3]) for i in range(30)) + "\n" + " ".join(tokens[100:])
    assert at.count("\n") == 30 and len(at.split()) == 100
    assert fineweb_quality(at, FineWebQualityParams(min_terminal_punctuation_lines_ratio=0,
                                                   max_short_lines_ratio=1, max_dup_line_char_ratio=1)) is None
    above = at.replace(" ", "\n", 1)
    assert fineweb_quality(above, FineWebQualityParams(min_terminal_punctuation_lines_ratio=0,
                                                      max_short_lines_ratio=1, max_dup_line_char_ratio=1)) == (
        "fineweb_newline_ratio")


def test_empty_text_fails_the_punctuation_rule():
    assert fineweb_quality("") == "fineweb_terminal_punctuation"
