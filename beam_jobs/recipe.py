"""The recipe: one typed model for every key of a ``configs/*.yaml`` file.

Loading validates the whole file before any work starts; an unknown key, a wrong type or a bad
value raises ``RecipeError`` naming the key and what is allowed there. The file itself is read by
``recipe_file`` (bounded, UTF-8, plain YAML). Relative paths in a recipe resolve against the
recipe's own folder.
"""

import hashlib
import json
import typing
from pathlib import Path
from typing import Any, Literal

import fsspec
from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

from beam_jobs.recipe_file import clip, folder_of, read_recipe_file, resolve_location
from beam_jobs.recipe_filters import FiltersConfig
from beam_jobs.recipe_filters import RecipeSection as _Section
from beam_jobs.recipe_refresh import SELECTION_KEYS, RefreshConfig
from beam_jobs.recipe_watch import WatchConfig
from transforms.common.errors import RecipeError
from transforms.filters.quality_rules import QUALITY_RULES
from transforms.reading.common_crawl import CRAWL_ID, DATA_BASE

# The description is copied into every manifest; a few paragraphs at most.
MAX_DESCRIPTION_CHARS = 10_000


class InputConfig(_Section):
    paths: list[str] | None = Field(
        None,
        min_length=1,
        description="WARC, WET or ARC files: local paths, globs, or fsspec URLs (file://, https://, "
        "s3://, gs://, memory://). Relative paths resolve against the recipe's folder; --input paths "
        "against the working directory.",
    )
    root: str | None = Field(
        None, min_length=1,
        description="paths only: the folder or URL prefix that documents' warc_path is recorded relative to "
        "(default: the deepest folder holding every input), so the same files elsewhere give the same bytes. "
        "A relative path resolves like paths.",
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
        if self.paths is not None and self.crawl is not None:
            raise ValueError("give exactly one of 'paths' or 'crawl'")
        if self.crawl is None and self.paths is None:
            return self  # a refresh recipe: the refresh section picks the crawls (checked by Recipe)
        if self.crawl is not None and self.root is not None:
            raise ValueError("'root' is for 'paths': a crawl's files are recorded relative to its base")
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
    extractor: Literal["resiliparse_pruned", "resiliparse", "trafilatura"] = Field(
        "resiliparse_pruned", description="resiliparse_pruned (the default: blocks the page marks as "
        "boilerplate and the headline removed, then resiliparse), resiliparse (the default until warcforge "
        "0.2.0: keeps comment threads, teasers and captions; name it to keep the old extraction), or "
        "trafilatura (several times slower).")
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
    format: Literal["parquet", "pointers"] = Field(
        "parquet", description="parquet: the documents with their text. pointers: per document only where its record "
        "lies and its text's sha256 (no text), plus the lock; 'warcforge materialize' rebuilds the documents.")


class Recipe(_Section):
    name: str = Field(min_length=1, description="Name of the dataset this recipe builds.")
    description: str = Field("", max_length=MAX_DESCRIPTION_CHARS, description="Free text, copied into the manifest.")
    input: InputConfig = InputConfig()
    read: ReadConfig = ReadConfig()
    extract: ExtractConfig = ExtractConfig()
    filters: FiltersConfig = FiltersConfig()
    dedup: DedupConfig = DedupConfig()
    output: OutputConfig = OutputConfig()
    refresh: RefreshConfig | None = None
    watch: WatchConfig | None = None

    # Where relative paths resolve; None is the working directory. Private, not fields: the manifest
    # and the digest keep the recipe as written.
    _folder: str | None = PrivateAttr(None)  # the recipe file's folder: blocklists, input.base
    _input_folder: str | None = PrivateAttr(None)  # input.paths': the working directory after --input

    @model_serializer(mode="wrap")
    def _without_absent_watch(self, handler: SerializerFunctionWrapHandler) -> dict:
        # A recipe without a watch section dumps (and so digests) exactly as before the section existed.
        dumped = handler(self)
        if dumped.get("watch", "absent") is None:
            del dumped["watch"]
        return dumped

    @model_validator(mode="after")
    def a_source(self) -> "Recipe":
        if self.watch is not None:
            if self.input.paths is not None or self.input.crawl is not None or self.refresh is not None:
                raise ValueError("a recipe with a 'watch' section takes the files the watch finds: give no "
                                 "input.paths, input.crawl or refresh section")
            if self.output.format == "pointers":
                raise ValueError("output.format: pointers is for 'warcforge build'; a watch publishes documents")
            return self
        if self.refresh is not None and self.input.paths is not None:
            raise ValueError("a recipe with a 'refresh' section reads crawls: give input.kind/base, not input.paths")
        if self.refresh is not None and self.refresh.cross_crawl_dedup == "near" and not self.dedup.near.enabled:
            raise ValueError("refresh.cross_crawl_dedup: near compares MinHash bands; it needs dedup.near.enabled")
        if self.refresh is not None and self.output.format == "pointers":
            raise ValueError("output.format: pointers is for 'warcforge build'; a refresh publishes full crawls")
        if self.refresh is None and self.input.paths is None and self.input.crawl is None:
            raise ValueError("give exactly one of 'input.paths' or 'input.crawl' (or a 'refresh' section, which "
                             "picks the crawls, or a 'watch' section, which follows where files land)")
        return self

    def for_crawl(self, crawl: str) -> "Recipe":
        """The recipe one crawl of a refresh is built with: ``input.crawl`` set, the rest as written."""
        built = self.model_copy(update={"input": self.input.model_copy(update={"crawl": crawl})})
        built._folder, built._input_folder = self._folder, self._input_folder
        return built

    def with_output_format(self, output_format: str) -> "Recipe":
        """The same recipe writing ``parquet`` (documents) or ``pointers``."""
        changed = self.model_copy(update={"output": self.output.model_copy(update={"format": output_format})})
        changed._folder, changed._input_folder = self._folder, self._input_folder
        return changed

    def quality_rules(self) -> str | None:
        """What the Gopher, C4 and FineWeb rules decide as, when the recipe switches any of them on."""
        f = self.filters
        on = f.gopher_repetition.enabled or f.gopher_quality.enabled or f.c4.enabled or f.fineweb_quality.enabled
        return QUALITY_RULES if on else None

    def build_digest(self) -> str:
        """The digest of what decides one crawl's documents: the recipe without the keys that do
        not (its name and description, the crawl and the crawl selection, where the files are read
        from and how patiently), plus the contents of the URL lists it names. Choosing more crawls,
        a mirror or retry settings leaves the published crawls up to date; a changed blocklist does not."""
        dump = self.model_dump(mode="json")
        for key in ("name", "description"):
            dump.pop(key)
        dump["input"].update(crawl=None, base=None)
        dump["read"].pop("retry")
        dump["read"].pop("max_requests_per_host")
        dump["dedup"]["near"].pop("hot_bucket_size")  # how a bucket is grouped, not who survives
        if self.extract.extractor != "trafilatura":
            dump["extract"].pop("timeout_s")  # a limit only trafilatura runs under
        if self.quality_rules():
            dump["quality_rules"] = self.quality_rules()  # the rules' code, not only their settings
        if dump.get("refresh"):
            dump["refresh"] = {k: v for k, v in dump["refresh"].items() if k not in SELECTION_KEYS}
        url = self.filters.url
        if url.enabled:
            dump["blocklist_sha256"] = {kind: [_file_sha256(self.resolve_path(p)) for p in getattr(url, kind)]
                                        for kind in ("domains", "urls", "words", "subwords")}
        return hashlib.sha256(json.dumps(dump, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()

    def url_list_digests(self) -> dict[str, str]:
        """{location as written: sha256} of every URL list the URL filter reads; {} when it is off."""
        url = self.filters.url
        if not url.enabled:
            return {}
        return {location: _file_sha256(self.resolve_path(location))
                for location in (*url.domains, *url.urls, *url.words, *url.subwords)}

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        """SHA-256 of the recipe with every default filled in: equal digests, equal behaviour."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    def with_inputs(self, paths: list[str], root: str | None = None) -> "Recipe":
        """The recipe with its sources replaced by these paths (``--input``, ``--input-root``): command-line
        paths, so relative ones resolve against the working directory."""
        replaced = self.model_copy(update={"input": InputConfig(paths=paths, root=root)})
        replaced._input_folder = None
        return replaced

    def resolve_path(self, location: str) -> str:
        """A path the recipe names (a blocklist), as the job reads it: see ``resolve_location``."""
        return resolve_location(location, self._folder)

    def resolved_input(self) -> InputConfig:
        """The input section as the job reads it: relative local paths and base made absolute."""
        paths, root = self.input.paths, self.input.root
        resolved = None if paths is None else [resolve_location(p, self._input_folder) for p in paths]
        return self.input.model_copy(update={
            "paths": resolved, "base": self.resolve_path(self.input.base),
            "root": None if root is None else resolve_location(root, self._input_folder)})


def _file_sha256(location: str) -> str:
    try:
        with fsspec.open(location, "rb") as stream:
            return hashlib.sha256(stream.read()).hexdigest()
    except OSError as exc:
        raise RecipeError(f"blocklist {location} cannot be read ({exc.strerror or exc})") from None


def load_recipe(path: str | Path) -> Recipe:
    """Read a recipe from a local path or any fsspec URL (a cluster launcher may read it from a bucket)."""
    location = str(path)
    return parse_recipe(read_recipe_file(location), source=location, folder=folder_of(location))


def parse_recipe(data: Any, source: str = "recipe", folder: str | None = None, from_json: bool = False) -> Recipe:
    """Validate a recipe's keys; ``folder`` is where its relative paths resolve (None: the working directory).

    ``from_json``: the recipe as a manifest or lock records it, where mapping keys are strings (an
    n-gram size of 2 reads as "2")."""
    if not isinstance(data, dict):
        raise RecipeError(f"recipe {source}: the top level must be a mapping of keys, got {type(data).__name__}")
    try:
        recipe = Recipe.model_validate_json(json.dumps(data)) if from_json else Recipe.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(error) for error in exc.errors()]
        raise RecipeError(f"recipe {source}: " + "; ".join(problems)) from None
    recipe._folder = recipe._input_folder = folder
    return recipe


def _describe(error: dict) -> str:
    loc = clip(".".join(str(part) for part in error["loc"]))
    if error["type"] == "extra_forbidden":
        parent = _model_at(error["loc"][:-1])
        allowed = ", ".join(parent.model_fields) if parent else ""
        return f"unknown key '{loc}' (allowed here: {allowed})"
    if error["type"] == "missing":
        return f"missing key '{loc}'"
    if error["type"] == "value_error":
        message = error["msg"].removeprefix("Value error, ")
        return f"key '{loc}': {message}" if loc else message
    return f"key '{loc}': {error['msg']} (got {clip(repr(error.get('input')))})"


def _model_at(loc: tuple) -> type[BaseModel] | None:
    model: type[BaseModel] = Recipe
    for part in loc:
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        # A section that may be absent (refresh, watch) is annotated ``Section | None``.
        found = [t for t in (field.annotation, *typing.get_args(field.annotation))
                 if isinstance(t, type) and issubclass(t, BaseModel)]
        if not found:
            return None
        model = found[0]
    return model
