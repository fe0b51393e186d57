"""Reading a recipe file defensively, and where its relative paths point.

A recipe is a page of keys, so the file is bounded (``MAX_RECIPE_BYTES``), must be UTF-8, and is
plain YAML: anchors, aliases and merge keys are refused before anything is composed from them (a
kilobyte of nested aliases expands to gigabytes), and so is a key given twice (plain YAML loading
keeps the last one silently). Errors name the file and the line.
"""

import os
import posixpath
from typing import Any

import fsspec
import yaml

from transforms.common.errors import RecipeError

# A recipe is a page of keys; anything near this size is a mistake, refused before it is parsed.
MAX_RECIPE_BYTES = 1024 * 1024
# Recipes nest four levels (filters.gopher_repetition.max_top_ngram_char_ratio.2); deeper YAML
# would only exhaust the parser's recursion.
MAX_NESTING = 32
# The longest value an error message repeats: a recipe's value can be megabytes.
ECHO_CHARS = 80


def read_recipe_file(location: str) -> Any:
    """The parsed YAML of a recipe file (a local path or any fsspec URL), or ``RecipeError``."""
    return _parse_yaml(location, _decode(location, _read_capped(location)))


def resolve_location(location: str, folder: str | None) -> str:
    """URLs and absolute paths as written, ``~`` expanded, other paths joined to the folder (a
    local path or a URL; None is the working directory). Local results are absolute: workers do
    not share the driver's working directory."""
    if "://" in location:
        return location
    path = os.path.expanduser(location)
    if os.path.isabs(path):
        return path
    if folder is not None and "://" in folder:
        scheme, rest = folder.split("://", 1)
        bucket, _, folder_path = rest.partition("/")
        # Joined under a root so that '..' stops at the bucket (or host), as it stops at '/'.
        return f"{scheme}://{bucket}{posixpath.normpath(posixpath.join('/', folder_path, path))}"
    return os.path.abspath(os.path.join(folder or os.getcwd(), path))


def folder_of(location: str) -> str:
    """The folder a recipe file is in: the URL's folder for a URL, an absolute path otherwise."""
    if "://" in location:
        return location.rsplit("/", 1)[0]
    return os.path.dirname(os.path.abspath(os.path.expanduser(location)))


def _read_capped(location: str) -> bytes:
    """The file's bytes; past the cap it is refused without reading the rest."""
    try:
        with fsspec.open(location, "rb") as stream:
            data = _read_at_most(stream, MAX_RECIPE_BYTES + 1)
            if len(data) > MAX_RECIPE_BYTES:
                raise RecipeError(f"recipe {location}: {_size_beyond_cap(stream)} bytes; a recipe file may have "
                                  f"at most {MAX_RECIPE_BYTES:,} ({MAX_RECIPE_BYTES / 2**20:g} MiB)")
    except OSError as exc:
        raise RecipeError(f"recipe {location}: cannot be read ({exc.strerror or exc})") from exc
    return data


def _read_at_most(stream: Any, limit: int) -> bytes:
    """Up to ``limit`` bytes: a network stream may hand them over in several reads."""
    chunks, total = [], 0
    while total < limit:
        chunk = stream.read(limit - total)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _size_beyond_cap(stream: Any) -> str:
    try:
        return f"{stream.seek(0, os.SEEK_END):,}"
    except (OSError, ValueError):  # a stream that cannot seek: its size is not known without reading it all
        return f"more than {MAX_RECIPE_BYTES:,}"


def _decode(location: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RecipeError(f"recipe {location}: not UTF-8 (byte 0x{data[exc.start]:02x} at line {line})") from None


def _parse_yaml(location: str, text: str) -> Any:
    loader = RecipeYamlLoader(text)
    try:
        return loader.get_single_data()
    except RecipeYamlRefused as exc:
        raise RecipeError(f"recipe {location}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RecipeError(f"recipe {location}: not valid YAML{where}: {problem}") from None
    finally:
        loader.dispose()


class RecipeYamlRefused(Exception):
    """YAML a recipe may not use; the message names what and where, the caller names the file."""


_NO_REUSE = "recipes do not use anchors, aliases or merge keys; write the value out"


class RecipeYamlLoader(yaml.SafeLoader):
    """Safe YAML, narrowed to what recipes need. Anchors and aliases are refused as they are met,
    before anything is composed from them: a kilobyte of nested aliases expands to gigabytes. A key
    given twice is refused: plain YAML loading keeps the last one silently."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            sign, kind = ("*", "alias") if isinstance(event, yaml.AliasEvent) else ("&", "anchor")
            raise RecipeYamlRefused(f"YAML {kind} '{sign}{clip(event.anchor)}' at line {line}: {_NO_REUSE}")
        if self._depth >= MAX_NESTING:
            raise RecipeYamlRefused(f"nested more than {MAX_NESTING} levels deep at line {line}; "
                                    "recipes nest a few levels")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_document(self, node: yaml.Node) -> Any:
        self._refuse_repeated_keys(node, ())
        return super().construct_document(node)

    def _refuse_repeated_keys(self, node: yaml.Node, path: tuple) -> None:
        if isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._refuse_repeated_keys(item, (*path, index))
        if not isinstance(node, yaml.MappingNode):
            return
        first_lines: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise RecipeYamlRefused(f"YAML merge key '<<' at line {line}: {_NO_REUSE}")
            if not isinstance(key_node, yaml.ScalarNode):
                continue  # a list or mapping as a key: the constructor refuses it as unhashable
            key = self.construct_object(key_node)  # keys compare as values: 2 and 0x2 are one key
            if key in first_lines:
                dotted = clip(".".join(str(part) for part in (*path, key)))
                raise RecipeYamlRefused(f"duplicate key '{dotted}' at line {line} (first at line {first_lines[key]})")
            first_lines[key] = line
            self._refuse_repeated_keys(value_node, (*path, key))


def clip(text: str) -> str:
    """Text an error message repeats, cut short with its length."""
    if len(text) <= ECHO_CHARS:
        return text
    return f"{text[:ECHO_CHARS]}… {len(text):,} characters in all"

