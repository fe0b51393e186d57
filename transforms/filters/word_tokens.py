"""Words as datatrove's English filters count them: spaCy's blank English tokenizer, reproduced.

datatrove 0.10.1 splits English text into words with ``spacy.blank("en")`` and drops the white-space
tokens; Gopher's word rules, its n-grams, FineWeb's line-per-word ratio and C4's sentences all read
those words. The tokenizer cuts the text at white space, then peels each piece from both ends, one
mark at a time: prefixes (opening brackets and quotes, currency signs, ``...``) off the front and
suffixes (closing brackets and quotes, ``,`` ``;`` ``!`` ``?``, a full stop after a lower-case
letter, a digit or a mark, ``'s``, a unit or currency after a number) off the back, stopping as soon as
what is left is a special case (``token_exceptions``: "don't" is "do" + "n't"). What remains is kept
whole if it reads as a URL or an e-mail address, else cut at infixes: ``...``, hyphens and
``/ : < > =`` between letters, a comma between letters, a full stop between a lower- and an
upper-case letter, arithmetic signs between digits. "re-use" is three words, "3.5" one, "U.S." one,
"end.Next" three.

The steps and the character sets follow spaCy 3.8's (facts read from its tokenizer); the regular
expressions are warcforge's own. Differences kept: letters are Python's letters
(``str.isalpha``), where spaCy lists the letters of the scripts it knows, so letters it does not list
(Serbian ћ ђ џ, Belarusian ў, Kazakh қ ұ, polytonic Greek, modifier letters) are cut by one and not
the other; the emoticon list is shortened; a URL whose host is a private or loopback IPv4 address
stays whole here. None decides a page of the real-html sample. Each distinct piece of up to 64
characters is cut once per process and cached, so a document costs about one cache look-up per piece.
"""

import re
from functools import lru_cache
from itertools import chain

from transforms.filters.char_classes import ALPHA, LOWER, SYMBOL_CHARS, SYMBOLS, UPPER, char_class
from transforms.filters.token_exceptions import SPECIAL_CASES

# The marks spaCy peels off either end of a piece.
_MARK_CHARS = ("\u2026,:;!?\u00bf\u061f\u00a1()[]{}<>_#*&\u3002\uff1f\uff01\uff0c\u3001\uff1b\uff1a\uff5e\u00b7"
                "\u0964\u060c\u06d4\u061b\u066a")
_QUOTE_CHARS = ("'\"\u201d\u201c`\u2018\u00b4\u2019\u201a,\u201e\u00bb\u00ab\u300c\u300d\u300e\u300f\uff08\uff09"
                 "\u3014\u3015\u3010\u3011\u300a\u300b\u3008\u3009\u2329\u232a\u27e6\u27e7")
_CURRENCY_SIGNS = ("$", "\u00a3", "\u20ac", "\u00a5", "\u0e3f", "US$", "C$", "A$", "\u20bd", "\ufdfc", "\u20b4",
                   *map(chr, range(0x20a0, 0x20c0)))
_MARKS, _QUOTES, _ICONS = char_class(_MARK_CHARS), char_class(_QUOTE_CHARS), SYMBOLS
_UNITS = ("km km\u00b2 km\u00b3 m m\u00b2 m\u00b3 dm dm\u00b2 dm\u00b3 cm cm\u00b2 cm\u00b3 mm mm\u00b2 mm\u00b3 ha "
          "\u00b5m nm yd in ft kg g mg \u00b5g t lb oz m/s km/h kmh mph hPa Pa mbar mb MB kb KB gb GB tb TB T G M K % "
          "\u043a\u043c \u043a\u043c\u00b2 \u043a\u043c\u00b3 \u043c \u043c\u00b2 \u043c\u00b3 \u0434\u043c "
          "\u0434\u043c\u00b2 \u0434\u043c\u00b3 \u0441\u043c \u0441\u043c\u00b2 \u0441\u043c\u00b3 \u043c\u043c "
          "\u043c\u043c\u00b2 \u043c\u043c\u00b3 \u043d\u043c \u043a\u0433 \u0433 \u043c\u0433 \u043c/\u0441 "
          "\u043a\u043c/\u0447 \u043a\u041f\u0430 \u041f\u0430 \u043c\u0431\u0430\u0440 \u041a\u0431 \u041a\u0411 "
          "\u043a\u0431 \u041c\u0431 \u041c\u0411 \u043c\u0431 \u0413\u0431 \u0413\u0411 \u0433\u0431 \u0422\u0431 "
          "\u0422\u0411").split()


def _alternatives(strings: tuple[str, ...] | list[str]) -> str:
    return "|".join(map(re.escape, strings))


_PREFIX = re.compile(
    rf"\.\.+|US\$|C\$|A\$|\+(?![0-9])|[\u00a7%=\u2014\u2013\$\u00a3\u00a5\u0e3f\u20a0-\u20bf\ufdfc{_MARKS}{_QUOTES}"
    rf"{_ICONS}]")
# The suffixes that do not end in a full stop (those are decided by ``_full_stop_is_cut``).
_SUFFIX = re.compile(
    r"(?:\u2026\u2026|['\u2019][sS]|[\u2014\u2013" + _MARKS + _QUOTES + _ICONS + r"]"
    r"|(?<=[0-9])\+"
    r"|(?<=[0-9])(?:" + _alternatives(_CURRENCY_SIGNS) + r")"
    r"|(?<=[0-9])(?:" + _alternatives(_UNITS) + r"))$")
_AFTER_WORD = f"[{ALPHA}0-9]"
_HYPHENS = ("-", "\u2013", "\u2014", "--", "---", "\u2014\u2014", "~")  # in the order spaCy tries them
# Each alternative consumes its mark first and looks behind afterwards: re then rejects most
# positions on one character test instead of trying every look-behind.
_INFIX = re.compile(
    r"\.\.+|\u2026|[" + _ICONS + r"]"
    r"|[+\-*^](?<=[0-9][+\-*^])(?=[0-9-])"
    r"|\.(?<=[" + LOWER + _QUOTES + r"]\.)(?=[" + UPPER + _QUOTES + r"])"
    r"|,(?<=[" + ALPHA + r"],)(?=[" + ALPHA + r"])"
    + "".join(f"|{re.escape(h)}(?<={_AFTER_WORD}{re.escape(h)})(?=[{ALPHA}])" for h in _HYPHENS)
    + r"|[:<>=/](?<=" + _AFTER_WORD + r"[:<>=/])(?=[" + ALPHA + r"])")
# A URL or e-mail address (scheme optional, then user@, then a dotted host name ending in a lower-case
# top-level domain or an IPv4 address, an optional port and path): spaCy keeps such a piece whole.
_HOST_LABEL = "[A-Za-z0-9\u00a1-\uffff](?:[A-Za-z0-9\u00a1-\uffff_-]{0,62}[A-Za-z0-9\u00a1-\uffff])?"
_SCHEME = r"(?:[\w+\-.]{2,}://)?"
_USER = r"(?:\S+(?::\S*)?@)?"
_HOST_AND_PATH = (
    r"(?:(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4])"
    r"|(?:" + _HOST_LABEL + r"\.)+[" + LOWER + r"]{2,63})"
    r"(?::\d{2,5})?(?:[/?#]\S*)?")
_URL = re.compile(_SCHEME + _USER + _HOST_AND_PATH)
# The same without the user part, for pieces with no "@" (the same answers): the user part's \S+
# backtracks over every position of a long piece, which made minified JSON quadratic.
_URL_WITHOUT_USER = re.compile(_SCHEME + _HOST_AND_PATH)


def _prefix_length(piece: str) -> int:
    if piece[:1].isalnum() and piece[:1] not in "UCA":  # only "US$", "C$" and "A$" start with a letter
        return 0
    found = _PREFIX.match(piece)
    return found.end() if found else 0


_LONGEST_SUFFIX = 5  # "km/h" after a digit; a run of dots is handled on its own
_APOSTROPHES = ("'", "\u2019")
_DIGIT = re.compile("[0-9]")
# Characters that are a prefix whatever follows them.
_ONE_CHARACTER_PREFIX = (frozenset("\u00a7%=\u2014\u2013" + _MARK_CHARS + _QUOTE_CHARS) | SYMBOL_CHARS) - {"\u2026"}
# Characters that end no suffix longer than themselves: such a last character is the whole suffix.
_ONLY_ONE_CHARACTER_SUFFIX = (frozenset("\u2014\u2013" + _MARK_CHARS + _QUOTE_CHARS) | SYMBOL_CHARS) - {"\u2026"}


_BEFORE_A_CUT_FULL_STOP = frozenset("0123456789%\u00b2-+|" + _MARK_CHARS + _QUOTE_CHARS)


def _full_stop_is_cut(before: str) -> bool:
    """Whether spaCy cuts off a full stop that follows ``before`` (what precedes it in the piece): after a
    digit, a lower-case letter or a mark, or after two upper-case letters ("Smith." and "USA." are cut,
    "A." and "McD." are not)."""
    last = before[-1]
    if last in _BEFORE_A_CUT_FULL_STOP or (last.isalpha() and not last.isupper()):
        return True
    return len(before) > 1 and last.isalpha() and before[-2].isalpha() and not last.islower() and (
        not before[-2].islower())


_DEGREES = frozenset(f"\u00b0{unit}" for unit in "FfCcKk")  # "°C." loses its full stop


def _suffix_length(piece: str) -> int:
    last = piece[-1:]
    if last in _ONLY_ONE_CHARACTER_SUFFIX:
        return 1
    if last == ".":
        if piece.endswith(".."):  # a run of dots at the end is one suffix, however long
            return len(piece) - len(piece.rstrip("."))
        before = piece[:-1]
        return int(bool(before) and (_full_stop_is_cut(before) or before[-2:] in _DEGREES))
    if last.isalpha() and piece[-2:-1] not in _APOSTROPHES and not _DIGIT.search(piece, len(piece) - _LONGEST_SUFFIX):
        return 0  # a suffix ending in a letter is "'s" or a unit after a number
    # Only the last characters can start a suffix; the look-behinds still see the ones before.
    found = _SUFFIX.search(piece, max(0, len(piece) - _LONGEST_SUFFIX))
    return found.end() - found.start() if found else 0


def _split_infixes(core: str) -> list[str]:
    out, start = [], 0
    for found in _INFIX.finditer(core):
        if found.start() == 0:  # spaCy never cuts at the very start of what is left
            continue
        if found.start() != start:
            out.append(core[start:found.start()])
        out.append(found.group())
        start = found.end()
    if core[start:]:
        out.append(core[start:])
    return out


def _core_tokens(core: str, specials: dict[str, tuple[str, ...]]) -> list[str] | tuple[str, ...]:
    if not core:
        return []
    if core in specials:
        return specials[core]
    if core.isalnum():  # every infix needs a mark or a symbol
        return [core]
    if "." in core and (_URL if "@" in core else _URL_WITHOUT_USER).fullmatch(core):  # a host name has a dot
        return [core]
    return _split_infixes(core)


def _cut(piece: str, specials: dict[str, tuple[str, ...]]) -> list[str]:
    """Peel prefixes and suffixes off ``piece`` one at a time, stopping at a special case; cut the rest."""
    prefixes: list[str] = []
    suffixes: list[str] = []
    rest, last_length = piece, -1
    while rest and len(rest) != last_length and rest not in specials:
        last_length = len(rest)
        pre = _prefix_length(rest)
        if pre and rest[pre:] in specials:
            prefixes.append(rest[:pre])
            rest = rest[pre:]
            break
        suf = _suffix_length(rest[pre:])
        if suf and rest[:-suf] in specials:
            suffixes.append(rest[-suf:])
            rest = rest[:-suf]
            break
        if pre and suf and pre + suf <= len(rest):
            prefixes.append(rest[:pre])
            suffixes.append(rest[-suf:])
            rest = rest[pre:-suf]
        elif pre:
            prefixes.append(rest[:pre])
            rest = rest[pre:]
        elif suf:
            suffixes.append(rest[-suf:])
            rest = rest[:-suf]
    return [*prefixes, *_core_tokens(rest, specials), *reversed(suffixes)]


def _has_affix(text: str) -> bool:
    return bool(_prefix_length(text) or _suffix_length(text) or _INFIX.search(text))


# A special case that the affix rules would cut ("e.g." is "e.g" + ".", "):" is ")" + ":") is also found
# after cutting, as that run of tokens inside one piece: "z.B." is cut "z", ".", "B." and "z" + "." is
# the special case "z.". Keyed by the tokens the rules give it.
_AS_CUT = {tuple(_cut(key, {})): key for key in SPECIAL_CASES if _has_affix(key)}
_AS_CUT_LENGTHS = sorted({len(tokens) for tokens in _AS_CUT})


_IN_A_RUN = frozenset(token for tokens in _AS_CUT for token in tokens)
_ALONE = frozenset(tokens[0] for tokens in _AS_CUT if len(tokens) == 1)


def _merge_special_runs(tokens: list[str]) -> tuple[str, ...]:
    """Replace runs of tokens that spell a special case by its tokens: the longest runs first, then the
    leftmost, a run kept only if its first and last tokens are not in a run already kept (as spaCy does)."""
    in_a_run = [token in _IN_A_RUN for token in tokens]
    if _ALONE.isdisjoint(tokens) and not any(map(all, zip(in_a_run, in_a_run[1:], strict=False))):
        return tuple(tokens)  # no special case of one token, no two neighbours that could start one
    found = [(start, start + n, _AS_CUT[run]) for start in range(len(tokens)) for n in _AS_CUT_LENGTHS
             if start + n <= len(tokens) and (run := tuple(tokens[start:start + n])) in _AS_CUT]
    if not found:
        return tuple(tokens)
    kept, taken = {}, set()
    for start, end, key in sorted(found, key=lambda f: (f[0] - f[1], f[0])):
        if start not in taken and end - 1 not in taken:
            kept[start] = (end, key)
        taken.update(range(start, end))
    out, i = [], 0
    while i < len(tokens):
        if i in kept:
            end, key = kept[i]
            out += SPECIAL_CASES[key]
            i = end
        else:
            out.append(tokens[i])
            i += 1
    return tuple(out)


def _word_and_mark(piece: str) -> tuple[str, str] | None:
    """The tokens of a word and one mark ("word," "(word" "end." "2024."), the commonest pieces after
    plain words, without the general steps; None for any other piece."""
    word, last = piece[:-1], piece[-1]
    if (word.isalpha() and word not in SPECIAL_CASES) or (word.isascii() and word.isdigit()):
        if last in _ONLY_ONE_CHARACTER_SUFFIX or (last == "." and _full_stop_is_cut(word)):
            return word, last
        return None
    word = piece[1:]
    if piece[0] in _ONE_CHARACTER_PREFIX and word.isalpha() and word not in SPECIAL_CASES:
        return piece[0], word
    return None


def _hyphenated(piece: str) -> list[str] | None:
    """The tokens of words joined by single hyphens ("re-use", "state-of-the-art"), else None."""
    parts = piece.split("-")
    if len(parts) < 2 or not all(map(str.isalpha, parts)):
        return None
    tokens = ["-"] * (2 * len(parts) - 1)
    tokens[::2] = parts
    return tokens


_LONGEST_CACHED = 64  # characters: longer pieces are rare and seldom repeat, and would make the cache large


def piece_tokens(piece: str) -> tuple[str, ...]:
    """The tokens of one white-space-free piece of text."""
    return _cut_piece(piece) if len(piece) > _LONGEST_CACHED else cached_piece_tokens(piece)


@lru_cache(maxsize=1 << 16)
def cached_piece_tokens(piece: str) -> tuple[str, ...]:
    return _cut_piece(piece)


def _cut_piece(piece: str) -> tuple[str, ...]:
    if piece in SPECIAL_CASES:
        return SPECIAL_CASES[piece]
    if piece.isalpha():  # no mark to peel or cut at: most words
        return (piece,)
    if piece.isascii() and piece.isdigit():
        return (piece,)
    if (pair := _word_and_mark(piece)) is not None:
        return pair
    tokens = _hyphenated(piece) or _cut(piece, SPECIAL_CASES)
    return _merge_special_runs(tokens) if len(tokens) > 1 else tuple(tokens)


@lru_cache(maxsize=4)  # the Gopher rules read the same text one after the other
def word_tokens(text: str) -> tuple[str, ...]:
    """The words of ``text`` as datatrove's English filters see them (spaCy's tokens, white space left out)."""
    return tuple(chain.from_iterable(map(piece_tokens, text.split())))
