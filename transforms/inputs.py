"""Resolve the recipe's input paths, globs and URLs to a sorted list of files, before any work.

A path that names no file, or a glob that matches none, stops the run here with its name.
"""

import os
from dataclasses import dataclass

import fsspec

from transforms.errors import MissingInputError

_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class InputFile:
    url: str  # absolute local path, or a full fsspec URL
    size: int


def is_local_fs(fs: fsspec.AbstractFileSystem) -> bool:
    return "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))


def url_of(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """A plain absolute path for local files, a full URL for everything else."""
    return path if is_local_fs(fs) else fs.unstrip_protocol(path)


def resolve_inputs(patterns: list[str]) -> list[InputFile]:
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
