"""What the quality rules share about reading text: repeats, and the punctuation sets of datatrove 0.10.1.

Words are spaCy's English tokens (``word_tokens``); each rule cuts lines and paragraphs itself, as
its reference does, and says how. ``TERMINAL_PUNCTUATION`` is what ends a sentence for FineWeb's line
rule: the full stop, ``!``, ``?`` and their counterparts in other scripts (Unicode's sentence
terminators; ``。`` ``！`` ``？`` among them), but no closing quote or bracket and no ``…``.
``SYMBOL_CHARACTERS`` is what Gopher's word rules count as a symbol: ASCII punctuation and control
characters, common typographic marks (dashes, curly quotes, ``…``, guillemets, CJK brackets) and the
sentence terminators; a word made only of them is not a word.
"""


def _expand(ranges: str) -> frozenset[str]:
    """Characters from hexadecimal code points and ranges: "0021 002E 0061-007A"."""
    out = []
    for item in ranges.split():
        first, _, last = item.partition("-")
        out += map(chr, range(int(first, 16), int(last or first, 16) + 1))
    return frozenset(out)


TERMINAL_PUNCTUATION = _expand(
    "0021 002E 003F 0589 061D-061F 06D4 0700-0702 07F9 0837 0839 083D-083E 0964-0965 104A-104B 1362 1367-1368 166E "
    "1735-1736 17D4-17D6 17D9-17DA 1803 1809 1944-1945 1AA8-1AAB 1B5A-1B5B 1B5E-1B5F 1B7D-1B7E 1C3B-1C3C 1C7E-1C7F "
    "203C-203D 2047-2049 2E2E 2E3C 2E53-2E54 3002 A4FF A60E-A60F A6F3 A6F7 A876-A877 A8CE-A8CF A92F A9C8-A9C9 "
    "AA5D-AA5F AAF0-AAF1 ABEB FE52 FE56-FE57 FF01 FF0E FF1F FF61 10A56-10A57 10F55-10F59 10F86-10F89 11047-11048 "
    "110BE-110C1 11141-11143 111C5-111C6 111CD 111DE-111DF 11238-11239 1123B-1123C 112A9 1144B-1144C 115C2-115C3 "
    "115C9-115D7 11641-11642 1173C-1173E 11944 11946 11A42-11A43 11A9B-11A9C 11C41-11C42 11EF7-11EF8 11F43-11F44 "
    "16A6E-16A6F 16AF5 16B37-16B38 16B44 16E98 1BC9F 1DA88")
SYMBOL_CHARACTERS = TERMINAL_PUNCTUATION | _expand(
    "0000-0008 000B-001F 0021-002F 003A-0040 005B-0060 007B-009F 00AB 00B4 00BB 2013-2014 2019 201C-201E 2026 2236 "
    "2501 25BA 3001-3002 3008-300D 3010-3011 FF01 FF05 FF08-FF09 FF0C FF0E FF11 FF1A-FF1B FF1F FF5E")
# The marks after which spaCy's sentence splitter starts a new sentence: the terminators above less
# those Unicode added after the splitter's list was written.
SENTENCE_END_CHARACTERS = TERMINAL_PUNCTUATION - _expand(
    "061D-061E 0837 0839 083D-083E 17D4-17D6 17D9-17DA 1B7D-1B7E 2E53-2E54 10F55-10F59 10F86-10F89 11944 11946 "
    "11EF7-11EF8 11F43-11F44 16E98")


def ends_a_sentence(line: str) -> bool:
    return line[-1:] in TERMINAL_PUNCTUATION


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
