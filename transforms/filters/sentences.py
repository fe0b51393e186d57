"""How many sentences a line holds, as datatrove 0.10.1's C4 filter counts them (spaCy's sentencizer).

The line is cut into words (``word_tokens``); a word that is exactly one sentence-ending mark (``.``
``!`` ``?`` and their counterparts in other scripts) opens a break, and the next word that is not
made only of punctuation starts a new sentence. So a line without an end mark is one sentence,
"Hello. World." two, "Wait... what" one ("..." is not a single mark), "Mr. Smith left." one ("Mr."
is one word), "end.Next" two (the full stop between a lower- and an upper-case letter is cut off).
One difference is kept: spaCy makes a token of extra white space inside a line (two spaces, a tab),
which can start the new sentence in place of the next word; here it is skipped, which changes a
count only when marks alone follow it ("Yes.  !"), and no page of the real-html sample.
"""

import re
from functools import lru_cache

from transforms.filters.char_classes import PUNCTUATION
from transforms.filters.text_units import SENTENCE_END_CHARACTERS
from transforms.filters.word_tokens import piece_tokens

_ONLY_PUNCTUATION = re.compile(f"[{PUNCTUATION}]+")
_HAS_END = re.compile("[" + "".join(re.escape(c) for c in sorted(SENTENCE_END_CHARACTERS)) + "]")


def _breaks(piece: str, open_break: bool) -> tuple[int, bool]:
    """(sentences started inside ``piece``, whether a break is still open after it), given whether one was
    open before it. Pieces longer than 64 characters seldom recur and are not cached (the cache stays small)."""
    return _breaks_of(piece, open_break) if len(piece) > 64 else _piece_breaks(piece, open_break)


def _breaks_of(piece: str, open_break: bool) -> tuple[int, bool]:
    started = 0
    for token in piece_tokens(piece):
        if token in SENTENCE_END_CHARACTERS:
            open_break = True
        elif open_break and not _ONLY_PUNCTUATION.fullmatch(token):
            started += 1
            open_break = False
    return started, open_break


_piece_breaks = lru_cache(maxsize=1 << 14)(_breaks_of)


def count_sentences(line: str) -> int:
    if not _HAS_END.search(line):
        return 1
    count, open_break = 1, False
    for piece in line.split():
        # A piece without an end mark only matters when it closes an open break.
        if open_break or _HAS_END.search(piece):
            started, open_break = _breaks(piece, open_break)
            count += started
    return count
