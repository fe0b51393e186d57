"""Gopher repetition rules (Rae et al. 2021, MassiveText, table A1).

Dropped when: more than 30 % of lines (or paragraphs) repeat an earlier one, or those repeats hold
more than 20 % of the characters; the most frequent 2-, 3- or 4-gram of words covers more than
20 %, 18 %, 16 % of the word characters; or the word characters covered by 5- to 10-grams that
occur more than once exceed 15 %, 14 %, 13 %, 12 %, 11 %, 10 %.
"""

from dataclasses import dataclass, field

import numpy as np

from transforms.filters.text_units import duplicates, lines, paragraphs, words


@dataclass(frozen=True)
class GopherRepetitionParams:
    max_dup_line_ratio: float = 0.3
    max_dup_line_char_ratio: float = 0.2
    max_dup_paragraph_ratio: float = 0.3
    max_dup_paragraph_char_ratio: float = 0.2
    max_top_ngram_char_ratio: dict[int, float] = field(default_factory=lambda: {2: 0.20, 3: 0.18, 4: 0.16})
    max_dup_ngram_char_ratio: dict[int, float] = field(
        default_factory=lambda: {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10})


def _char_ratio(count_chars: int, text: str) -> float:
    return count_chars / max(1, len(text))


class NgramCounts:
    """Word n-gram statistics by 64-bit hashes in numpy, not a Python dict per n-gram."""

    _MULTIPLIERS = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
                             0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9,
                             0x2545F4914F6CDD1D, 0x9FB21C651E98DF25], dtype=np.uint64)

    def __init__(self, tokens: list[str]) -> None:
        # Python's str hash is salted per process, but only equality within one document is used:
        # the ratios do not depend on the hash values.
        self.ids = np.fromiter(map(hash, tokens), dtype=np.int64, count=len(tokens)).view(np.uint64)
        self.lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        self.total_chars = int(self.lengths.sum())

    def _hashes(self, n: int) -> np.ndarray:
        count = len(self.ids) - n + 1
        hashes = np.zeros(count, dtype=np.uint64)
        for k in range(n):
            hashes = hashes * np.uint64(31) + self.ids[k: k + count] * self._MULTIPLIERS[k]
        return hashes

    def top_char_ratio(self, n: int) -> float:
        """Characters of the most frequent n-gram times its count, over all word characters; 0 when no
        n-gram repeats. Among equally frequent n-grams the longest counts."""
        if len(self.ids) < n or self.total_chars == 0:
            return 0.0
        hashes = self._hashes(n)
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        counts = np.diff(np.append(starts, len(ordered)))
        top = counts.max()
        if top < 2:
            return 0.0
        window = np.lib.stride_tricks.sliding_window_view(self.lengths, n).sum(axis=1)
        return float(window[order[starts[counts == top]]].max() * top / self.total_chars)

    def dup_char_ratio(self, n: int) -> float:
        """Characters of the words inside any n-gram that occurs more than once, each word once."""
        if len(self.ids) < n or self.total_chars == 0:
            return 0.0
        hashes = self._hashes(n)
        order = np.argsort(hashes)
        ordered = hashes[order]
        same = ordered[1:] == ordered[:-1]
        repeated = np.zeros(len(ordered), dtype=bool)
        repeated[1:] |= same
        repeated[:-1] |= same
        starts = order[repeated]
        if starts.size == 0:
            return 0.0
        edges = np.zeros(len(self.ids) + 1, dtype=np.int64)
        np.add.at(edges, starts, 1)
        np.add.at(edges, starts + n, -1)
        covered = np.cumsum(edges[:-1]) > 0
        return float(self.lengths[covered].sum() / self.total_chars)


def gopher_repetition(text: str, p: GopherRepetitionParams = GopherRepetitionParams()) -> str | None:
    text_lines = lines(text)
    dup_lines, dup_line_chars = duplicates(text_lines)
    if text_lines and dup_lines / len(text_lines) > p.max_dup_line_ratio:
        return "gopher_dup_lines"
    if _char_ratio(dup_line_chars, text) > p.max_dup_line_char_ratio:
        return "gopher_dup_line_chars"
    blocks = paragraphs(text)
    dup_blocks, dup_block_chars = duplicates(blocks)
    if blocks and dup_blocks / len(blocks) > p.max_dup_paragraph_ratio:
        return "gopher_dup_paragraphs"
    if _char_ratio(dup_block_chars, text) > p.max_dup_paragraph_char_ratio:
        return "gopher_dup_paragraph_chars"
    counts = NgramCounts(words(text))
    for n, limit in sorted(p.max_top_ngram_char_ratio.items()):
        if counts.top_char_ratio(n) > limit:
            return f"gopher_top_{n}gram"
    checks = sorted(p.max_dup_ngram_char_ratio.items())
    for i, (n, limit) in enumerate(checks):
        ratio = counts.dup_char_ratio(n)
        if ratio > limit:
            return f"gopher_dup_{n}gram"
        # Words covered by a repeated (n+1)-gram are covered by repeated n-grams, so the ratio only
        # falls as n grows: once it is under every later limit, no later check can fail.
        if all(ratio <= later for _, later in checks[i + 1:]) and _consecutive(checks[i:]):
            return None
    return None


def _consecutive(checks: list[tuple[int, float]]) -> bool:
    return all(b[0] == a[0] + 1 for a, b in zip(checks, checks[1:], strict=False))
