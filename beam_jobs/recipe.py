"""The recipe: one typed model for every key of a ``configs/*.yaml`` file.

Loading validates the whole file before any work starts; an unknown key, a wrong type or a bad
value raises ``RecipeError`` naming the key and what is allowed there. The file itself is read
defensively: bounded in size, UTF-8, and YAML without anchors, aliases, merge keys or a key
given twice. Relative paths in a recipe resolve against the recipe's own folder.
"""

import hashlib
import json
import os
import posixpath
from pathlib import Path
from typing import Any, Literal

import fsspec
import yaml
from pydantic import BaseModel, Field, PrivateAttr, ValidationError, model_validator

from beam_jobs.recipe_filters import FiltersConfig
from beam_jobs.recipe_filters import RecipeSection as _Section
from transforms.common.errors import RecipeError
from transforms.reading.common_crawl import CRAWL_ID, DATA_BASE

# A recipe is a page of keys; anything near this size is a mistake, refused before it is parsed.
MAX_RECIPE_BYTES = 1024 * 1024
# The description is copied into every manifest; a few paragraphs at most.
MAX_DESCRIPTION_CHARS = 10_000
# Recipes nest four levels (filters.gopher_repetition.max_top_ngram_char_ratio.2); deeper YAML
# would only exhaust the parser's recursion.
MAX_NESTING = 32
# The longest value an error message repeats: a recipe's value can be megabytes.
ECHO_CHARS = 80


class InputConfig(_Section):
    paths: list[str] | None = Field(
        None,
        min_length=1,
        description="WARC, WET or ARC files: local paths, globs, or fsspec URLs (file://, https://, "
        "s3://, gs://, memory://). Relative paths resolve against the recipe's folder; --input paths "
        "against the working directory.",
    )
    crawl: str | None = Field(
        None, pattern=CRAWL_ID.pattern, description="A Common Crawl crawl id, e.g. CC-MAIN-2025-18."
    )
    kind: Literal["warc", "wet"] = Field("warc", description="Which files of the crawl: WARC or WET.")
    base: str = Field(
        DATA_BASE, min_length=1,
        description="Where the crawl's crawl-data/ tree is: Common Crawl's HTTPS endpoint, "
        "s3://commoncrawl/, any fsspec URL of a mirror, or a local copy (a relative path resolves against "
        "the recipe's folder).",
    )
    first: int | None = Field(None, ge=1, description="Only the first N files of the paths list.")
    sample: int | None = Field(None, ge=1, description="A deterministic sample of N files, chosen by seed.")
    seed: int = Field(0, description="Seed of the sample.")
    files: list[str] | None = Field(
        None, min_length=1, description="Only these files, as paths relative to base (crawl-data/...)."
    )

    @model_validator(mode="after")
    def one_source(self) -> "InputConfig":
        if (self.paths is None) == (self.crawl is None):
            raise ValueError("give exactly one of 'paths' or 'crawl'")
        if self.crawl is None:
            crawl_only = [k for k in ("first", "sample", "files") if getattr(self, k) is not None]
            if crawl_only:
                raise ValueError(f"'{crawl_only[0]}' selects files of a crawl; it needs 'crawl'")
        chosen = [k for k in ("first", "sample", "files") if getattr(self, k) is not None]
        if len(chosen) > 1:
            raise ValueError(f"choose one of 'first', 'sample' or 'files', not {' and '.join(chosen)}")
        return self


class RetryConfig(_Section):
    max_attempts: int = Field(10, ge=1, le=1000, description="Failed attempts in a row, without progress, "
                              "before a file counts as failed.")
    initial_backoff_s: float = Field(1.0, ge=0, description="First wait; doubles with each failure in a row.")
    max_backoff_s: float = Field(60.0, ge=0, description="Longest wait between two attempts.")
    min_retry_interval_s: float = Field(
        1.0, ge=0, description="Least time between two retries to one host from one worker process; Common "
        "Crawl asks for at least one second.")
    read_timeout_s: float = Field(60.0, gt=0, description="A connection silent this long is dropped and retried.")


class ReadConfig(_Section):
    max_payload_bytes: int = Field(
        8 * 1024 * 1024,
        ge=1024,
        description="Responses whose payload (declared or decoded) is larger are dropped as "
        "payload_too_large; bounds the memory one record can take.",
    )
    keep_truncated: bool = Field(
        False, description="Keep records whose payload is cut short (WARC-Truncated header, or bytes missing "
        "from the file) as documents with truncated=true, instead of dropping them.")
    max_requests_per_host: int = Field(4, ge=1, description="Open requests to one host per worker process.")
    on_shard_failure: Literal["fail", "skip"] = Field(
        "fail", description="A file still failing after its retries fails the run, or is listed in the "
        "manifest's failed_shards and skipped (the run then exits with status 3).")
    retry: RetryConfig = RetryConfig()


class ExtractConfig(_Section):
    extractor: Literal["resiliparse", "trafilatura"] = Field(
        "resiliparse", description="resiliparse (default, about 1 ms a page) or trafilatura (slower).")
    timeout_s: float = Field(
        10.0, gt=0, description="trafilatura only: a page still extracting after this long is dropped as "
        "extract_timeout (it runs in a child process that is killed).")
    main_content: bool = Field(True, description="Keep only the main content (resiliparse heuristics).")
    alt_texts: bool = Field(False, description="Include image alt texts.")
    links: bool = Field(False, description="Include link target URLs.")
    list_bullets: bool = Field(True, description="Prefix list items with bullets.")
    preserve_formatting: bool = Field(True, description="Keep line and paragraph breaks.")


class NearDedupConfig(_Section):
    enabled: bool = False
    bands: int = Field(14, ge=1, le=1000, description="LSH bands; FineWeb used 14.")
    rows: int = Field(8, ge=1, le=1000, description="Rows (hashes) per band; FineWeb used 8.")
    ngram: int = Field(5, ge=1, le=50, description="Words per shingle; FineWeb used 5.")
    seed: int = Field(1, description="Seed of the hash permutations.")
    rounds: int = Field(4, ge=1, le=50, description="Label-propagation rounds that resolve clusters.")
    hot_bucket_size: int = Field(10_000, ge=2, description="Buckets with more members are joined by side input.")
    survivor: Literal["smallest_id", "newest", "longest"] = Field(
        "smallest_id", description="Which document of a cluster is kept.")


class DedupConfig(_Section):
    url: Literal["off", "newest", "longest"] = Field(
        "off", description="Keep one capture per normalized URL: the newest or the longest.")
    exact: bool = Field(True, description="Remove documents whose normalized text is identical.")
    survivor: Literal["smallest_id", "earliest", "latest"] = Field(
        "smallest_id",
        description="Which copy of a duplicate group is kept: the smallest id, the earliest or the "
        "latest WARC-Date (ties broken by smallest id).",
    )
    near: NearDedupConfig = NearDedupConfig()


class OutputConfig(_Section):
    num_shards: int = Field(4, ge=1, le=1_000_000, description="Number of Parquet files for documents.")
    dead_letter_shards: int = Field(1, ge=1, le=100_000, description="Number of dead-letter Parquet files.")
    compression: Literal["zstd", "snappy", "gzip", "none"] = Field("zstd", description="Parquet codec.")
    compression_level: int = Field(3, ge=1, le=22, description="Codec level (zstd 1-22, gzip 1-9).")
    row_group_rows: int = Field(10_000, ge=1, description="Rows per Parquet row group.")
    rejected_shards: int = Field(1, ge=1, le=100_000, description="Number of rejected-documents Parquet files.")


class Recipe(_Section):
    name: str = Field(min_length=1, description="Name of the dataset this recipe builds.")
    description: str = Field("", max_length=MAX_DESCRIPTION_CHARS, description="Free text, copied into the manifest.")
    input: InputConfig
    read: ReadConfig = ReadConfig()
    extract: ExtractConfig = ExtractConfig()
    filters: FiltersConfig = FiltersConfig()
    dedup: DedupConfig = DedupConfig()
    output: OutputConfig = OutputConfig()

    # Where relative paths resolve; None is the working directory. Private, not fields: the manifest
    # and the digest keep the recipe as written.
    _folder: str | None = PrivateAttr(None)  # the recipe file's folder: blocklists, input.base
    _input_folder: str | None = PrivateAttr(None)  # input.paths': the working directory after --input

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        """SHA-256 of the recipe with every default filled in: equal digests, equal behaviour."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    def with_inputs(self, paths: list[str]) -> "Recipe":
        """The recipe with its sources replaced by these paths (``--input``): command-line paths,
        so relative ones resolve against the working directory."""
        replaced = self.model_copy(update={"input": InputConfig(paths=paths)})
        replaced._input_folder = None
        return replaced

    def resolve_path(self, location: str) -> str:
        """A path the recipe names (a blocklist), as the job reads it: see ``resolve_location``."""
        return resolve_location(location, self._folder)

    def resolved_input(self) -> InputConfig:
        """The input section as the job reads it: relative local paths and base made absolute."""
        paths = self.input.paths
        resolved = None if paths is None else [resolve_location(p, self._input_folder) for p in paths]
        return self.input.model_copy(update={"paths": resolved, "base": self.resolve_path(self.input.base)})


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


def load_recipe(path: str | Path) -> Recipe:
    """Read a recipe from a local path or any fsspec URL (a cluster launcher may read it from a bucket)."""
    location = str(path)
    data = _parse_yaml(location, _decode(location, _read_capped(location)))
    return parse_recipe(data, source=location, folder=folder_of(location))


def parse_recipe(data: Any, source: str = "recipe", folder: str | None = None) -> Recipe:
    """Validate a recipe's keys; ``folder`` is where its relative paths resolve (None: the working directory)."""
    if not isinstance(data, dict):
        raise RecipeError(f"recipe {source}: the top level must be a mapping of keys, got {type(data).__name__}")
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(error) for error in exc.errors()]
        raise RecipeError(f"recipe {source}: " + "; ".join(problems)) from None
    recipe._folder = recipe._input_folder = folder
    return recipe


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
            raise RecipeYamlRefused(f"YAML {kind} '{sign}{_clip(event.anchor)}' at line {line}: {_NO_REUSE}")
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
                dotted = _clip(".".join(str(part) for part in (*path, key)))
                raise RecipeYamlRefused(f"duplicate key '{dotted}' at line {line} (first at line {first_lines[key]})")
            first_lines[key] = line
            self._refuse_repeated_keys(value_node, (*path, key))


def _clip(text: str) -> str:
    """Text an error message repeats, cut short with its length."""
    if len(text) <= ECHO_CHARS:
        return text
    return f"{text[:ECHO_CHARS]}… {len(text):,} characters in all"


def _describe(error: dict) -> str:
    loc = _clip(".".join(str(part) for part in error["loc"]))
    if error["type"] == "extra_forbidden":
        parent = _model_at(error["loc"][:-1])
        allowed = ", ".join(parent.model_fields) if parent else ""
        return f"unknown key '{loc}' (allowed here: {allowed})"
    if error["type"] == "missing":
        return f"missing key '{loc}'"
    if error["type"] == "value_error":
        return f"key '{loc}': {error['msg'].removeprefix('Value error, ')}"
    return f"key '{loc}': {error['msg']} (got {_clip(repr(error.get('input')))})"


def _model_at(loc: tuple) -> type[BaseModel] | None:
    model: type[BaseModel] = Recipe
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None or not (isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)):
            return None
        model = field.annotation
    return model
