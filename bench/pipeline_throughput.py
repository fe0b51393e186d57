"""The whole build, end to end, per core: what sizes a cluster for a crawl.

Floor, measured in the same run: fastwarc iterating the same files and reading every payload
(what no pipeline can beat). Then the build on the DirectRunner, in-process on one core and with
two worker processes, for two recipes: the embedded minimum (extract, exact dedup, write) and
FineWeb-like filtering plus near dedup. Compressed input MB per second per core, and the sizing
of a 100 TiB crawl from it. Each build also runs on the first file alone: the difference between
the two runs is the marginal rate, without the runner's fixed start-up cost, which a crawl-sized
job pays once. Writes docs/BENCH-PIPELINE.md.
"""

import json
import os
import platform
import resource
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fastwarc.warc import ArchiveIterator  # noqa: E402

from beam_jobs.build import run_build  # noqa: E402
from bench.corpus import archive_files  # noqa: E402
from bench.report import write_report  # noqa: E402

OUT = REPO / "docs" / "BENCH-PIPELINE.md"
WORK = REPO / "build" / "bench-pipeline"
REPEATS = 2
CRAWL_BYTES = 100 * 2**40  # 100 TiB of compressed WARC, about 100,000 one-GiB files
CORES_PER_WORKER = 16


def write_recipe(path: Path, inputs: list[str], **sections: dict) -> Path:
    path.write_text(json.dumps({"name": path.stem, "input": {"paths": inputs}, **sections}))  # JSON is YAML
    return path


def floor_seconds(files: list[Path]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        started = time.perf_counter()
        for path in files:
            with open(path, "rb") as stream:
                for record in ArchiveIterator(stream):
                    record.reader.read()
        best = min(best, time.perf_counter() - started)
    return best


def build_seconds(recipe: Path, *beam_args: str) -> tuple[float, int]:
    best, documents = float("inf"), 0
    for _ in range(REPEATS):
        out = WORK / "out"
        shutil.rmtree(out, ignore_errors=True)
        started = time.perf_counter()
        manifest = run_build(["--config", str(recipe), "--output", str(out), "--quiet", *beam_args])
        best = min(best, time.perf_counter() - started)
        documents = manifest["documents"]
    return best, documents


def main() -> int:
    files, described = archive_files()
    size = sum(p.stat().st_size for p in files)
    WORK.mkdir(parents=True, exist_ok=True)
    inputs = [str(p) for p in files]
    fineweb_filters = {"url": {"enabled": True, "domains": [str(REPO / "configs/blocklists/example-domains.txt")]},
                       "language": {"enabled": True, "keep": ["en"], "min_score": 0.65},
                       "gopher_repetition": {"enabled": True}, "gopher_quality": {"enabled": True},
                       "c4": {"enabled": True}, "fineweb_quality": {"enabled": True}, "pii": {"enabled": True}}
    recipes = {
        "minimum: extract, exact dedup, write": {},
        "FineWeb-like filters, exact and near dedup, PII": {"filters": fineweb_filters,
                                                            "dedup": {"near": {"enabled": True}}},
    }
    first_size = files[0].stat().st_size
    floor = floor_seconds(files)
    print(f"floor: fastwarc {size / floor / 1e6:.1f} MB/s", flush=True)
    rows = []
    for number, (label, sections) in enumerate(recipes.items()):
        recipe = write_recipe(WORK / f"recipe-{number}.yaml", inputs, **sections)
        first_only = write_recipe(WORK / f"recipe-{number}-first.yaml", inputs[:1], **sections)
        for workers, args in ((1, ()), (2, ("--direct_num_workers=2", "--direct_running_mode=multi_processing"))):
            seconds, documents = build_seconds(recipe, *args)
            first_seconds, _ = build_seconds(first_only, *args)
            per_core = size / seconds / workers / 1e6
            marginal = (size - first_size) / max(seconds - first_seconds, 1e-9) / workers / 1e6
            rows.append((label, workers, seconds, documents, per_core, marginal))
            print(f"{label} on {workers} worker(s): {seconds:.1f} s, {per_core:.2f} MB/s per core, "
                  f"marginal {marginal:.2f}", flush=True)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    full = next(r for r in rows if r[0].startswith("FineWeb") and r[1] == 1)
    rate = full[5]
    core_hours = CRAWL_BYTES / (rate * 1e6) / 3600
    lines = [
        "# The whole build, per core",
        "",
        f"Input: {described}, {size / 1e6:.1f} MB compressed. {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; best of {REPEATS} runs; DirectRunner (in-process for one worker, "
        "multi_processing for two). Produced by `make bench` (bench/pipeline_throughput.py).",
        "",
        f"Floor, measured in the same run: fastwarc reading every record and payload, {size / floor / 1e6:.1f} MB/s "
        "on one core.",
        "",
        "| recipe | workers | seconds, all files | documents out | MB/s per core, whole run | MB/s per core, marginal "
        "| × floor time |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *[f"| {label} | {workers} | {seconds:.1f} | {documents:,} | {per_core:.2f} | {marginal:.2f} "
          f"| {seconds * workers / floor:.0f} |" for label, workers, seconds, documents, per_core, marginal in rows],
        "",
        f"Peak resident memory of this process (driver and in-process workers): {peak_rss_mb:,.0f} MB.",
        "",
        "## A 100 TiB crawl at this rate",
        "",
        f"At {rate:.2f} MB/s per core (FineWeb-like, one worker, marginal), 100 TiB of compressed WARC needs about "
        f"{core_hours:,.0f} core-hours on this machine's cores with the DirectRunner; re-measure on the "
        "cluster's machine type.",
        "",
        "| workers × cores | wall-clock hours |",
        "|---|---:|",
        *[f"| {w} × {CORES_PER_WORKER} | {core_hours / (w * CORES_PER_WORKER):.1f} |" for w in (50, 100, 250, 500)],
        "",
    ]
    write_report(OUT, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
