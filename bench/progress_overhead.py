"""What the live progress display costs a build: the same build with --progress none and --progress log.

Every counter a stage increments also goes to the process's progress tally (a dict update under a
lock, and a small file written every half second), and the driver polls the files. The floor is
the build itself without the display (``--progress none``: the tally is off), measured in the same
run, alternating the two so that drift of the machine hits both. Writes docs/BENCH-PROGRESS.md.
"""

import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from beam_jobs.build import run_build  # noqa: E402
from bench.corpus import archive_files  # noqa: E402
from bench.report import write_report  # noqa: E402
from transforms.common.stage import StageCounters  # noqa: E402

OUT = REPO / "docs" / "BENCH-PROGRESS.md"
WORK = REPO / "build" / "bench-progress"
ROUNDS = 5


def build_seconds(recipe: Path, mode: str) -> float:
    out = WORK / f"out-{mode}"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    run_build(["--config", str(recipe), "--output", str(out), "--progress", mode])
    return time.perf_counter() - started


def increment_ns(with_tally: bool, n: int = 200_000) -> float:
    """Nanoseconds per StageCounters.inc, the call every record makes a few times."""
    folder = WORK / "tally"
    folder.mkdir(parents=True, exist_ok=True)
    if with_tally:
        os.environ["WARCFORGE_PROGRESS_DIR"] = str(folder)
    try:
        counters = StageCounters("bench")
        started = time.perf_counter()
        for _ in range(n):
            counters.inc("in")
        return (time.perf_counter() - started) / n * 1e9
    finally:
        os.environ.pop("WARCFORGE_PROGRESS_DIR", None)


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    files, described = archive_files()
    recipe = WORK / "recipe.json"
    recipe.write_text(json.dumps({"name": "bench-progress", "input": {"paths": [str(f) for f in files]}}))
    megabytes = sum(f.stat().st_size for f in files) / 1e6
    os.environ["WARCFORGE_PROGRESS_INTERVAL_S"] = "1"  # far more often than the default 30 s: the worst case
    build_seconds(recipe, "none")  # warm-up: imports, language model, caches
    times: dict[str, list[float]] = {"none": [], "log": []}
    for _ in range(ROUNDS):
        for mode in ("none", "log"):
            times[mode].append(build_seconds(recipe, mode))
    best = {mode: min(values) for mode, values in times.items()}
    median = {mode: sorted(values)[len(values) // 2] for mode, values in times.items()}
    plain, tallied = increment_ns(False), increment_ns(True)
    per_record = 1e9 * best["none"] / max(1, _records(WORK / "out-none"))
    lines = [
        "# What the progress display costs",
        "",
        f"Input: {described}, {megabytes:.1f} MB compressed; "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; DirectRunner in-process "
        f"(one core); default recipe (extract, exact dedup, write). {ROUNDS} rounds alternating the two modes after a "
        "warm-up. Produced by `make bench` (bench/progress_overhead.py).",
        "",
        "Floor, measured in the same run: the build with `--progress none` (no tally, no display).",
        "",
        "| mode | best s | median s | MB/s per core (best) |",
        "|---|---:|---:|---:|",
        *[f"| `--progress {mode}` | {best[mode]:.2f} | {median[mode]:.2f} | {megabytes / best[mode]:.2f} |"
          for mode in ("none", "log")],
        "",
        f"Overhead of the display on the per-core rate: {100 * (best['log'] / best['none'] - 1):+.2f} % (best of "
        f"{ROUNDS}), {100 * (median['log'] / median['none'] - 1):+.2f} % (median). The log mode was set to print "
        "every second instead of every 30 s, and the bar mode does the same work on a terminal.",
        "",
        f"Per counter increment: {plain:.0f} ns without the tally, {tallied:.0f} ns with it "
        f"({tallied - plain:+.0f} ns). At 10 increments per record (more than a record makes in this recipe) that is "
        f"{10 * (tallied - plain) / 1e3:.1f} µs against {per_record / 1e3:,.0f} µs of work per record in this build: "
        f"{100 * 10 * (tallied - plain) / per_record:.2f} %, below what the whole-build timings can resolve.",
    ]
    write_report(OUT, lines)


def _records(out: Path) -> int:
    return json.loads((out / "manifest.json").read_text())["counts"]["read"]["in"]


if __name__ == "__main__":
    main()
