"""Which input files have arrived, for ``warcforge watch``: listing a source and telling a complete
file from one still being written.

A crawler writes a WARC file for minutes before closing it. A file counts as complete when its
size was the same at two polls in a row (``stable_size``; an empty file never is), or when a
marker file beside it exists (``marker``: ``X.warc.gz`` is complete once ``X.warc.gz.done`` is
there). Common Crawl's news crawl lists a file in its month's paths file only once it is
uploaded, so a listed file is complete.
"""

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone

import fsspec

from transforms.common.fs_urls import is_local_fs, url_of
from transforms.common.secrets import redact_text
from transforms.reading.common_crawl import join_base, read_paths_file
from transforms.reading.input_root import relative_name
from transforms.reading.resumable_file import RetryPolicy
from transforms.reading.sources import InputFile

STABLE_SIZE, MARKER = "stable_size", "marker"
CC_NEWS = "CC-NEWS"
GLOB_CHARS = set("*?[")
# Names a crawler gives a file it has not closed yet: never an input, whatever the rule.
OPEN_SUFFIXES = (".open", ".tmp", ".part", ".partial", ".lck")
log = logging.getLogger("warcforge.watch")


@dataclass(frozen=True)
class WatchSource:
    """What a watch follows: ``patterns`` (globs, folders or single files; absolute paths or URLs)
    or Common Crawl's news crawl under ``cc_news_base``."""

    patterns: tuple[str, ...] = ()
    root: str = ""  # what documents' warc_path is relative to, for patterns
    cc_news_base: str | None = None
    complete_when: str = STABLE_SIZE
    marker_suffix: str = ".done"
    exclude: str = ""  # the watch's own output root: never an input, even inside a watched folder


@dataclass(frozen=True)
class Listing:
    """One poll's view: every candidate file's size (None: not known), and the markers present."""

    sizes: dict[str, int | None]
    markers: frozenset[str]
    names: dict[str, str]  # url -> warc_path


def list_source(source: WatchSource, policy: RetryPolicy, now_ms: int) -> Listing:
    if source.cc_news_base is not None:
        return _list_cc_news(source.cc_news_base, policy, now_ms)
    sizes: dict[str, int | None] = {}
    markers: set[str] = set()
    for pattern in source.patterns:
        fs, path = fsspec.core.url_to_fs(pattern)
        found = _files_under(fs, path)
        if source.complete_when == MARKER and not path.endswith("/"):
            found |= _files_under(fs, path + source.marker_suffix)  # a glob for the files misses their markers
        for file_path, info in found.items():
            url = url_of(fs, file_path)
            # A dot-file, or a file in a dot-folder under the watched one (a crawler's staging place), is
            # not an input: it would be taken again under its final name.
            if source.exclude and (url == source.exclude or url.startswith(source.exclude.rstrip("/") + "/")):
                continue
            below = relative_name(redact_text(url), source.root) if source.root else os.path.basename(file_path)
            if url.endswith(OPEN_SUFFIXES) or any(part.startswith(".") for part in below.split("/")):
                continue
            if source.complete_when == MARKER and url.endswith(source.marker_suffix):
                markers.add(url)
                continue
            sizes[url] = info.get("size")
    names = {url: relative_name(redact_text(url), source.root) for url in sizes}
    return Listing(sizes, frozenset(markers), names)


def _files_under(fs: fsspec.AbstractFileSystem, path: str) -> dict[str, dict]:
    """A glob's matches, every file under a folder, or the one file named; nothing (not an error) when
    nothing is there yet: a watched folder may still be empty."""
    if is_local_fs(fs):
        path = os.path.abspath(path)
    if GLOB_CHARS & set(path):
        found = fs.glob(path, detail=True)
    else:
        try:
            info = fs.info(path)
        except FileNotFoundError:
            return {}
        found = fs.find(path, detail=True) if info.get("type") == "directory" else {path: info}
    return {p: info for p, info in found.items() if info.get("type") != "directory"}


def complete_files(listing: Listing, previous_sizes: dict[str, int | None], source: WatchSource) -> list[str]:
    """The files of this listing that are complete, sorted."""
    if source.cc_news_base is not None:
        return sorted(listing.sizes)
    if source.complete_when == MARKER:
        return sorted(url for url in listing.sizes if url + source.marker_suffix in listing.markers)
    return sorted(url for url, size in listing.sizes.items()
                  if size and url in previous_sizes and previous_sizes[url] == size)


def input_file(listing: Listing, url: str, source: WatchSource) -> InputFile:
    root = "" if source.cc_news_base is not None else source.root
    return InputFile(url=url, size=listing.sizes.get(url), name=listing.names[url], root=root)


def cc_news_months(now_ms: int) -> list[str]:
    """The previous and the current month, as CC-NEWS names its folders (``2026/11``): a file closed
    just before midnight on the last day is listed in the month it belongs to."""
    now = datetime.fromtimestamp(now_ms / 1000, timezone.utc)
    previous = (now.year - 1, 12) if now.month == 1 else (now.year, now.month - 1)
    return [f"{y:04d}/{m:02d}" for y, m in (previous, (now.year, now.month))]


def cc_news_paths_url(base: str, month: str) -> str:
    return join_base(base, f"crawl-data/{CC_NEWS}/{month}/warc.paths.gz")


def _list_cc_news(base: str, policy: RetryPolicy, now_ms: int) -> Listing:
    sizes: dict[str, int | None] = {}
    names: dict[str, str] = {}
    for month in cc_news_months(now_ms):
        listing_url = cc_news_paths_url(base, month)
        try:
            paths = read_paths_file(listing_url, policy)
        except Exception as exc:  # noqa: BLE001 - early in a month its paths file is not there yet; poll again
            log.info("no CC-NEWS listing for %s yet (%s)", month, redact_text(str(exc)))
            continue
        for path in paths:
            url = join_base(base, path)
            sizes[url], names[url] = None, path
    return Listing(sizes, frozenset(), names)
