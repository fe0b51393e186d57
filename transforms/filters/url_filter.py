"""Block documents by their URL, from lists named in the recipe (no list lives in the code).

Four kinds of list, one entry per line (``#`` starts a comment): ``domains`` (the host or any
parent domain of it), ``urls`` (the exact URL, without scheme and ``www.``), ``words`` (a whole
token of the URL, split at non-alphanumeric characters) and ``subwords`` (a substring of the
URL's host and path with punctuation removed), as in FineWeb's URL filter.
"""

import re
import urllib.parse
from dataclasses import dataclass

import fsspec

_TOKEN_SPLIT = re.compile(r"[^0-9a-z]+")


def load_list(location: str) -> frozenset[str]:
    with fsspec.open(location, "rt", encoding="utf-8") as stream:
        entries = (line.split("#", 1)[0].strip().lower() for line in stream)
        return frozenset(entry for entry in entries if entry)


@dataclass(frozen=True)
class Blocklists:
    domains: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()
    words: frozenset[str] = frozenset()
    subwords: tuple[str, ...] = ()

    @classmethod
    def load(cls, domains: list[str], urls: list[str], words: list[str], subwords: list[str]) -> "Blocklists":
        def union(locations: list[str]) -> frozenset[str]:
            return frozenset().union(*(load_list(location) for location in locations))

        return cls(union(domains), union(urls), union(words), tuple(sorted(union(subwords))))


def normalize_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url.strip().lower())
    host = (parts.hostname or "").removeprefix("www.")
    return host + parts.path + (f"?{parts.query}" if parts.query else "")


def url_reason(url: str | None, lists: Blocklists) -> str | None:
    if not url:
        return None
    parts = urllib.parse.urlsplit(url.strip().lower())
    host = (parts.hostname or "").removeprefix("www.")
    labels = host.split(".")
    if any(".".join(labels[i:]) in lists.domains for i in range(len(labels))):
        return "url_blocked_domain"
    if normalize_url(url) in lists.urls:
        return "url_blocked_url"
    if lists.words and any(token in lists.words for token in _TOKEN_SPLIT.split(host + parts.path)):
        return "url_banned_word"
    squeezed = _TOKEN_SPLIT.sub("", host + parts.path)
    if any(subword in squeezed for subword in lists.subwords):
        return "url_banned_subword"
    return None
