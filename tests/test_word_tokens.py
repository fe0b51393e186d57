"""The word splitter gives spaCy's tokens: each expected list below is what datatrove 0.10.1's
``split_into_words`` (``spacy.blank("en")``, spaCy 3.8) returned for the same string."""

import pytest

from transforms.filters.token_exceptions import SPECIAL_CASES
from transforms.filters.word_tokens import word_tokens

SPACY = [
    ("don't", ["do", "n't"]),
    ("Don\u2019t", ["Do", "n\u2019t"]),
    ("can't", ["ca", "n't"]),
    ("cannot", ["can", "not"]),
    ("I'm", ["I", "'m"]),
    ("U.S.", ["U.S."]),
    ("e.g.,", ["e.g.", ","]),
    ("3.5", ["3.5"]),
    ("re-use", ["re", "-", "use"]),
    ("end.Next", ["end", ".", "Next"]),
    ("https://example.com/a-b?x=1.", ["https://example.com/a-b?x=1", "."]),
    ("john.doe@example.com,", ["john.doe@example.com", ","]),
    ("(hello)", ["(", "hello", ")"]),
    ("$100", ["$", "100"]),
    ("5km", ["5", "km"]),
    ("10pm", ["10", "pm"]),
    ("John's", ["John", "'s"]),
    ("wait...", ["wait", "..."]),
    ("z.B.", ["z.", "B."]),
    ("(1):", ["(", "1", "):"]),
    ("\u201cQuoted,\u201d", ["\u201c", "Quoted", ",", "\u201d"]),
    ("state-of-the-art", ["state", "-", "of", "-", "the", "-", "art"]),
    ("1,000", ["1,000"]),
    ("10:30", ["10:30"]),
    ("Mr.", ["Mr."]),
    ("Smith.", ["Smith", "."]),
    ("USA.", ["USA", "."]),
    ("A.", ["A."]),
    ("x--y", ["x", "--", "y"]),
    ("a/b", ["a", "/", "b"]),
    ("C++", ["C++"]),
    ("#hashtag", ["#", "hashtag"]),
    ("50%", ["50", "%"]),
    ("\u00a92024", ["\u00a9", "2024"]),
    ("dogs'", ["dogs", "'"]),
    ("(e.g.)", ["(", "e.g.", ")"]),
    ("8)", ["8)"]),
    ("ok:)", ["ok", ":)"]),
    ("rock'n'roll", ["rock'n'roll"]),
    ("\u00a35", ["\u00a3", "5"]),
    ("p.m.", ["p.m."]),
    ("im.", ["i", "m."]),
    ("Hello,  world!\n\tNew line", ["Hello", ",", "world", "!", "New", "line"]),
    ("Mr. Smith's car, e.g. the red one\u2014wasn't it?",
     ["Mr.", "Smith", "'s", "car", ",", "e.g.", "the", "red", "one", "\u2014", "wasn't", "it", "?"]),
    ("It's 5:30pm (GMT) in the U.K. \u2026 or is it?",
     ["It", "'s", "5:30pm", "(", "GMT", ")", "in", "the", "U.K.", "\u2026", "or", "is", "it", "?"]),
    ("Prices: $5.99, \u20ac4 & 10% off!!",
     ["Prices", ":", "$", "5.99", ",", "\u20ac", "4", "&", "10", "%", "off", "!", "!"]),
]


@pytest.mark.parametrize(("text", "tokens"), SPACY)
def test_tokens_are_spacys(text, tokens):
    assert list(word_tokens(text)) == tokens


def test_every_contraction_has_its_typographic_apostrophe_twin():
    with_straight = [k for k in SPECIAL_CASES if "'" in k]
    assert with_straight and all(k.replace("'", "\u2019") in SPECIAL_CASES for k in with_straight)


def test_words_that_look_like_contractions_stay_whole():
    # spaCy leaves these ordinary words alone although its rules would cut "ill" as "i" + "ll".
    assert [word_tokens(w) for w in ("ill", "well", "its", "shed")] == [("ill",), ("well",), ("its",), ("shed",)]
