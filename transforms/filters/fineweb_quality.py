"""FineWeb's own quality rules (Penedo et al. 2024, the FineWeb filters after Gopher and C4).

Kept when: at least 12 % of lines end in terminal punctuation; at most 67 % of lines are 30
characters or shorter; lines that repeat an earlier line hold at most 1 % of the characters; and
there are at most 0.3 line breaks per word.
"""

from dataclasses import dataclass

from transforms.filters.text_units import TERMINAL_PUNCTUATION, duplicates, lines, words


@dataclass(frozen=True)
class FineWebQualityParams:
    min_terminal_punctuation_lines_ratio: float = 0.12
    short_line_length: int = 30
    max_short_lines_ratio: float = 0.67
    max_dup_line_char_ratio: float = 0.01
    max_newline_word_ratio: float = 0.3


def fineweb_quality(text: str, p: FineWebQualityParams = FineWebQualityParams()) -> str | None:
    text_lines = lines(text)
    if not text_lines:
        return "fineweb_terminal_punctuation"
    if sum(line.endswith(TERMINAL_PUNCTUATION) for line in text_lines) / len(text_lines) < (
            p.min_terminal_punctuation_lines_ratio):
        return "fineweb_terminal_punctuation"
    if sum(len(line) <= p.short_line_length for line in text_lines) / len(text_lines) > p.max_short_lines_ratio:
        return "fineweb_short_lines"
    _, dup_chars = duplicates(text_lines)
    if dup_chars / max(1, sum(len(line) for line in text_lines)) > p.max_dup_line_char_ratio:
        return "fineweb_dup_line_chars"
    if text.count("\n") / max(1, len(words(text))) > p.max_newline_word_ratio:
        return "fineweb_newline_ratio"
    return None
