"""Main-content plain text from an HTML payload, with charset detection.

The charset comes from, in order: the HTTP Content-Type's ``charset`` parameter (when Python
knows it), the page's ``<meta charset>`` / ``http-equiv`` tag, and uchardet's guess on the
bytes. Names are mapped to WHATWG labels, as browsers do (``iso-8859-1`` decodes as
windows-1252, ``gb2312`` as GBK).
"""

import codecs
from dataclasses import dataclass

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import bytes_to_str, detect_encoding, map_encoding_to_html5
from resiliparse.parse.html import HTMLTree

from transforms.extraction.boilerplate import prune_boilerplate


@dataclass(frozen=True)
class ExtractOptions:
    main_content: bool = True
    alt_texts: bool = False
    links: bool = False
    list_bullets: bool = True
    preserve_formatting: bool = True


def _known_codec(name: str | None) -> str | None:
    if not name:
        return None
    mapped = map_encoding_to_html5(name, fallback_utf8=False)
    if not mapped:
        return None
    try:
        codecs.lookup(mapped)
    except LookupError:
        return None
    return mapped


def choose_charset(payload: bytes, declared_charset: str | None) -> str:
    declared = _known_codec(declared_charset)
    if declared:
        return declared
    return detect_encoding(payload, from_html_meta=True)


def html_to_text(payload: bytes, declared_charset: str | None, options: ExtractOptions) -> tuple[str, str]:
    """resiliparse as it comes (the extractor ``resiliparse``): (text, charset used). Text lines are
    stripped; blank lines are dropped."""
    charset = choose_charset(payload, declared_charset)
    tree = HTMLTree.parse(bytes_to_str(payload, charset))
    return tidy_lines(_plain_text(tree, options)), charset


def pruned_html_to_text(payload: bytes, declared_charset: str | None, options: ExtractOptions) -> tuple[str, str]:
    """The extractor ``resiliparse_pruned``: blocks the page marks as boilerplate and the headline
    removed first (``boilerplate``), then resiliparse without the comment sections it recognizes."""
    charset = choose_charset(payload, declared_charset)
    tree = HTMLTree.parse(bytes_to_str(payload, charset))
    if options.main_content:
        prune_boilerplate(tree, payload, charset)
    return tidy_lines(_plain_text(tree, options, comments=not options.main_content)), charset


def _plain_text(tree: HTMLTree, options: ExtractOptions, comments: bool = True) -> str:
    return extract_plain_text(
        tree,
        main_content=options.main_content,
        alt_texts=options.alt_texts,
        links=options.links,
        list_bullets=options.list_bullets,
        preserve_formatting=options.preserve_formatting,
        comments=comments,
    )


def tidy_lines(text: str) -> str:
    # U+FEFF is a byte-order mark that pages concatenated from several files carry mid-text.
    lines = (line.replace("\ufeff", "").strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)
