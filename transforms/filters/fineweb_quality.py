"""FineWeb's own quality rules (Penedo et al. 2024, the FineWeb filters after Gopher and C4), as
datatrove 0.10.1 computes them.

Lines are the pieces between line breaks that hold more than white space, not stripped. Kept when:
at least 12 % of lines end in a sentence terminator (``TERMINAL_PUNCTUATION``: ``.`` ``!`` ``?`` and
their counterparts in other scripts, not a closing quote or bracket); at most 67 % of lines are 30
characters or shorter; lines that repeat an earlier line hold at most 1 % of the text's characters
other than line breaks; and there are at most 0.3 line breaks per word (spaCy's words, as
``word_tokens`` cuts them). In FineWeb this rule reads the text C4 left.
"""

from dataclasses import dataclass

from transforms.filters.text_units import duplicates, ends_a_sentence


@dataclass(frozen=True)
class FineWebQualityParams:
    min_terminal_punctuation_lines_ratio: float = 0.12
    short_line_length: int = 30
    max_short_lines_ratio: float = 0.67
    max_dup_line_char_ratio: float = 0.01
    max_newline_word_ratio: float = 0.3


def fineweb_quality(text: str, p: FineWebQualityParams = FineWebQualityParams()) -> str | None:
    from transforms.filters.word_tokens import word_tokens  # its tables take 0.3 s: built when a rule first runs

    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return "fineweb_terminal_punctuation"
    if sum(map(ends_a_sentence, lines)) / len(lines) < p.min_terminal_punctuation_lines_ratio:
        return "fineweb_terminal_punctuation"
    if sum(len(line) <= p.short_line_length for line in lines) / len(lines) > p.max_short_lines_ratio:
        return "fineweb_short_lines"
    _, dup_chars = duplicates(lines)
    if dup_chars / max(1, len(text) - text.count("\n")) > p.max_dup_line_char_ratio:
        return "fineweb_dup_line_chars"
    breaks = text.count("\n")
    # Every white-space piece holds at least one word: under the limit by pieces, under it by words.
    if breaks / max(1, len(text.split())) > p.max_newline_word_ratio and (
            breaks / max(1, len(word_tokens(text))) > p.max_newline_word_ratio):
        return "fineweb_newline_ratio"
    return None
