"""Decide whether an HTTP payload is an HTML page.

Order of evidence:
1. ``WARC-Identified-Payload-Type``: Common Crawl's detector looked at the bytes, so where it is
   present it beats a server's Content-Type (servers label PDFs and images as text/html).
2. The HTTP Content-Type, unless it is missing or generic (``application/octet-stream`` and
   friends say nothing about the bytes).
3. Sniffing the first bytes for an HTML tag, as browsers do for untyped responses.
"""

import re

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/vnd.wap.xhtml+xml"})
GENERIC_TYPES = frozenset(
    {"", "application/octet-stream", "application/unknown", "unknown/unknown", "*/*", "binary/octet-stream"}
)
SNIFF_BYTES = 1024

# Tags that start an HTML document in the browsers' sniffing rules; a tag must be followed by
# white space or ">" so that "<br" does not match "<brand>".
_HTML_START = re.compile(
    rb"<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--)[\s>]",
    re.IGNORECASE,
)
_LEADING_NOISE = b" \t\n\r\x0c\xef\xbb\xbf"


def mime_type(content_type: str | None) -> str:
    """The bare, lower-case MIME type of a Content-Type value ("" when there is none)."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def charset_param(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type value, unquoted, or None."""
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            value = value.strip().strip("\"'").strip()
            return value or None
    return None


def sniffs_as_html(payload_head: bytes) -> bool:
    head = payload_head[:SNIFF_BYTES].lstrip(_LEADING_NOISE)
    return _HTML_START.match(head) is not None


def is_html(content_type: str | None, identified_type: str | None, payload_head: bytes) -> bool:
    identified = mime_type(identified_type)
    if identified and identified not in GENERIC_TYPES:
        return identified in HTML_TYPES
    declared = mime_type(content_type)
    if declared not in GENERIC_TYPES:
        return declared in HTML_TYPES
    return sniffs_as_html(payload_head)
