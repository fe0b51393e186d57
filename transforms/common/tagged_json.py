"""Small JSON files that say what they are: ``{"format": "<name>/<version>", "<key>": {...}}``.

The refresh ledger, the watch ledger and the watch's claims are such files. Each is replaced
whole and atomically; one that is not what its format says is refused by name, never guessed at.
"""

import json
from collections.abc import Callable
from typing import TypeVar

import fsspec

from transforms.common.atomic_files import read_bytes, replace_atomically
from transforms.common.errors import OutputExistsError

T = TypeVar("T")


def dumps_json(obj: object) -> bytes:
    """The JSON warcforge publishes: sorted keys, two-space indent, UTF-8, a final newline."""
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def read_tagged(fs: fsspec.AbstractFileSystem, path: str, file_format: str, key: str,
                parse: Callable[[object], T], refusal: Callable[[str], str]) -> dict[str, T] | None:
    """``{name: parse(value)}`` of the file's ``key`` mapping; None when there is no file. A file of
    another format, or one that does not parse, raises OutputExistsError with ``refusal(why)``."""
    data = read_bytes(fs, path)
    if data is None:
        return None
    try:
        body = json.loads(data)
        if body.get("format") != file_format:
            raise ValueError(f"format {body.get('format')!r}, not {file_format}")
        return {name: parse(value) for name, value in body[key].items()}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise OutputExistsError(refusal(str(exc))) from None


def write_tagged(fs: fsspec.AbstractFileSystem, path: str, file_format: str, key: str, items: dict) -> None:
    replace_atomically(fs, path, dumps_json({"format": file_format, key: items}))
