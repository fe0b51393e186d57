"""Blocks a page marks as boilerplate, removed from the DOM before resiliparse picks the main content.

resiliparse's main-content pass keeps reader-comment threads, "you may also like" teasers, share
bars, captions and bylines on many article pages: it finds the article, then keeps too much around
it. Pages name those blocks themselves, in the words of their ``class`` attributes
(``share-bar``, ``post-date``, ``author-bio``, ``ad-slot``). An element whose class holds such a
word is removed, and so is the headline (``h1``), which reference article bodies leave out; then
resiliparse extracts with its own comment-section rule on (``comments=False``).

Two guards keep the article: the element holding the page's main text block (the parent with the
most paragraph text) is never removed, nor is an element that contains it or holds more than
``max_share`` of its text (of the page's text where no paragraph was found). Class values are
found in the page's bytes by a plain regular expression and matched in the DOM with exact CSS
attribute selectors, because asking the DOM for every element with a class costs more than the
extraction itself.
"""

import re

from resiliparse.parse.html import CSSParserException, HTMLTree

# Words of a class value (lower case, split at white space, - and _) that mark a block as
# boilerplate. Chosen from the kinds of block reference bodies leave out, each checked to lower
# precision errors more than it costs recall on ../shared's annotated pages. Words resiliparse's own
# rules already act on (comment, comments, reply, related, popular, trending, signup) are left out:
# each word costs a CSS selector on every page that uses it.
MARKER_WORDS = frozenset("""
    commentlist disqus respond replies
    also youmaylike
    share sharing sharebar social
    newsletter subscribe subscription
    ad ads cookie cookies consent gdpr
    breaking mostread
    tag tags taglist authorbio byline author meta date time timestamp published updated
    gallery slideshow caption credit credits
    modal popup outbrain taboola widget sidebar breadcrumb breadcrumbs pagination toolbar print
    kommentar kommentare comentario comentarios commentaire commentaires komentarz komentarze
    verwandt verwandte teilen compartir partage werbung anzeige publicidad
""".split())
MARKER_PREFIXES = ("recommend", "promo", "advert", "sponsor", "relacionad")
# Markers written as two words; their halves alone mark nothing.
MARKER_PAIRS = ("most-read", "author-bio", "you-may-like")
_RARE = (*MARKER_PREFIXES, *MARKER_PAIRS)
# Class attributes written in lower case with a quoted value: what nearly every page writes. An
# upper-case or unquoted attribute is not looked at (its block is then left to resiliparse, as
# before). ids are not looked at either: on the reference pages they changed almost nothing and cost
# a tenth of the extraction. The scan runs over the payload's bytes, a third cheaper than over the
# decoded text; the pattern starts with a literal, which the engine scans for quickly; a value is
# read up to the first quote of either kind (one cut short finds no element, and nothing is removed).
_CLASS_VALUE = re.compile(rb"""class=["']([^"']*)""")
HEADLINE = "h1"
# Each selector is matched against every element: a page with thousands of distinct marked values (a
# tag cloud, an archive page) would cost their product. The first ones in sorted order are used.
MAX_SELECTORS = 64
# Their text is never extracted; removed first, they do not count in the size guards (a widget's
# inline script would otherwise make it look large).
_NOT_TEXT = "script, style"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_marked(value: str) -> bool:
    """Whether a class value holds a boilerplate word (words split at white space, - and _)."""
    value = value.lower()
    words = value.replace("-", " ").replace("_", " ").split()
    if not MARKER_WORDS.isdisjoint(words):
        return True
    # Plain substring tests first: most values hold none of these, and they cost least.
    if any(rare in value for rare in _RARE):
        return any(w.startswith(MARKER_PREFIXES) for w in words) or any(pair in value for pair in MARKER_PAIRS)
    return False


def _css_string(value: str) -> str:
    """``value`` as a CSS string: backslash and quote escaped, control characters as hex escapes (a raw
    line feed, carriage return or form feed ends a CSS string, and lexbor then refuses the selector)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _CONTROL.sub(lambda m: f"\\{ord(m.group()):x} ", escaped) + '"'


def marked_selectors(payload: bytes, charset: str = "utf-8") -> list[str]:
    """CSS selectors for the elements whose class value holds a boilerplate word, sorted.

    ``payload`` is the page's bytes in ``charset``; a value is decoded as the page is. In a charset
    that does not write ASCII as single bytes (UTF-16) nothing is found, and nothing removed."""
    selectors = []
    for raw in set(_CLASS_VALUE.findall(payload)):
        # A character reference would be decoded in the DOM's value: the selector would miss.
        if not raw or b"&" in raw:
            continue
        value = raw.decode(charset, errors="replace")
        if is_marked(value):
            selectors.append(f"[class={_css_string(value)}]")
    return sorted(selectors)[:MAX_SELECTORS]


def main_block(paragraphs: list, body) -> object | None:  # noqa: ANN001 - resiliparse nodes have no public type
    """The element holding the most paragraph text directly: the article's container on most pages."""
    score: dict = {}
    for paragraph in paragraphs:
        parent = paragraph.parent
        if parent is not None:
            score[parent] = score.get(parent, 0) + len(paragraph.text_content or "")
    if not score:  # text set with <br>, not in paragraphs
        for br in body.query_selector_all("br")[:]:
            parent = br.parent
            if parent is not None and parent not in score:
                score[parent] = sum(len(n.text_content or "") for n in parent.child_nodes[:] if n.type == 3)
    return max(score, key=score.get) if score else None


def prune_boilerplate(tree: HTMLTree, payload: bytes, charset: str, max_share: float = 0.3) -> None:
    """Detach the marked blocks and headlines of ``tree`` (parsed from ``payload`` decoded as
    ``charset``) from the document."""
    body = tree.body
    if body is None:
        return
    # One pass over the DOM finds the candidates and the paragraphs that locate the main block.
    query = ", ".join(["p", HEADLINE, _NOT_TEXT, *marked_selectors(payload, charset)])
    try:
        found = body.query_selector_all(query)[:]
    except CSSParserException:  # a value escaped wrongly must cost the page its pruning, not its text
        found = body.query_selector_all(f"p, {HEADLINE}, {_NOT_TEXT}")[:]
    paragraphs, candidates = [], []
    for element in found:
        tag = element.tag
        if tag in ("script", "style"):
            element.parent.remove_child(element)
            continue
        if tag != "p":
            candidates.append(element)
            continue
        paragraphs.append(element)
        if element.has_attribute("class") and is_marked(element.get_attribute("class") or ""):
            candidates.append(element)
    if not candidates:
        return
    main = main_block(paragraphs, body)
    # Lengths are of text_content (script and style text included): a size guard needs no more,
    # and it costs half of .text. The page's length is only needed when no main block was found:
    # otherwise a block within max_share of the main block is within max_share of the page.
    limit = max_share * len(main.text_content or "") if main is not None else max_share * len(body.text_content or "")
    for element in candidates:
        if main is not None and (element == main or element.contains(main)):
            continue
        if len(element.text_content or "") > limit:
            continue
        # Detached, not freed: a candidate inside an element detached before it stays valid (it
        # is then detached from a detached block, which changes nothing).
        parent = element.parent
        if parent is not None:
            parent.remove_child(element)
