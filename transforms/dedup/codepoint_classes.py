"""A class per Unicode code point for MinHash normalization, so a whole text is classified at once.

The classes are made by running the normalization's own regular expressions over every code
point, once per process, so the table and the regex path cannot disagree: WORD is a character
that is not a separator (re's ``[^\\W_]``), DIGIT one that ``\\d`` folds to 0, COMBINING an accent
mark that normalization removes.
"""

import functools
import re
import sys

import numpy as np

WORD, DIGIT, COMBINING = 1, 2, 4


def _matches(pattern: re.Pattern, everything: str, code_points: np.ndarray) -> np.ndarray:
    # Replace each match by NUL: a code point matched where NUL now stands and did not before. This
    # needs a pattern that matches one character at a time, never more and never none.
    marked = np.frombuffer(pattern.sub("\0", everything).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if marked.size != code_points.size:
        raise ValueError(f"{pattern.pattern!r} does not match single characters")
    return (marked == 0) & (code_points != 0)


@functools.cache
def code_point_classes(separators: re.Pattern, digit: re.Pattern, combining: re.Pattern) -> np.ndarray:
    """A uint8 of WORD | DIGIT | COMBINING bits for every code point, index = code point."""
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    code_points = np.arange(sys.maxunicode + 1, dtype=np.uint32)
    single = re.compile(separators.pattern.removesuffix("+"), separators.flags)  # one character, not a run
    classes = np.where(_matches(single, everything, code_points) | (code_points == 0), 0, WORD).astype(np.uint8)
    classes |= np.where(_matches(digit, everything, code_points), DIGIT, 0).astype(np.uint8)
    classes |= np.where(_matches(combining, everything, code_points), COMBINING, 0).astype(np.uint8)
    return classes
