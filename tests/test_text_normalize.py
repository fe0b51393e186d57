from transforms.common.ids import text_sha256
from transforms.dedup.normalize import exact_dedup_key, normalize_for_exact_dedup


def test_whitespace_runs_fold_to_one_space_and_ends_are_stripped():
    assert normalize_for_exact_dedup("  a\t\tb\n\n c \u00a0d\u3000e  ") == "a b c d e"


def test_case_folds_including_sharp_s():
    assert normalize_for_exact_dedup("STRASSE Straße") == "strasse strasse"


def test_nfkc_folds_full_width_and_ligatures():
    assert normalize_for_exact_dedup("ＡＢＣ１２３ ﬁne") == "abc123 fine"


def test_punctuation_digits_and_accents_are_kept():
    assert normalize_for_exact_dedup("Café, 2024!") == "café, 2024!"
    assert exact_dedup_key("cafe") != exact_dedup_key("café")
    assert exact_dedup_key("a b.") != exact_dedup_key("a b")


def test_key_equal_for_texts_that_differ_only_in_case_and_spacing():
    assert exact_dedup_key("Hello   World\n") == exact_dedup_key("hello world")
    assert len(exact_dedup_key("x")) == 64


def test_text_sha256_is_of_the_exact_text():
    assert text_sha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert text_sha256("abc ") != text_sha256("abc")
