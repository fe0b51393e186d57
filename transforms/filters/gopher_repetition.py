"""Gopher repetition rules (Rae et al. 2021, MassiveText, table A1), as datatrove 0.10.1 computes them.

Paragraphs are the blocks between runs of two or more line breaks (in the text stripped at both
ends); lines are the pieces between runs of line breaks (not stripped); a paragraph or line repeats
when an identical one came before it. Every share below is over the characters of the whole text.
Dropped, in this order, when: repeated paragraphs are more than 30 % of paragraphs, or hold more
than 20 % of the characters; repeated lines are more than 30 % of lines, or hold more than 20 %;
the most frequent word 2-, 3- or 4-gram covers more than 20 %, 18 %, 16 % (its characters, words
joined by single spaces, times its count; among equally frequent n-grams the first to occur; an
n-gram that occurs once counts too, so a text of a handful of words is dropped); or duplicated 5-
to 10-grams cover more than 15 %, 14 %, 13 %, 12 %, 11 %, 10 %. Duplicated n-grams are counted as
the reference counts them: reading the words from the start, an n-gram (its words' characters run
together) that was read before adds its characters and the reading jumps past it, else the reading
moves one word on; so the first copy is not counted and counted copies never overlap. Words are
spaCy's tokens (``word_tokens``). One difference is kept: copies are found by their words, so two
n-grams whose words differ but run together into the same characters ("ab c" and "a bc") are not
copies here, as they are in the reference; no such pair decides a page of the real-html sample.
"""

import re
from dataclasses import dataclass, field
from itertools import accumulate

import numpy as np

from transforms.filters.text_units import duplicates

_PARAGRAPH_BREAK = re.compile(r"\n{2,}")


@dataclass(frozen=True)
class GopherRepetitionParams:
    max_dup_line_ratio: float = 0.3
    max_dup_line_char_ratio: float = 0.2
    max_dup_paragraph_ratio: float = 0.3
    max_dup_paragraph_char_ratio: float = 0.2
    max_top_ngram_char_ratio: dict[int, float] = field(default_factory=lambda: {2: 0.20, 3: 0.18, 4: 0.16})
    max_dup_ngram_char_ratio: dict[int, float] = field(
        default_factory=lambda: {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10})


@dataclass(frozen=True)
class _Level:
    """The n-grams of one size that can occur more than once, sorted by hash, and those that do."""

    candidates: np.ndarray  # where the n-grams that might repeat start
    order: np.ndarray  # candidates[order] sorts them by hash
    ordered: np.ndarray  # their hashes in that order (equal words, equal hashes)
    positions: np.ndarray  # where the n-grams that occur more than once start, in order
    hashes: np.ndarray  # the hash of each of those


class NgramCounts:
    """Word n-gram statistics of one text, with numpy over 64-bit hashes rather than a dict per n-gram.

    Only n-grams that occur more than once can be the most frequent one (unless every n-gram occurs
    once) or a copy, and an n-gram occurs more than once only if its first n - 1 words do: so the
    positions to look at shrink as n grows, from every word to a few.
    """

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, words: tuple[str, ...] | list[str]) -> None:
        self.words = words
        # Python's str hash is salted per process, but only equality within one text is used.
        self.ids = np.fromiter(map(hash, words), dtype=np.int64, count=len(words)).view(np.uint64)
        self.starts = list(accumulate(map(len, words), initial=0))  # word i: starts[i] to starts[i + 1]
        self._run_together = ""
        everywhere = np.arange(len(words))
        with np.errstate(over="ignore"):  # every 1-gram, as the start
            self._levels = [_Level(everywhere, everywhere, everywhere, everywhere, self.ids * self._MULTIPLIER)]

    def _level(self, n: int) -> _Level:
        while len(self._levels) < n:
            self._levels.append(self._next_level(len(self._levels) + 1, self._levels[-1]))
        return self._levels[n - 1]

    def _next_level(self, n: int, shorter: _Level) -> _Level:
        # The (n - 1)-grams that occur more than once and can take one more word, extended by it.
        cut = int(np.searchsorted(shorter.positions, len(self.ids) - n, side="right"))
        candidates = shorter.positions[:cut]
        with np.errstate(over="ignore"):
            hashes = (shorter.hashes[:cut] + self.ids[candidates + (n - 1)]) * self._MULTIPLIER
        order = hashes.argsort()
        ordered = hashes[order]
        same = ordered[1:] == ordered[:-1]
        twice = np.zeros(len(ordered), dtype=bool)
        twice[1:] = same
        twice[:-1] |= same
        chosen = np.sort(order[twice])
        return _Level(candidates, order, ordered, candidates[chosen], hashes[chosen])

    def top_chars(self, n: int) -> int:
        """Characters of the most frequent n-gram (words joined by single spaces) times its count; among
        equally frequent ones, the first to occur. 0 when there are fewer than n words."""
        if len(self.ids) < n:
            return 0
        level, top, position = self._level(n), 1, 0  # when every n-gram occurs once: the first one
        if level.positions.size:
            group_starts = np.flatnonzero(np.concatenate(([True], level.ordered[1:] != level.ordered[:-1], [True])))
            counts = group_starts[1:] - group_starts[:-1]
            top = int(counts.max())
            position = int(level.candidates[level.order[np.repeat(counts == top, counts)]].min())
        return (self.starts[position + n] - self.starts[position] + n - 1) * top

    def duplicated_chars(self, n: int) -> int:
        """Characters of the n-grams the reference counts as copies (see the module's description)."""
        if len(self.ids) < n:
            return 0
        positions = self._level(n).positions.tolist()
        if not positions:
            return 0
        if not self._run_together:
            self._run_together = "".join(self.words)
        starts, run_together = self.starts, self._run_together
        seen: set[str] = set()
        total, resume = 0, 0
        for position in positions:
            if position < resume:  # inside a copy already counted: the reading jumped past it
                continue
            # The reference compares an n-gram's words run together, without spaces.
            gram = run_together[starts[position]: starts[position + n]]
            if gram in seen:
                total += len(gram)
                resume = position + n
            else:
                seen.add(gram)
        return total


def _lines(text: str) -> list[str]:
    """The pieces between runs of line breaks, as ``re.split(r"\\n+", text)`` gives them (an empty piece
    before a leading break and after a trailing one), without the regex."""
    pieces = text.split("\n")
    if len(pieces) == 1:
        return pieces
    return [pieces[0], *filter(None, pieces[1:-1]), pieces[-1]]


def gopher_repetition(text: str, p: GopherRepetitionParams = GopherRepetitionParams()) -> str | None:
    from transforms.filters.word_tokens import word_tokens  # its tables take 0.3 s: built when a rule first runs

    size = max(1, len(text))
    stripped = text.strip()
    paragraphs = _PARAGRAPH_BREAK.split(stripped) if "\n\n" in stripped else [stripped]
    dup_paragraphs, dup_paragraph_chars = duplicates(paragraphs)
    if dup_paragraphs / len(paragraphs) > p.max_dup_paragraph_ratio:
        return "gopher_dup_paragraphs"
    if dup_paragraph_chars / size > p.max_dup_paragraph_char_ratio:
        return "gopher_dup_paragraph_chars"
    lines = _lines(text)
    dup_lines, dup_line_chars = duplicates(lines)
    if dup_lines / len(lines) > p.max_dup_line_ratio:
        return "gopher_dup_lines"
    if dup_line_chars / size > p.max_dup_line_char_ratio:
        return "gopher_dup_line_chars"
    counts = NgramCounts(word_tokens(text))
    for n, limit in sorted(p.max_top_ngram_char_ratio.items()):
        if counts.top_chars(n) / size > limit:
            return f"gopher_top_{n}gram"
    for n, limit in sorted(p.max_dup_ngram_char_ratio.items()):
        if counts.duplicated_chars(n) / size > limit:
            return f"gopher_dup_{n}gram"
    return None
