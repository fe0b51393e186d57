"""What a 100 TiB crawl costs, from the figures the other benchmarks just measured: docs/scale.md.

Reads build/bench-figures/*.json (written by pipeline_throughput, flink_per_core, near_dedup and
shard_memory in the same `make bench`); a figure whose benchmark did not run is said to be missing,
never filled in. Every assumption is a named constant here and printed in the page.
"""

import os
import platform
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.report import read_figures, write_report  # noqa: E402

OUT = REPO / "docs" / "scale.md"
CRAWL_MB = 100 * 2**40 / 1e6  # 100 TiB of compressed WARC
FILE_MB = 2**30 / 1e6  # Common Crawl's WARC files are about 1 GiB each
CC_PAGES = 2.6e9  # pages in a recent crawl (Common Crawl's announcements: 2.5-3.1 billion)
FINISH_HOURS = (24, 6)  # how fast the crawl is to be built: cluster sizes follow
CORES_PER_WORKER = 16
DEFAULT, NEAR, FINEWEB = ("default (extract, exact dedup, write)", "default + near dedup",
                          "FineWeb-like filters, exact and near dedup, PII")

# Published figures of other pipelines (not measured here): what each covers differs, see the notes.
PUBLISHED = [
    ("NeMo Curator (NVIDIA docs)", "one snapshot, 60 TB compressed WARC, in about 2 days on 30 CPU nodes "
     "(\"similar to the c5.24xlarge\")", "about 138,000 vCPU-hours if a node has 96 vCPUs (derived); "
     "download, extraction, filtering, dedup"),
    ("datatrove FineWeb example (examples/fineweb.py)", "8,000 tasks × 10 h limit, 2 GB per task, per dump",
     "a ceiling of 80,000 CPU-hours, not a measured cost; trafilatura extraction and FineWeb's filters"),
    ("datatrove FineWeb MinHash stage 3", "1 task, 8 CPUs, 200 GB of memory, 30 h limit", "clusters of a whole "
     "dump on one machine: the step warcforge's Beam label propagation replaces"),
    ("AI2's CCNet fork (OLMo NOTES.md)", "about 6,400 CPU-hours per dump", "WET input (no HTML extraction), "
     "paragraph dedup, language id"),
    ("C4 (T5 README, via tensorflow/datasets#1931)", "about 341 CPU-days (8,200 CPU-hours)", "WET input, one "
     "crawl, on Dataflow"),
    ("Common Crawl (status.commoncrawl.org)", "\"a few thousand requests per second, not millions\"",
     "the request rate the bucket's front end is sized for; 503 is back-pressure"),
]


def missing(what: str) -> str:
    return f"no figures in build/bench-figures/ from {what} (run it; its page in docs/ holds its last run)"


def core_hours(rate_mb_s: float) -> float:
    return CRAWL_MB / rate_mb_s / 3600


def main() -> int:
    pipeline, flink = read_figures("pipeline"), read_figures("flink")
    near, memory = read_figures("near_dedup"), read_figures("shard_memory")
    lines = ["# A 100 TiB crawl: the cost model", "",
             f"From the figures the benchmarks last wrote on this machine ({platform.machine()}, {os.cpu_count()} "
             "cores; build/bench-figures/, each bench's page in docs/ says when and under what load); "
             "bench/scale_model.py. Assumptions: "
             f"{CRAWL_MB / 1e6:,.0f} TB (100 TiB) of compressed WARC in files of {FILE_MB:,.0f} MB "
             f"({CRAWL_MB / FILE_MB:,.0f} files); a core of the cluster as fast as one here; "
             "rates are marginal (a crawl-sized job pays its start-up once).", ""]
    lines += ["## Core-hours", ""]
    if pipeline is None:
        lines.append(missing("bench/pipeline_throughput.py"))
    else:
        per_core = pipeline["per_core"]
        docs_per_mb = per_core[DEFAULT]["documents_extracted"] / pipeline["input_mb"]
        lines += [f"Documents extracted per compressed MB here: {docs_per_mb:.1f}, so about "
                  f"{docs_per_mb * CRAWL_MB / 1e9:.1f} billion for the crawl (Common Crawl counts about "
                  f"{CC_PAGES / 1e9:.1f} billion pages in a recent crawl, robots.txt and error captures included).",
                  "", "| recipe | runner | MB/s per core | core-hours | "
                  + " | ".join(f"workers × {CORES_PER_WORKER} cores for {h} h" for h in FINISH_HOURS) + " |",
                  "|---|---|---:|---:|" + "---:|" * len(FINISH_HOURS)]
        rates = [(label, "DirectRunner", figures["marginal"]) for label, figures in per_core.items()]
        rates += [(label, "plain loop (floor)", figures["floor"]) for label, figures in per_core.items()
                  if label != FINEWEB]
        if flink:
            rates += [(label, "Flink (a TaskManager per slot)", r["Flink"])
                      for label, r in flink["marginal_mb_per_cpu_s"].items()]
        for label, runner, rate in sorted(rates):
            hours = core_hours(rate)
            lines.append(f"| {label} | {runner} | {rate:.2f} | {hours:,.0f} | "
                         + " | ".join(f"{hours / h / CORES_PER_WORKER:,.0f}" for h in FINISH_HOURS) + " |")
        if flink is None:
            lines += ["", f"Flink: {missing('bench/flink_per_core.py')}."]
        fineweb = per_core[FINEWEB]
        survive = fineweb["documents_out"] / fineweb["documents_extracted"]
        default_hours = core_hours(per_core[DEFAULT]["marginal"])
        lines += ["", "## Common Crawl request rate", "",
                  "warcforge reads a file with one GET (a Range request resumes it after a failure), so a cluster "
                  "opens files as fast as its cores finish them:", "",
                  "| recipe | finish in | cores | files opened per second | GiB/s from Common Crawl |",
                  "|---|---:|---:|---:|---:|"]
        for h in FINISH_HOURS:
            cores = default_hours / h
            files_per_s = CRAWL_MB / FILE_MB / (h * 3600)
            lines.append(f"| default | {h} h | {cores:,.0f} | {files_per_s:.1f} | "
                         f"{files_per_s * FILE_MB / 1024:.2f} |")
        lines += ["", "A few requests per second, far under the \"few thousand per second\" Common Crawl's front "
                  "end is sized for; the bytes per second are what to agree on with the bucket's owner (or read "
                  "from inside us-east-1, where the bucket is).", "",
                  "## Shuffle", ""]
        if near is None:
            lines.append(f"Near dedup: {missing('bench/near_dedup.py')}.")
        else:
            survivors = CC_PAGES * survive
            per_doc = near["bytes_per_document"]
            lines += [f"Near dedup shuffles {per_doc:,.0f} bytes per document on Flink ({near['how']}). The "
                      f"FineWeb-like recipe kept {survive:.0%} of extracted documents here; at that share of "
                      f"{CC_PAGES / 1e9:.1f} billion pages, {survivors / 1e9:.2f} billion documents reach near "
                      f"dedup: {survivors * per_doc / 1e12:,.1f} TB shuffled by near dedup for the crawl."]
    lines += ["", "## Worker memory", ""]
    if memory is None:
        lines.append(missing("bench/shard_memory.py"))
    else:
        lines += [f"- {row}" for row in memory["summary"]]
    lines += ["", "## Beside published figures of other pipelines", "",
              "Published, not measured here (the sources name them; what each covers differs):", "",
              "| pipeline | published figure | what it covers |", "|---|---|---|",
              *[f"| {name} | {figure} | {covers} |" for name, figure, covers in PUBLISHED], "",
              "Measured here on the same real pages: datatrove 0.10.1's four FineWeb quality filters beside "
              "warcforge's, CPU per document (docs/BENCH-FILTER-PARITY.md), and trafilatura, the extractor "
              "FineWeb used, beside resiliparse (docs/BENCH-EXTRACTION.md).", "",
              "## Cores beyond two", "",
              "The 1/4/8/16-worker curve on Flink beside the plain loop's own curve was not measured: no machine "
              "with more than this one's 2 cores was at hand for this run.", ""]
    write_report(OUT, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
