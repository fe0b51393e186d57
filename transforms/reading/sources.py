"""Resolve the recipe's sources to the list of files to read, before any work.

Paths, globs and URLs are expanded and sorted; a crawl is resolved through its paths file and
the recipe's selection. A path that names no file, a glob that matches none, or a crawl whose
paths file cannot be had stops the run here with its name.
"""

import os
import urllib.parse
from dataclasses import dataclass
from typing import Protocol

import fsspec

from transforms.common.errors import MissingInputError, NotAnArchiveError
from transforms.common.fs_urls import is_local_fs, protocols, url_of
from transforms.common.secrets import redact_text
from transforms.reading import common_crawl
from transforms.reading.input_root import common_root, relative_name
from transforms.reading.record_views import ARCHIVE_HEAD_BYTES, archive_problem
from transforms.reading.request_failures import describe_failure
from transforms.reading.resumable_file import RetryPolicy

_GLOB_CHARS = set("*?[")



class InputSelection(Protocol):
    """What to read, as the recipe's ``input`` section says it: ``paths``, or a ``crawl`` and its selection."""

    paths: list[str] | None
    root: str | None
    crawl: str | None
    kind: str
    base: str
    first: int | None
    sample: int | None
    seed: int
    files: list[str] | None


@dataclass(frozen=True)
class InputFile:
    url: str  # where the bytes are read from: an absolute local path, or a full fsspec URL
    size: int | None  # None when not known before reading (crawl files are not listed with sizes)
    name: str = ""  # what documents record as warc_path: relative to the crawl's base or to root; else the url
    root: str = ""  # what name is relative to, for a ``paths`` source (credentials redacted); "" for a crawl

    @property
    def warc_path(self) -> str:
        return self.name or self.url


def resolve_inputs(config: InputSelection, policy: RetryPolicy) -> list[InputFile]:
    if config.crawl is None:
        return resolve_paths(config.paths or [], config.root)
    listing = common_crawl.paths_file_url(config.base, config.crawl, config.kind)
    chosen = common_crawl.select_shards(common_crawl.read_paths_file(listing, policy), config.first,
                                        config.sample, config.seed, config.files)
    if not chosen:
        raise MissingInputError(f"{listing} lists no files")
    return [InputFile(url=common_crawl.join_base(config.base, path), size=None, name=path) for path in chosen]


def resolve_paths(patterns: list[str], root: str | None = None) -> list[InputFile]:
    """The files the patterns name, sorted, each named relative to ``root`` (default: the deepest
    folder that holds them all), so documents record the same warc_path wherever the files lie."""
    found: dict[str, int | None] = {}
    for pattern in patterns:
        expanded = os.path.expanduser(pattern) if "://" not in pattern else pattern
        fs, path = fsspec.core.url_to_fs(expanded)
        if is_local_fs(fs):
            path = os.path.abspath(path)
        if _GLOB_CHARS & set(path):
            matches = fs.glob(path, detail=True)
            files = {p: info for p, info in matches.items() if info.get("type") != "directory"}
            if not files:
                raise MissingInputError(f"input {pattern!r} matched no files")
        else:
            try:
                info = fs.info(path)
            except FileNotFoundError as exc:
                # fsspec's HTTP filesystem says "not found" for every failure; its cause says which.
                why = _why_not_found(exc, expanded)
                message = f"input file not found: {pattern}" if why is None else f"input {pattern}: {why}"
                raise MissingInputError(message) from None
            if info.get("type") == "directory":
                example = f"{pattern.rstrip('/')}/*.warc.gz"
                raise MissingInputError(f"input {pattern!r} is a directory; name its files or a glob such as {example}")
            files = {path: info}
        for file_path, info in files.items():
            url = url_of(fs, file_path)
            found[url] = _listed_size(fs, info)
            if is_local_fs(fs):
                _check_is_archive(file_path, pattern)
    # Documents record where they came from, never the credentials that opened it.
    recorded = {url: redact_text(url) for url in found}
    if root is None:
        recorded_root = common_root(list(recorded.values()))
    else:
        recorded_root = redact_text(root if "://" in root else os.path.abspath(os.path.expanduser(root)))
    return [InputFile(url=url, size=found[url], name=relative_name(recorded[url], recorded_root), root=recorded_root)
            for url in sorted(found)]


def _listed_size(fs: fsspec.AbstractFileSystem, info: dict) -> int | None:
    """The size a listing gives, or None when it cannot be trusted.

    A web server's directory listing has no sizes, and fsspec's HTTP glob reports 0 for them:
    taken at its word, those files would never be requested.
    """
    size = info.get("size")
    if size is None or (size == 0 and not is_local_fs(fs) and protocols(fs) & {"http", "https"}):
        return None
    return int(size)


def _check_is_archive(path: str, pattern: str) -> None:
    """A local input that is no archive at all is a mistake to name now, not a dead letter later."""
    with open(path, "rb") as stream:
        problem = archive_problem(stream.read(ARCHIVE_HEAD_BYTES))
    if problem:
        matched = f" (matched by {pattern!r})" if path != pattern and _GLOB_CHARS & set(pattern) else ""
        raise NotAnArchiveError(f"input {path}{matched} is not a WARC, WET or ARC file: {problem}")


def _why_not_found(exc: FileNotFoundError, url: str) -> str | None:
    """What lies behind "not found" when it is something else; None when it is just that."""
    cause = exc.__cause__
    status = getattr(cause, "status", None)
    if cause is None or status == 404:
        return None
    if status is not None:
        return f"the server answered HTTP {status}"
    parts = urllib.parse.urlsplit(url)
    return str(describe_failure(cause, (parts.hostname or "", parts.port), None))
