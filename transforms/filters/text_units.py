"""How the rules cut text into words, lines and paragraphs, in one place.

Words are runs of non-white-space characters (as the Gopher rules count them); lines are the
non-empty lines; paragraphs are blocks separated by a blank line, or the lines themselves in text
without blank lines (warcforge's extracted text puts one block element per line).
"""

import re

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
TERMINAL_PUNCTUATION = (".", "!", "?", '"', "'", "…", "。", "！", "？", "”", "’", "」", "』")


def words(text: str) -> list[str]:
    return text.split()


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def paragraphs(text: str) -> list[str]:
    blocks = [block.strip() for block in _PARAGRAPH_BREAK.split(text) if block.strip()]
    return blocks if len(blocks) > 1 else lines(text)


def duplicates(items: list[str]) -> tuple[int, int]:
    """How many items repeat an earlier one, and how many characters those repeats hold."""
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if item in seen:
            count += 1
            chars += len(item)
        else:
            seen.add(item)
    return count, chars
