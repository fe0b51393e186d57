"""C4's cleaning rules (Raffel et al. 2020, section 2.2), line by line as datatrove 0.10.1 applies them.

Each line (``str.splitlines``, stripped) is dropped when, in this order: a white-space word of it is
longer than 1,000 characters; after citation markers (``[1]``, ``[]``, ``[edit]``,
``[citation needed]``, matched as written: ``[Edit]`` stays) are removed, it does not end in ``.``
``?`` ``!`` ``"`` or ``'``, or ends in ``...`` (switchable: FineWeb switched it off); it had fewer
than 3 white-space words (counted before the markers were removed); it mentions "javascript"; or it
carries a cookie / terms-of-use / privacy-policy phrase. Blank lines fall to the word rule. A line
that passes the first three rules and contains "lorem ipsum" drops the whole page, as does a "{" in
a line that passes the first four. The page is dropped when its kept lines hold fewer than 5
sentences (``sentences``: a line without an end mark is one); otherwise its text becomes the kept
lines joined by single line breaks, and the rules after C4 read that text.
"""

import re
from dataclasses import dataclass

CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
END_MARKS = (".", "?", "!", '"', "'")
POLICY_PHRASES = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies",
                  "use cookies")
_POLICY = re.compile("|".join(map(re.escape, POLICY_PHRASES)))


@dataclass(frozen=True)
class C4Params:
    max_word_length: int = 1000
    min_words_per_line: int = 3
    require_terminal_punctuation: bool = True
    drop_javascript_lines: bool = True
    drop_policy_lines: bool = True
    remove_citations: bool = True
    drop_lorem_ipsum: bool = True
    drop_curly_bracket: bool = True
    min_sentences: int = 5


def line_verdict(line: str, p: C4Params) -> tuple[str | None, str]:
    """(why C4 drops this stripped line or None to keep it, the line without citation markers);
    "c4_lorem_ipsum" and "c4_curly_bracket" drop the whole page."""
    words = line.split()
    if len(line) > p.max_word_length and max(map(len, words)) > p.max_word_length:
        return "c4_line_long_word", line
    if p.remove_citations:
        line = CITATION.sub("", line)
    if p.require_terminal_punctuation and (not line.endswith(END_MARKS) or line.endswith("...")):
        return "c4_line_no_terminal_punctuation", line
    if len(words) < p.min_words_per_line:
        return "c4_line_too_few_words", line
    lowered = line.lower()
    if p.drop_lorem_ipsum and "lorem ipsum" in lowered:
        return "c4_lorem_ipsum", line
    if p.drop_javascript_lines and "javascript" in lowered:
        return "c4_line_javascript", line
    if p.drop_curly_bracket and "{" in line:
        return "c4_curly_bracket", line
    if p.drop_policy_lines and _POLICY.search(lowered):
        return "c4_line_policy", line
    return None, line


def c4_line_reason(line: str, p: C4Params) -> str | None:
    return line_verdict(line, p)[0]


_PAGE_REASONS = ("c4_lorem_ipsum", "c4_curly_bracket")


def c4_clean(text: str, p: C4Params = C4Params()) -> tuple[str | None, str, dict[str, int]]:
    """(drop reason or None, the cleaned text, dropped lines per line reason). Blank lines are left out
    without being counted."""
    from transforms.filters.sentences import count_sentences  # the word splitter's tables: built on first use

    kept, dropped, sentences = [], {}, 0
    for raw in text.splitlines():
        if not (stripped := raw.strip()):
            continue
        reason, line = line_verdict(stripped, p)
        if reason in _PAGE_REASONS:
            return reason, text, dropped
        if reason is not None:
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        kept.append(line)
        if sentences < p.min_sentences:  # only the threshold matters: stop counting once it is reached
            sentences += count_sentences(line)
    cleaned = "\n".join(kept).strip()
    if sentences < p.min_sentences:
        return "c4_too_few_sentences", cleaned, dropped
    return None, cleaned, dropped
