"""Resolve the recipe's sources to the list of files to read, before any work.

Paths, globs and URLs are expanded and sorted; a crawl is resolved through its paths file and
the recipe's selection. A path that names no file, a glob that matches none, or a crawl whose
paths file cannot be had stops the run here with its name.
"""

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import fsspec

from transforms import common_crawl
from transforms.errors import MissingInputError
from transforms.resilient_read import RetryPolicy

_GLOB_CHARS = set("*?[")

if TYPE_CHECKING:
    from transforms.recipe import InputConfig


@dataclass(frozen=True)
class InputFile:
    url: str  # where the bytes are read from: an absolute local path, or a full fsspec URL
    size: int | None  # None when not known before reading (crawl files are not listed with sizes)
    name: str = ""  # what documents record as warc_path: the crawl-relative path, or the url

    @property
    def warc_path(self) -> str:
        return self.name or self.url


def is_local_fs(fs: fsspec.AbstractFileSystem) -> bool:
    return "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))


def url_of(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """A plain absolute path for local files, a full URL for everything else."""
    return path if is_local_fs(fs) else fs.unstrip_protocol(path)


def resolve_inputs(config: "InputConfig", policy: RetryPolicy) -> list[InputFile]:
    if config.crawl is None:
        return resolve_paths(config.paths or [])
    listing = common_crawl.paths_file_url(config.base, config.crawl, config.kind)
    chosen = common_crawl.select_shards(common_crawl.read_paths_file(listing, policy), config.first,
                                        config.sample, config.seed, config.files)
    if not chosen:
        raise MissingInputError(f"{listing} lists no files")
    return [InputFile(url=common_crawl.join_base(config.base, path), size=None, name=path) for path in chosen]


def resolve_paths(patterns: list[str]) -> list[InputFile]:
    found: dict[str, InputFile] = {}
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
            except FileNotFoundError:
                raise MissingInputError(f"input file not found: {pattern}") from None
            if info.get("type") == "directory":
                example = f"{pattern.rstrip('/')}/*.warc.gz"
                raise MissingInputError(f"input {pattern!r} is a directory; name its files or a glob such as {example}")
            files = {path: info}
        for file_path, info in files.items():
            url = url_of(fs, file_path)
            found[url] = InputFile(url=url, size=int(info.get("size") or 0))
    return [found[url] for url in sorted(found)]
