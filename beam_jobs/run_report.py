"""What a finished run reports: counters from Beam metrics, the manifest, and the summary."""

import platform
import unicodedata
from importlib import metadata

from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.runner import PipelineResult

from beam_jobs.recipe import Recipe
from transforms.common import reasons

STAGES = (reasons.READ, reasons.EXTRACT, reasons.FILTER, reasons.C4_LINES, reasons.DEDUP_URL, reasons.DEDUP_EXACT,
          reasons.NEAR_DEDUP, reasons.PII, reasons.WRITE)
PROCESSING_PACKAGES = (
    "warcforge", "apache-beam", "fastwarc", "resiliparse", "warcio", "pyarrow", "fsspec", "brotli", "pydantic"
)
MANIFEST_FORMAT = "warcforge-manifest/1"


def collect_counts(result: PipelineResult) -> dict[str, dict[str, int]]:
    """{stage: {reason: total}}, committed values where the runner has them."""
    counts: dict[str, dict[str, int]] = {}
    for counter in result.metrics().query(MetricsFilter())["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        stage, name = counter.key.metric.namespace, counter.key.metric.name
        if stage in STAGES:
            by_reason = counts.setdefault(stage, {})
            by_reason[name] = by_reason.get(name, 0) + int(value or 0)
    return {stage: dict(sorted(counts[stage].items())) for stage in STAGES if stage in counts}


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PROCESSING_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    versions["python"] = platform.python_version()
    versions["unicode"] = unicodedata.unidata_version  # exact-dedup normalization depends on it
    return versions


def build_manifest(recipe: Recipe, inputs: list[dict], counts: dict, files: list[dict], failed: list[dict]) -> dict:
    def section(prefix: str) -> list[dict]:
        return [f for f in files if f["path"].startswith(prefix + "/")]

    documents, dead_letters, rejected = section("data"), section("dead_letter"), section("rejected")
    return {
        "format": MANIFEST_FORMAT,
        "recipe": recipe.model_dump(mode="json"),
        "recipe_sha256": recipe.digest(),
        "inputs": inputs,
        "versions": package_versions(),
        "counts": counts,
        "documents": sum(f["rows"] for f in documents),
        "dead_letters": sum(f["rows"] for f in dead_letters),
        "files": {"data": documents, "dead_letter": dead_letters, "rejected": rejected},
        "failed_shards": failed,
    }


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
                                  (reasons.NEAR_DEDUP, reasons.NEAR_DUPLICATE, "near-duplicates")):
        by = counts.get(stage, {})
        if by:
            lines.append(f"  {stage:<12} {by.get(reasons.IN, 0):,} documents -> {by.get(reasons.OUT, 0):,}"
                         f" ({by.get(removed, 0):,} {label} removed)")
    n_data, n_dead = len(manifest["files"]["data"]), len(manifest["files"]["dead_letter"])
    rejected = manifest["files"]["rejected"]
    lines += [
        f"  write        {manifest['documents']:,} documents in {n_data} Parquet files,"
        f" {manifest['dead_letters']:,} dead letters in {n_dead}"
        + (f", {sum(f['rows'] for f in rejected):,} sampled rejected documents in {len(rejected)}" if rejected else ""),
        *[f"  FAILED       {f['warc_path']}: {f['reason']} (at byte {f['offset']})" for f in manifest["failed_shards"]],
        f"  output       {output_url}  (manifest.json, stats.json, data/, dead_letter/)",
        f"  took         {seconds:,.1f} s",
    ]
    return "\n".join(lines)
