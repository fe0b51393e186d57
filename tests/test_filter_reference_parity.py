"""The quality rules decide as datatrove 0.10.1 does: one small text for each way they used to differ.

Every expected value here was computed with datatrove 0.10.1 (``pip install 'datatrove[processing,io]==0.10.1'
spacy``, as bench/filter_parity.py installs it): its GopherRepetitionFilter, GopherQualityFilter,
C4QualityFilter(filter_no_terminal_punct=False) and FineWebQualityFilter run on the same text, and
``find_all_duplicate`` / ``find_top_duplicate`` / ``split_into_words`` / ``split_into_sentences`` from
``datatrove.pipeline.filters.gopher_repetition_filter`` and ``datatrove.utils.text`` for the values.
The comment at each test says what warcforge computed before (issue 16).
"""

from tests.filter_texts import distinct_words, sentence_lines
from transforms.common.ids import text_sha256
from transforms.common.records import Document, Provenance
from transforms.filters.c4 import C4Params, c4_clean
from transforms.filters.fineweb_quality import FineWebQualityParams, fineweb_quality
from transforms.filters.gopher_quality import GopherQualityParams, gopher_quality
from transforms.filters.gopher_repetition import GopherRepetitionParams, NgramCounts, gopher_repetition
from transforms.filters.quality_rules import FilterSettings, QualityRules
from transforms.filters.sentences import count_sentences
from transforms.filters.word_tokens import word_tokens

FINEWEB_C4 = C4Params(require_terminal_punctuation=False)  # as FineWeb ran C4


def repeated_five_gram_text() -> str:
    """About 1,000 characters: a 5-gram of long words twice, among distinct short words."""
    gram = [w + "xxxxxxxxx" for w in distinct_words(5, syllables=3, offset=700)]  # 15 letters each
    filler = distinct_words(120, syllables=3)
    return " ".join(gram + filler[:60] + gram + filler[60:])


# --- duplicated n-gram share --------------------------------------------------------------------

def test_only_later_copies_of_an_ngram_count_over_the_whole_text():
    # datatrove: find_all_duplicate(words, 5) == 75 (the second copy, its words run together), 75 / 999
    # characters = 0.075: kept. warcforge counted the words of both copies over the word characters
    # (0.17) and dropped the text as gopher_dup_5gram.
    text = repeated_five_gram_text()
    assert len(text) == 999
    assert NgramCounts(word_tokens(text)).duplicated_chars(5) == 75
    assert gopher_repetition(text) is None


def test_counted_copies_do_not_overlap():
    # datatrove on "a a a a a a a a a a": find_all_duplicate gives 8 for 2-grams, 9 for 3-grams, 5 for
    # 5-grams (after a copy the reading jumps past it); the top 2-gram "a a" occurs 9 times: 27 characters.
    counts = NgramCounts(word_tokens("a a a a a a a a a a"))
    assert [counts.duplicated_chars(n) for n in (2, 3, 5)] == [8, 9, 5]
    assert counts.top_chars(2) == 27


def test_duplicated_ngrams_of_a_short_text():
    # datatrove: 19 characters for 5-grams and 27 for 7-grams in this 82-character text, which its top
    # 3-gram ("one two three", twice: 26 characters, 0.32) drops first.
    text = "one two three four five six seven one two three four five six seven eight nine ten"
    counts = NgramCounts(word_tokens(text))
    assert (counts.duplicated_chars(5), counts.duplicated_chars(7)) == (19, 27)
    assert gopher_repetition(text) == "gopher_top_3gram"


# --- word splitting -----------------------------------------------------------------------------

def test_punctuation_marks_are_words_for_the_alphabetic_share():
    # datatrove splits "Hello, world!" into 4 words, 2 of them marks: 120 words, half with a letter,
    # dropped (gopher_below_alpha_threshold). warcforge split at white space ("Hello," "world!"), found a
    # letter in every word and dropped the text for its stop words instead.
    text = "Hello, world! " * 30
    assert len(word_tokens(text)) == 120
    assert gopher_quality(text) == "gopher_non_alpha_words"


def test_stop_words_match_exactly():
    # datatrove intersects the stop words with the set of words: "The" and "And" are not "the" and "and"
    # (gopher_enough_stop_words). warcforge lower-cased the words and kept this text.
    text = " ".join(["The", "And", *distinct_words(60)]) + "."
    assert gopher_quality(text) == "gopher_stop_words"
    assert gopher_quality(text.replace("The", "the").replace("And", "and")) is None


def test_sentences_are_spacys():
    # datatrove's split_into_sentences on each line: "Mr." and "e.g." end no sentence, "3.5" is one
    # word, "..." is not a sentence end, a line without an end mark is one sentence. warcforge counted
    # runs ending in . ! or ? before a space: 3, 2, 1, 3, 0 for the first five.
    counted = {
        "Mr. Smith went to Washington. He said: hi!": 2,
        "See e.g. this one.": 1,
        "It costs 3.5 dollars.": 1,
        "Wait... what? Yes.": 2,
        "No end mark here": 1,
        "One. Two. Three. Four. Five.": 5,
    }
    assert {line: count_sentences(line) for line in counted} == counted


def test_abbreviations_do_not_make_c4_sentences():
    # Four lines of one sentence each (datatrove: too_few_sentences). warcforge counted "e.g." as a
    # sentence end: 8 sentences, kept.
    lines = [f"See e.g. the {w} example here." for w in distinct_words(4)]
    assert c4_clean("\n".join(lines), FINEWEB_C4)[0] == "c4_too_few_sentences"


# --- terminal punctuation -----------------------------------------------------------------------

def test_closing_quotes_and_ellipses_do_not_end_a_line_for_fineweb():
    # No line ends in datatrove's terminal punctuation, so the share is 0 (line_punct_ratio). warcforge
    # counted the first four kinds of line as ended (12 of 18 lines), passed the rule, and dropped the
    # text for its short lines instead.
    text = "\n".join(['He said "stop here."', "She said 'go.'", "Read this\u2026", "Then that\u201d", "A plain line",
                      "One more line here"] * 3)
    assert fineweb_quality(text) == "fineweb_terminal_punctuation"


# --- the smaller ones ---------------------------------------------------------------------------

def test_a_line_without_an_end_mark_is_one_c4_sentence():
    # Five kept lines without an end mark: 5 sentences in datatrove, kept. warcforge counted 0.
    lines = [" ".join(distinct_words(4, offset=4 * i)) for i in range(5)]
    reason, cleaned, _ = c4_clean("\n".join(lines), FINEWEB_C4)
    assert reason is None and cleaned == "\n".join(lines)


def test_curly_brackets_count_only_on_lines_c4_keeps():
    # datatrove checks "{" on lines that passed the long-word, end-mark and word-count rules: "{x}" is one
    # word, so its line goes and the page stays; a "{" in a kept line drops the page (curly_bracket).
    # warcforge dropped both pages.
    body = sentence_lines(6)
    assert c4_clean("\n".join([*body, "{x}"]), FINEWEB_C4)[0] is None
    assert c4_clean("\n".join([*body, "The style is {color: red} here."]), FINEWEB_C4)[0] == "c4_curly_bracket"


def test_the_top_ngram_rule_fires_on_one_occurrence():
    # "Hello world." is three words; its first 2-gram, "Hello world", once, holds 11 of 12 characters:
    # datatrove drops it (top_2_gram). warcforge counted a top n-gram only when it repeated.
    assert gopher_repetition("Hello world.") == "gopher_top_2gram"


def test_citation_markers_as_datatrove_removes_them():
    # datatrove's pattern removes "[]" and "[12]" and is case-sensitive: "[Edit]" stays.
    lines = sentence_lines(5) + ["A note[] with a mark[12] and [Edit] here."]
    _, cleaned, _ = c4_clean("\n".join(lines), FINEWEB_C4)
    assert cleaned.splitlines()[-1] == "A note with a mark and [Edit] here."


# --- chaining -----------------------------------------------------------------------------------

def test_fineweb_reads_the_lines_c4_kept():
    # Six sentences and twenty one-word lines. datatrove's FineWebQualityFilter alone drops the text
    # (short_line_ratio: 20 of 26 lines); run after its C4 filter, which removes the one-word lines, it
    # keeps it, as do all four in FineWeb's order. warcforge's pipeline chains them the same way.
    text = "\n".join(sentence_lines(6, words_per_line=14) + [w.title() for w in distinct_words(20, 2, offset=30)])
    assert fineweb_quality(text) == "fineweb_short_lines"
    settings = FilterSettings(gopher_repetition=GopherRepetitionParams(), gopher_quality=GopherQualityParams(),
                              c4=FINEWEB_C4, fineweb=FineWebQualityParams())
    prov = Provenance("f.warc.gz", 0, 1, None, None, "https://example.com/", None, "response")
    doc = Document("a" * 32, text, prov, "text/html", "utf-8", text_sha256(text))
    reason, kept, _ = QualityRules(settings).decide(doc)
    assert reason is None and kept.text == "\n".join(sentence_lines(6, words_per_line=14))
