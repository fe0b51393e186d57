"""``build --dry-run``: what a build would do, and about how many core-hours, without reading a record.

The estimate divides the input's compressed bytes by the per-core rate ``make bench`` measured
(docs/BENCH-PIPELINE.md, marginal rates on one core of the development machine): a recipe with
document filters or near dedup runs at the slower of the two. Crawl files are not listed with
sizes; Common Crawl's are about 1 GiB (WARC) or 150 MB (WET) each, and the plan says it assumed so.
"""

from beam_jobs.recipe import Recipe
from transforms.reading.sources import InputFile

# MB of compressed WARC per second per core (docs/BENCH-PIPELINE.md: marginal, one worker).
MINIMUM_MB_S = 7.70  # extract (resiliparse_pruned), exact dedup, write
FILTERED_MB_S = 5.22  # FineWeb-like filters (datatrove-0.10.1 rules), exact and near dedup, PII
TYPICAL_CRAWL_FILE_BYTES = {"warc": 1 << 30, "wet": 150_000_000}


def stages(recipe: Recipe) -> list[str]:
    """The stages the recipe switches on, in pipeline order, with the rules each runs."""
    f = recipe.filters
    on = ["read", f"extract ({recipe.extract.extractor})"]
    rules = [name for name in ("url", "language", "gopher_repetition", "gopher_quality", "c4", "fineweb_quality")
             if getattr(f, name).enabled]
    if rules:
        on.append(f"filter ({', '.join(rules)})")
    if recipe.dedup.url != "off":
        on.append(f"dedup_url ({recipe.dedup.url})")
    if recipe.dedup.exact:
        on.append("dedup_exact")
    if recipe.dedup.near.enabled:
        near = recipe.dedup.near
        on.append(f"near_dedup ({near.bands} bands x {near.rows} rows)")
    if recipe.refresh is not None and recipe.refresh.cross_crawl_dedup != "off":
        on.append(f"dedup_cross_crawl ({recipe.refresh.cross_crawl_dedup})")
    if f.pii.enabled:
        on.append("pii")
    on.append("write (pointers)" if recipe.output.format == "pointers" else "write")
    return on


def build_plan(recipe: Recipe, inputs: list[InputFile], runner: str) -> dict:
    known = [f.size for f in inputs if f.size is not None]
    assumed = len(inputs) - len(known)
    total = sum(known) + assumed * TYPICAL_CRAWL_FILE_BYTES[recipe.input.kind]
    heavy = recipe.filters.any_document_rule() or recipe.dedup.near.enabled
    rate = FILTERED_MB_S if heavy else MINIMUM_MB_S
    out = recipe.output
    return {
        "runner": runner,
        "files": len(inputs),
        "bytes": total,
        "files_of_assumed_size": assumed,
        "stages": stages(recipe),
        "output_shards": {"documents" if out.format == "parquet" else "pointers": out.num_shards,
                          "dead_letter": out.dead_letter_shards,
                          **({"rejected": out.rejected_shards} if recipe.filters.rejected_sample_rate > 0 else {})},
        "mb_per_s_per_core": rate,
        "core_hours": total / 1e6 / rate / 3600,
    }


def format_plan(plan: dict) -> str:
    size = f"{plan['bytes'] / 1e9:,.2f} GB"
    if plan["files_of_assumed_size"]:
        size += (f" ({plan['files_of_assumed_size']:,} files taken at Common Crawl's typical size: they are not "
                 "listed with sizes)")
    shards = ", ".join(f"{n:,} {name}" for name, n in plan["output_shards"].items())
    return "\n".join([
        f"plan ({plan['runner']}): nothing was read or written",
        f"  input        {plan['files']:,} files, {size}",
        f"  stages       {' -> '.join(plan['stages'])}",
        f"  output       {shards} Parquet files",
        f"  estimate     {_effort(plan['core_hours'])} at {plan['mb_per_s_per_core']} MB/s per core "
        "(docs/BENCH-PIPELINE.md; re-measure on the cluster's machines)",
    ])


def _effort(core_hours: float) -> str:
    return f"{core_hours:,.1f} core-hours" if core_hours >= 1 else f"{core_hours * 3600:,.0f} core-seconds"
