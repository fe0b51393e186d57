"""Normalization that decides when two documents are exact duplicates, and when two captures share a URL.

Two texts are exact duplicates when their normalized forms are equal:
1. Unicode NFKC (full-width and compatibility characters fold to their plain forms),
2. case folding (``str.casefold``, which also folds German sharp s and similar),
3. every run of Unicode white space becomes one space, and leading/trailing space is removed.
Punctuation, digits and accents are kept: removing them is near-duplicate territory.

Two captures share a URL (``dedup.url``) when their URLs are equal without scheme, ``www.``,
fragment and trailing slash, host lower-cased; the query string is kept.
"""

import hashlib
import re
import unicodedata
import urllib.parse

_WHITESPACE_RUN = re.compile(r"\s+")


def normalize_for_exact_dedup(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _WHITESPACE_RUN.sub(" ", folded).strip()


def exact_dedup_key(text: str) -> str:
    """Hex SHA-256 of the normalized text: the key that groups exact duplicates."""
    return hashlib.sha256(normalize_for_exact_dedup(text).encode("utf-8")).hexdigest()


def normalize_capture_url(url: str | None, fallback: str) -> str:
    if not url:
        return f"no-url:{fallback}"
    parts = urllib.parse.urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    return host + path + (f"?{parts.query}" if parts.query else "")
