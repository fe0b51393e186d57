"""Unicode character sets the word and sentence splitters read, built once at import from ``unicodedata``.

Each set is the body of a regex character class (escaped ranges), for patterns such as
``f"[{LOWER}]"``; the symbols are also a frozenset. Letters are Python's letters
(``str.isalpha``); scripts without case count as both lower and upper case, as spaCy counts them.
"""

import unicodedata
from operator import itemgetter

import numpy as np

_LAST_CODE_POINT = 0x30000  # the planes in use: CJK's extensions end below it
_EVERY = [chr(code) for code in range(_LAST_CODE_POINT)]
_CATEGORIES = list(map(unicodedata.category, _EVERY))


def _mask(flags: map) -> np.ndarray:
    return np.fromiter(flags, dtype=bool, count=_LAST_CODE_POINT)


def _escape(code: int) -> str:
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _class_of(mask: np.ndarray) -> str:
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.view(np.int8), [0])))).tolist()
    return "".join(_escape(start) if start == end - 1 else f"{_escape(start)}-{_escape(end - 1)}"
                   for start, end in zip(edges[::2], edges[1::2], strict=True))


def char_class(chars: str) -> str:
    """The body of a regex character class holding exactly ``chars``."""
    mask = np.zeros(_LAST_CODE_POINT, dtype=bool)
    mask[[ord(c) for c in chars]] = True
    return _class_of(mask)


_letter = _mask(map(str.isalpha, _EVERY))
_punctuation = _mask(map("P".__eq__, map(itemgetter(0), _CATEGORIES)))
_symbol = _mask(map("So".__eq__, _CATEGORIES))

ALPHA = _class_of(_letter)
LOWER = _class_of(_letter & ~_mask(map(str.isupper, _EVERY)))
UPPER = _class_of(_letter & ~_mask(map(str.islower, _EVERY)))
# Unicode punctuation (categories P*): what spaCy's ``is_punct`` tests, for the sentence splitter.
PUNCTUATION = _class_of(_punctuation)
# Other symbols (category So: dingbats, arrows, emoji), which spaCy cuts off as marks of their own.
SYMBOLS = _class_of(_symbol)
SYMBOL_CHARS = frozenset(_EVERY[i] for i in np.flatnonzero(_symbol).tolist())
