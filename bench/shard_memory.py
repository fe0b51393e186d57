"""Peak memory of the default build at two shard sizes: does it grow with the shard?

Two WARC files in Common Crawl's layout (bench/big_shard.py: about 0.25 and 1 GiB compressed, the
benchmark's real pages copied with a sentence of their own each, cached under ~/.cache/warcforge/
bench/) go through the default recipe (a recipe with only input.paths: resiliparse_pruned
extraction, exact dedup, 4 Parquet files).

DirectRunner: ``warcforge build`` in a subprocess, as a user runs it. Every SAMPLE_EVERY_S the
resident memory (VmRSS in /proc) of each process of its tree is read and summed: the peak of that
sum is the whole run's peak (a sampled figure: a spike shorter than the interval can be missed).
Each process's own peak is the kernel's VmHWM (exact), read while it runs; the largest is reported.

Flink: the loopback session cluster (deploy/flink/local-cluster.sh, on free ports; the caller holds
/tmp/warcforge-flink.lock, see the Makefile) runs the same build with Beam's FlinkRunner and SDK
workers from an EXTERNAL Beam worker pool, as deploy/flink does on Kubernetes. Each SDK worker's
peak is its VmHWM, read from /proc while it runs; the Flink JVMs are not counted (their heap is
fixed by deploy/flink/local-config.yaml). No memory cgroup is used for the figures: a cgroup also
counts the page cache of the file read, which says nothing about the pipeline.

The output's shard count is the recipe's (``output.num_shards``), not the input's: with the default 4
Parquet files, a 4 times larger input file also makes 4 times larger output shards, and a writer
holds one output shard's documents. So the largest input file is also built with its output shards
scaled (``num_shards`` times the size ratio) to as many documents per output shard as the smallest
run: that row shows what grows with the input file alone, as at crawl scale, where ``num_shards``
is set for the whole crawl and an output shard's size does not depend on the input files' size.

Writes docs/SHARD-MEMORY.md. SHARD_MEMORY_SIZES (GiB, default "0.25,1") and SHARD_MEMORY_RUNNERS
(default "direct,flink") narrow a run.
"""

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import apache_beam  # noqa: E402

from bench.big_shard import GIB, big_shard  # noqa: E402
from bench.flink_session import flink_cluster, flink_options  # noqa: E402
from bench.hot_bucket_memory import WORKER_ENV_TEXT, start_pool  # noqa: E402
from bench.report import write_figures, write_report  # noqa: E402

OUT = REPO / "docs" / "SHARD-MEMORY.md"
WORK = REPO / "build" / "bench-shard-memory"
WARCFORGE = str(Path(sys.executable).parent / "warcforge")
SIZES_GIB = tuple(float(s) for s in os.environ.get("SHARD_MEMORY_SIZES", "0.25,1").split(","))
RUNNERS = tuple(os.environ.get("SHARD_MEMORY_RUNNERS", "direct,flink").split(","))
SAMPLE_EVERY_S = 0.2
RUN_TIMEOUT_S = 3600
LIMIT_MIB = 2048  # issue #18: the whole local run under 2 GiB
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command name) of every process now."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, rest = text[text.index("(") + 1: text.rindex(")")], text[text.rindex(")") + 2:].split()
        found[int(stat.parent.name)] = (int(rest[1]), name)
    return found


def _memory_kb(pid: int) -> tuple[int, int, int]:
    """(VmRSS, VmHWM) in kB and user+system CPU ticks of a process; zeros when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        ticks = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0, 0, 0
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    kb = [int(fields.get(key, "0 kB").split()[0]) for key in ("VmRSS", "VmHWM")]
    return kb[0], kb[1], int(ticks[11]) + int(ticks[12])


def _folder_bytes(folder: Path) -> int:
    total = 0
    for directory, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(directory, name)).st_size
            except OSError:  # removed between the listing and the stat
                pass
    return total


class TreeSampler(threading.Thread):
    """Samples the processes under ``root`` (itself included unless ``skip_root``) every SAMPLE_EVERY_S."""

    def __init__(self, root: int, skip_root: bool = False, folder: Path | None = None) -> None:
        super().__init__(daemon=True)
        self.root, self.skip_root, self.folder = root, skip_root, folder
        self.peak_folder_bytes = 0  # the most the files under ``folder`` (the run's temp folder) held
        self.stop = threading.Event()
        self.peak_sum_kb = 0
        self.peaks: dict[int, int] = {}  # pid -> VmHWM kB
        self.cpu_ticks: dict[int, int] = {}
        self.names: dict[int, str] = {}

    def tree(self) -> list[int]:
        processes = _processes()
        children: dict[int, list[int]] = {}
        for pid, (parent, _) in processes.items():
            children.setdefault(parent, []).append(pid)
        found, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += children.get(pid, [])
        for pid in found:
            self.names.setdefault(pid, processes.get(pid, (0, "?"))[1])
        return [p for p in found if not (self.skip_root and p == self.root)]

    def sample(self) -> None:
        total = 0
        for pid in self.tree():
            rss, hwm, ticks = _memory_kb(pid)
            total += rss
            if hwm:
                self.peaks[pid] = max(self.peaks.get(pid, 0), hwm)
                self.cpu_ticks[pid] = max(self.cpu_ticks.get(pid, 0), ticks)
        self.peak_sum_kb = max(self.peak_sum_kb, total)
        if self.folder is not None:
            self.peak_folder_bytes = max(self.peak_folder_bytes, _folder_bytes(self.folder))

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(SAMPLE_EVERY_S)

    def finish(self) -> None:
        self.stop.set()
        self.join()


DEFAULT_SHARDS = 4  # the recipe's default output.num_shards


def write_recipe(shard: Path, num_shards: int) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    recipe = WORK / f"recipe-{shard.stem.split('.')[0]}-{num_shards}.yaml"
    recipe.write_text(json.dumps({"name": "shard-memory", "input": {"paths": [str(shard)]},  # JSON is YAML
                                  "output": {"num_shards": num_shards}}))
    return recipe


def build_command(recipe: Path, output: Path, *beam_args: str) -> list[str]:
    return [WARCFORGE, "build", "--config", str(recipe), "--output", str(output), "--overwrite", "--progress", "none",
            "--quiet", *beam_args]


def documents_of(output: Path) -> int:
    return json.loads((output / "manifest.json").read_text())["documents"]


def direct_run(shard: Path, num_shards: int) -> dict:
    recipe, output = write_recipe(shard, num_shards), WORK / "out-direct"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    scratch = WORK / "tmp-direct"  # the build's temp folder: where its shuffles spill
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    process = subprocess.Popen(build_command(recipe, output), stdout=subprocess.DEVNULL, cwd=WORK,
                               env={**os.environ, "TMPDIR": str(scratch)})
    sampler = TreeSampler(process.pid, folder=scratch)
    sampler.start()
    try:
        returncode = process.wait(timeout=RUN_TIMEOUT_S)
    finally:
        sampler.finish()
    seconds = time.perf_counter() - started
    if returncode != 0:
        raise RuntimeError(f"the build exited {returncode}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"documents": documents_of(output), "seconds": seconds, "cpu_s": cpu,
            "tree_mb": sampler.peak_sum_kb / 1024, "largest_mb": max(sampler.peaks.values()) / 1024,
            "processes": len(sampler.peaks), "scratch_mb": sampler.peak_folder_bytes / 2**20}


def flink_run(shard: Path, num_shards: int, rest_port: int, jar: str) -> dict:
    recipe, output = write_recipe(shard, num_shards), WORK / "out-flink"
    pool, pool_port = start_pool(None)
    try:
        sampler = TreeSampler(pool.pid, skip_root=True)  # the pool starts each SDK worker as its child
        sampler.start()
        started = time.perf_counter()
        try:
            flink = flink_options(rest_port, jar, "--environment_type=EXTERNAL",
                                  f"--environment_config=localhost:{pool_port}")
            subprocess.run(build_command(recipe, output, *flink), stdout=subprocess.DEVNULL, cwd=WORK, check=True,
                           timeout=RUN_TIMEOUT_S)
        finally:
            sampler.finish()
        seconds = time.perf_counter() - started
    finally:
        pool.terminate()
        pool.wait(timeout=30)
    if not sampler.peaks:
        raise RuntimeError("no SDK worker process of the pool was seen; nothing to report")
    workers = sorted(sampler.peaks.values(), reverse=True)
    return {"documents": documents_of(output), "seconds": seconds,
            "cpu_s": sum(sampler.cpu_ticks.values()) / CLOCK_TICKS,
            "worker_mb": [kb / 1024 for kb in workers], "workers_sum_mb": sampler.peak_sum_kb / 1024}


def machine() -> str:
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal:"))
    return (f"{platform.machine()}, {os.cpu_count()} cores, {memory_kb / 2**20:.0f} GiB of memory, Linux "
            f"{platform.release()}, Python {platform.python_version()}, Beam {apache_beam.__version__}")


def growth(rows: list[tuple[dict, dict]], key: str) -> str:
    """The figure's change from the smallest to the largest shard, per GiB of input and per 1,000 documents."""
    (small_info, small), (large_info, large) = rows[0], rows[-1]
    gib = (large_info["bytes"] - small_info["bytes"]) / GIB
    documents = large["documents"] - small["documents"]
    value = lambda r: max(r[key]) if isinstance(r[key], list) else r[key]  # noqa: E731
    delta = value(large) - value(small)
    if gib <= 0 or documents <= 0:
        return "n/a (one size only)"
    return (f"{delta:+,.0f} MiB ({delta / gib:+,.0f} MiB per GiB of input, {delta / documents * 1000:+,.1f} MiB per "
            "1,000 documents)")


def growth_lines(rows: list[tuple[dict, dict]], key: str, what: str) -> list[str]:
    """Growth with the output shards fixed (they grow with the input) and with them scaled (they do not)."""
    fixed = [row for row in rows if row[0]["num_shards"] == DEFAULT_SHARDS]
    lines = [f"- Growth from the smallest to the largest file, {DEFAULT_SHARDS} output shards (the output shards grow "
             f"with the input file), {what}: {growth(fixed, key)}."]
    if len(rows) > len(fixed):
        lines.append(f"- Growth from the smallest to the largest file, as many documents per output shard (what "
                     f"grows with the input file alone), {what}: {growth([rows[0], rows[-1]], key)}.")
    return lines


def under_limit(mib: float) -> str:
    return "under" if mib < LIMIT_MIB else "**over**"


def runs_of(shards: list[tuple[Path, dict]]) -> list[tuple[Path, dict, int]]:
    """Each file with the default output shards, then the largest with its output shards scaled."""
    runs = [(path, info, DEFAULT_SHARDS) for path, info in shards]
    if len(shards) > 1:
        ratio = shards[-1][1]["bytes"] / shards[0][1]["bytes"]
        runs.append((*shards[-1], round(DEFAULT_SHARDS * ratio)))
    return runs


def label(info: dict, num_shards: int) -> str:
    return f"{info['bytes'] / GIB:.2f} GiB, {num_shards} output shards"


def main() -> int:
    shards = [big_shard(int(size * GIB)) for size in SIZES_GIB]
    direct, flink = [], []
    if "direct" in RUNNERS:
        for path, info, num_shards in runs_of(shards):
            result = direct_run(path, num_shards)
            print(f"DirectRunner, {label(info, num_shards)}: {result}", flush=True)
            direct.append(({**info, "num_shards": num_shards}, result))
    if "flink" in RUNNERS:
        with flink_cluster() as (rest_port, jar):
            for path, info, num_shards in runs_of(shards):
                result = flink_run(path, num_shards, rest_port, jar)
                print(f"Flink, {label(info, num_shards)}: {result}", flush=True)
                flink.append(({**info, "num_shards": num_shards}, result))
    source = shards[0][1]["source"]
    lines = [
        "# Peak memory against shard size",
        "",
        "The default recipe (only `input.paths`: resiliparse_pruned extraction, exact dedup, 4 Parquet files) on "
        "one WARC file in Common Crawl's layout (a gzip member per record, warcinfo first, then request, response "
        f"and metadata per capture), generated by bench/big_shard.py from {source}: each page copied with its own "
        "URL, record ids and a sentence of its own, so exact dedup keeps every copy. Machine: "
        f"{machine()}. Produced by `make bench` (bench/shard_memory.py); every row below comes from the same run. "
        "MiB throughout.",
        "",
    ]
    if direct:
        lines += [
            "## DirectRunner",
            "",
            "`warcforge build` in a subprocess (its launcher and the build it starts; Beam's DirectRunner runs the "
            "batch job inside the build's process, on the FnApiRunner). Whole tree: the sum of VmRSS over the "
            f"process tree, read from /proc every {SAMPLE_EVERY_S} s (a spike shorter than that can be missed); "
            "largest process: the kernel's own peak (VmHWM) of the largest process. Temp folder: the most its "
            "files held at once (the build runs with `TMPDIR` set to a folder of its own, where the local runner's "
            "shuffles spill; beam_jobs/local_shuffle.py), read at the same times.",
            "",
            "| shard (compressed) | output shards | captures | documents | seconds | CPU seconds | peak RSS, whole "
            "tree | peak RSS, largest process | processes | temp folder, peak |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *[f"| {info['bytes'] / GIB:.2f} GiB | {info['num_shards']} | {info['captures']:,} | {r['documents']:,} "
              f"| {r['seconds']:.0f} "
              f"| {r['cpu_s']:.0f} | {r['tree_mb']:,.0f} ({under_limit(r['tree_mb'])} 2 GiB) | {r['largest_mb']:,.0f} "
              f"| {r['processes']} | {r['scratch_mb']:,.0f} |" for info, r in direct],
            "",
            *growth_lines(direct, "tree_mb", "whole tree"),
            "",
        ]
    if flink:
        lines += [
            "## Flink, per SDK worker",
            "",
            "The loopback Flink 1.19.3 session cluster (deploy/flink/local-cluster.sh: one TaskManager, 2 slots), "
            "Beam's FlinkRunner with `--parallelism=2` and SDK workers from an EXTERNAL worker pool, started with "
            f"{WORKER_ENV_TEXT} as deploy/docker/Dockerfile starts them; "
            "the runner starts a new SDK worker when a stage finds none alive, so a job has several, one after "
            "another. Per SDK worker: its VmHWM read from /proc while it runs; all SDK workers together: the sum of "
            f"their VmRSS every {SAMPLE_EVERY_S} s. CPU seconds are the SDK workers' own. The Flink JVMs are not "
            "counted.",
            "",
            "| shard (compressed) | output shards | documents | seconds | SDK workers' CPU seconds | peak RSS of "
            "each SDK worker (largest first) | peak RSS, all SDK workers together |",
            "|---:|---:|---:|---:|---:|---|---:|",
            *[f"| {info['bytes'] / GIB:.2f} GiB | {info['num_shards']} | {r['documents']:,} | {r['seconds']:.0f} "
              f"| {r['cpu_s']:.0f} "
              f"| {', '.join(f'{mb:,.0f}' for mb in r['worker_mb'])} | {r['workers_sum_mb']:,.0f} |"
              for info, r in flink],
            "",
            *growth_lines(flink, "worker_mb", "largest SDK worker"),
            "",
        ]
    lines += FINDINGS
    write_report(OUT, lines)
    summary = [f"DirectRunner, whole local run, {label(info, info['num_shards'])}: {r['tree_mb']:,.0f} MiB peak"
               for info, r in direct]
    summary += [f"Flink, largest SDK worker, {label(info, info['num_shards'])}: {max(r['worker_mb']):,.0f} MiB peak"
                for info, r in flink]
    write_figures("shard_memory", {"summary": summary + ["what holds memory per document: docs/SHARD-MEMORY.md"]})
    return 0


# What holds memory per document: found while fixing issue #18 (malloc statistics and RSS logged from inside
# the stages, tracemalloc, the runners' code), on the machine above with the 1 GiB file (34,217 documents).
# These figures are not re-measured by this bench; the tables above are.
FINDINGS = [
    "## What holds memory per document",
    "",
    "Found while fixing issue #18 (glibc's malloc statistics and RSS logged from inside the stages, tracemalloc, "
    "the runners' code), with the 1 GiB file (34,217 documents, 222 MB of text as UTF-8: 6.5 kB a document, "
    "held by Python at about 13 kB since most texts have a character outside Latin-1). Not re-measured by this "
    "bench.",
    "",
    "1. **Exact dedup's pre-combine table, in the read stage (on every runner): bounded now.** `ExactDedup` was a"
    " `CombinePerKey` whose accumulator is the whole surviving `Document`; Beam lifts that into a partial combine"
    " fused after extraction (the FnApiRunner always, the FlinkRunner through the SDK's batch pre-optimization), "
    "whose table keeps every distinct document until the bundle ends or 100,000 keys are held (Beam's "
    "`PGBKCVOperation.max_keys`). Flink batch gives a partition one bundle, so the table held every document the "
    "worker had read, up to 100,000: in the read stage's SDK worker, memory in use grew by 12 kB a page (62 MiB "
    "at 2,000 pages, 439 MiB at 34,000), and its peak went from 516 MiB at 0.25 GiB to 1,003 MiB at 1 GiB (the "
    "growth issue #18 saw: 258 MB at 20,000 documents, 537 MB at 200,000). Exact dedup and URL dedup now pre-"
    "combine in a DoFn of their own (`CombinePerKeyBounded`, transforms/common/stage.py) whose table is bounded "
    "to 32 MiB of documents, the least recently used sent on first (a page copied a million times stays in the "
    "table and crosses the shuffle about once per bundle, as with Beam's lifting), then a `GroupByKey` and a "
    "merge that takes a key's accumulators one at a time. The output is the same, byte for byte. Measured by this"
    " bench since: the read stage's SDK worker on Flink (the smaller figure of each row) peaks at 320 to 412 MiB "
    "at either size in the runs since, where it was 496 MiB at 0.25 GiB and 978 MiB at 1 GiB; the DirectRunner's "
    "whole run at 1 GiB peaked at 1,615 MiB, where it was 1,929 (below 900 MiB since, with the changes of "
    "item 3). Tests: tests/test_bounded_combine.py.",
    "2. **One output shard was one group (Flink): held packed now.** `WriteParquetShards` grouped a shard's "
    "rows with a `GroupByKey` on the shard index and sorted them. Flink batch builds each group as one list and "
    "sends it to the SDK worker as one element, so the worker held a whole shard's documents decoded (about 15 "
    "kB each), its encoded group (about 7.5 kB a document) and the writer's row group, and the two slots' "
    "bundles share one SDK worker: at 1 GiB (4 shards of about 8,550 documents) 1,190 MiB on entering the first"
    " shard, 1,517 MiB at the peak. Three changes since, measured by this bench (the first alone, the other two "
    "together; largest SDK worker at 0.25 GiB / 1 GiB with 4 output shards / 1 GiB with 16; before them 735 / "
    "1,521 / 1,006 MiB):",
    "   - The writer sorts a shard in runs (transforms/writing/sorted_runs.py): rows are grouped by (shard, "
    "run), 64 runs a shard by a hash of the row's key; each run is sorted, made into rows and packed (pickled "
    "pairs of sort key and row, zstd, text as UTF-8); the shard's writer receives the packed runs, not the "
    "documents, and merges them row by row into the Parquet writer. The file is the same, byte for byte "
    "(builds of real pages compared file by file with the code before): 696 / 1,166 / 801 MiB. Since "
    "2026-12-01 the writer sorts keys instead of runs: each item crosses the shuffle packed "
    "(transforms/common/packed.py) beside its sort key, and the shard's writer sorts the (key, packed item) "
    "pairs and unpacks each item only as the Parquet writer takes its row, letting its packed form go "
    "(transforms/writing/stage.py, tests/test_shard_writer.py). The files are the same, byte for byte; a "
    "document is packed once on its way to the writer instead of twice, and the writer has one shuffle fewer. "
    "The tables above are with it.",
    "   - The Parquet writer held a row group (`output.row_group_rows`, 10,000 by default) twice, as Python rows "
    "and as the Arrow table made from them. It now takes each row apart as it comes, a string column straight "
    "into Arrow's layout (transforms/writing/row_group.py; the same table, so the same file; "
    "tests/test_row_group.py). Measured in one process, writing 8,500 documents of 7.8 kB of text each from "
    "packed runs: 88 MiB above the packed runs, where it was 180.",
    "   - The SDK workers run with two malloc arenas (`MALLOC_ARENA_MAX=2`, set by the worker image, "
    "deploy/docker/Dockerfile): glibc gives each allocating thread an arena of its own and keeps what was "
    "freed in it, and the SDK harness runs bundles on a pool of threads. With the two changes above: 504 / 940"
    " / 552 MiB.",
    "   What is left: with the output shards scaled to as many documents per shard, the largest SDK worker "
    "grew by 48 MiB from 0.25 to 1 GiB in the run that measured the two changes above, and by 108 to 117 MiB "
    "in the runs since (the growth lines above; not traced further). With 4 output shards it grows with "
    "the documents of an output shard until they fill a row group (10,000 rows by default), then stays at one "
    "row group per slot; by sampling its RSS beside the Flink job's running vertices, it climbs in the stage "
    "that writes the documents' shards, two shards at a time (one per slot), from about 400 MiB, what the "
    "exact dedup merge and run-sorting stages before it (running beside each other in the same worker) left "
    "behind, which was not traced further.",
    "3. **The DirectRunner's own buffers.** Beam's FnApiRunner keeps every `GroupByKey`'s whole input in the "
    "driver process (the encoded documents, per key) and joins it into one stream when the next stage reads it. "
    "At 1 GiB, at the boundary between exact dedup and the writer: 758 MiB of large buffers (malloc's mmap "
    "figure), plus, before item 1 was bounded, 836 MiB of heap that glibc kept after the pre-combine table was "
    "freed (43 MiB in use of an 879 MiB heap). The runner decodes each value on the way in (a document's text as "
    "a Python string, about twice its UTF-8 size) and encodes it again on the way out. Documents now cross the "
    "two big shuffles (exact and URL dedup's accumulators, the writer's (shard, run) groups) packed "
    "(transforms/common/packed.py: pickled, zstd level 1, about a third of the text's size), which the runner "
    "neither decodes nor re-encodes: at 1 GiB with 4 output shards the whole run peaked at 1,503 MiB before, "
    "and its growth from 0.25 GiB was +967 MiB (this bench, 2026-11-29); after packing, 876 MiB and +403 MiB "
    "(2026-11-30): what was left grew with the documents, four buffers of about 120 MiB each at 1 GiB (exact "
    "dedup's accumulators, the writer's (shard, run) groups, the shards' packed runs twice, once as a `Flatten`'s "
    "materialized output). Now the local runner's buffers spill (beam_jobs/local_shuffle.py): each holds at most "
    "`WARCFORGE_LOCAL_SHUFFLE_MB` (32 MB by default) of encoded input, then writes it to a file in the run's "
    "scratch folder, a group buffer as a run sorted by key, merged back by key when the next stage reads it; a "
    "stage reads its input in bundles of half that, which the workers take one at a time "
    "(beam_jobs/local_bundles.py); and an in-process worker's output reaches its buffer as the worker flushes it "
    "(every 10 MB), not when the bundle ends. The files are the same, byte for byte (tests/test_local_shuffle.py). "
    "What is left grows with the documents of one output shard (the shard's packed items are one element), as "
    "on Flink.",
    "",
    "Fixed here (issue #18), each with a test in tests/test_bounded_memory.py:",
    "",
    "- The gzip reader (transforms/reading/gzip_members.py) kept two list entries (about 80 bytes) per gzip "
    "member for the whole file: 8 MiB for this 1 GiB file's 103,474 records, about 46 MiB at 200,000 captures "
    "(600,000 members). Records are located in file order, so it now forgets the members before the record it "
    "last located: at most 3 entries.",
    "- The Parquet writer (transforms/writing/) built every row of a shard as a dict, then the whole shard as "
    "one Arrow table, and Arrow's conversion left a UTF-8 copy of every text inside the documents (CPython "
    "keeps it in the string), which live until the shard is written. It now converts and writes one row group "
    "(`output.row_group_rows`) at a time and hands Arrow the text as UTF-8 bytes: the same file, byte for byte. "
    "On one 8,558-document shard of the 1 GiB run, the writer's peak above the documents went from 124 to "
    "102 MiB with the default 10,000-row groups (the shard is one group), and from 96 to 6 MiB with 1,000-row "
    "groups: what the writer adds is one row group, whatever the shard's size.",
    "",
    "Looked at and not holding memory per document: the stage counters and the progress tally (one entry "
    "per counter name), `StageClock`, `ResumableFile` (no per-record state), `read_shard` (one record held "
    "back), the record views.",
    "",
]


if __name__ == "__main__":
    sys.exit(main())
