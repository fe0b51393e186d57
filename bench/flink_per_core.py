"""The build on the loopback Flink cluster, per core, against the DirectRunner and the plain loop.

Same input for all three: copies of the real pages (links under distinct names), 4 and 12 by default
(FLINK_BENCH_COPIES="4,12"). Flink is the
session cluster of deploy/flink/local-cluster.sh (one JobManager, one TaskManager with 2 slots,
``--parallelism=2``), Beam's Flink job server, and SDK workers from a Beam worker pool
(``--environment_type=EXTERNAL``, as deploy/flink runs them). CPU is counted by the kernel in
three cgroups, so exited workers and every JVM thread count: the Flink JVMs, the SDK workers (the
pool and every worker it starts), and the driver (``warcforge build``, the job server it starts).
Each runner builds both inputs: the difference is the marginal rate, without the job's fixed cost
(submission, the job server's start, the workers' start, the JIT's warm-up). The smaller input is
already several copies because the Flink JVMs' JIT keeps compiling through a job's first hundred
MB or so (each job loads Beam's runner classes anew in a session cluster): measured from one copy,
that warm-up counts as a cost per byte; at crawl scale a job runs for hours and it does not. The
fixed cost per job is what the smaller run cost beyond its bytes at the marginal rate.
Writes docs/BENCH-FLINK.md.
"""

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.corpus import archive_files  # noqa: E402
from bench.hot_bucket_memory import WORKER_ENV  # noqa: E402
from bench.pipeline_throughput import RECIPES, WARCFORGE, WORK, copies_of, floor, load, write_recipe  # noqa: E402
from bench.report import write_figures, write_report  # noqa: E402
from testbed.cpu_account import CpuAccount  # noqa: E402
from testbed.local_services import free_port, serve  # noqa: E402

OUT = REPO / "docs" / "BENCH-FLINK.md"
CLUSTER = str(REPO / "deploy" / "flink" / "local-cluster.sh")
CACHE = Path(os.environ.get("WARCFORGE_CACHE", Path.home() / ".cache" / "warcforge"))
SLOTS = 2
SMALL_COPIES, LARGE_COPIES = (int(n) for n in os.environ.get("FLINK_BENCH_COPIES", "4,12").split(","))


@contextlib.contextmanager
def flink_cluster() -> Iterator[tuple[int, str, list[int]]]:
    """A loopback session cluster on free ports: its REST port, Beam's job server jar, its JVMs' pids."""
    port = free_port()
    env = {**os.environ, "FLINK_REST_PORT": str(port), "FLINK_RPC_PORT": str(free_port()), "PYTHON": sys.executable}
    subprocess.run([CLUSTER, "up"], env=env, check=True, timeout=900)
    try:
        jar = subprocess.run([CLUSTER, "job-server-jar"], env=env, check=True, capture_output=True, text=True,
                             timeout=900).stdout.strip()
        run_dir = CACHE / f"flink-run-{port}"
        pids = [int(p) for f in run_dir.glob("*.pid") for p in f.read_text().split()]
        yield port, jar, pids
    finally:
        subprocess.run([CLUSTER, "down"], env=env, timeout=120)


def worker_pool() -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **WORKER_ENV}
    pool = serve([sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main", f"--service_port={port}"],
                 port, "Beam's worker pool", env=env, cwd=REPO)
    return pool, port


class BuildFailed(RuntimeError):
    """A build of the bench failed; its stderr's end is the message."""


def counted_build(recipe: Path, beam_args: list[str], accounts: dict[str, CpuAccount]) -> dict:
    """One ``warcforge build`` whose process tree is in a fresh cgroup; CPU per account, wall, documents."""
    out = WORK / f"flink-out-{recipe.stem}"
    shutil.rmtree(out, ignore_errors=True)
    before = {name: account.seconds() for name, account in accounts.items()}
    with CpuAccount("driver") as driver:
        started = time.perf_counter()
        # The shell joins the cgroup before it becomes the build: everything the build starts is counted.
        done = subprocess.run(["sh", "-c", f'echo $$ > {driver.path}/cgroup.procs && exec "$@"', "sh", WARCFORGE,
                               "build", "--config", str(recipe), "--output", str(out), "--quiet", *beam_args],
                              capture_output=True, text=True)
        if done.returncode:
            raise BuildFailed(f"build failed ({' '.join(beam_args) or 'DirectRunner'}): {done.stderr[-3000:]}")
        wall = time.perf_counter() - started
        cpu = {"driver": driver.seconds()}
    cpu.update({name: account.seconds() - before[name] for name, account in accounts.items()})
    documents = json.loads((out / "manifest.json").read_text())["documents"]
    return {"cpu": cpu, "total": sum(cpu.values()), "wall": wall, "documents": documents}


def split(run: dict) -> str:
    parts = ", ".join(f"{name} {seconds:.1f}" for name, seconds in run["cpu"].items())
    return f"{run['total']:.1f} ({parts})" if len(run["cpu"]) > 1 else f"{run['total']:.1f}"


def idle_rate(account: CpuAccount, seconds: float = 20) -> float:
    """CPU seconds per wall second the account's processes spend with no job running."""
    before = account.seconds()
    time.sleep(seconds)
    return (account.seconds() - before) / seconds


def main() -> int:
    if not CpuAccount.available():
        print("bench/flink_per_core.py needs a cgroup it may create (cpuacct) to count CPU; skipped")
        return 0
    files, described = archive_files()
    WORK.mkdir(parents=True, exist_ok=True)
    small, large = copies_of(files, SMALL_COPIES), copies_of(files, LARGE_COPIES)
    small_size, size = (sum(Path(f).stat().st_size for f in linked) for linked in (small, large))
    rows, ratios = [], {}
    with flink_cluster() as (rest_port, jar, jvm_pids), contextlib.ExitStack() as stack:
        jvms = stack.enter_context(CpuAccount("jvms"))
        for pid in jvm_pids:
            jvms.add(pid)
        workers = stack.enter_context(CpuAccount("workers"))
        pool, pool_port = worker_pool()
        stack.callback(pool.wait, 30)
        stack.callback(pool.terminate)
        workers.add(pool.pid)
        flink_args = ["--runner=FlinkRunner", f"--flink_master=localhost:{rest_port}", "--flink_version=1.19",
                      f"--flink_job_server_jar={jar}", f"--parallelism={SLOTS}", "--environment_type=EXTERNAL",
                      f"--environment_config=localhost:{pool_port}"]
        accounts = {"Flink JVMs": jvms, "SDK workers": workers}
        idle = {name: idle_rate(account) for name, account in accounts.items()}
        # One job first, not counted: the TaskManager compiles Flink's own code (network stack, sorters) in
        # the first job it runs, which would otherwise be charged to the first recipe's larger run.
        counted_build(write_recipe("flink-warm-up", small, {}), flink_args, {})
        runners = {"DirectRunner": [], "Flink": flink_args,
                   f"Flink, {SLOTS} SDK workers": [*flink_args, f"--sdk_worker_parallelism={SLOTS}"]}
        for number, (label, (sections, near)) in enumerate(list(RECIPES.items())[:2]):
            whole = write_recipe(f"flink-{number}", large, sections)
            first = write_recipe(f"flink-{number}-small", small, sections)
            low = floor(large, near)
            rates = {"plain loop": size / low.cpu / 1e6}
            for runner, args in runners.items():
                if runner.endswith("SDK workers") and near:
                    continue  # one recipe shows what a worker per slot changes
                try:
                    all_files = counted_build(whole, args, accounts if args else {})
                    first_file = counted_build(first, args, accounts if args else {})
                except BuildFailed as failed:
                    if runner in ("DirectRunner", "Flink"):
                        raise
                    print(failed, file=sys.stderr, flush=True)  # an option's row: said in the table, not fatal
                    reason = str(failed).strip().splitlines()[-1][:160].replace("|", "/")
                    rows.append(f"| {label} | {runner} | failed: {reason} | | | | | | |")
                    continue
                marginal = (size - small_size) / max(all_files["total"] - first_file["total"], 1e-9) / 1e6
                fixed = first_file["total"] - small_size / 1e6 / marginal
                rates[runner] = marginal
                rows.append(f"| {label} | {runner} | {all_files['documents']:,} | {all_files['wall']:.1f} | "
                            f"{split(all_files)} | {first_file['wall']:.1f} | {split(first_file)} | {marginal:.2f} "
                            f"| {fixed:.1f} |")
                print(rows[-1], flush=True)
            ratios[label] = rates
    lines = [
        "# The build on Flink, per core",
        "",
        f"Input: {described}, {LARGE_COPIES} copies (links under distinct names), {size / 1e6:.1f} MB compressed, "
        f"and {SMALL_COPIES} copies ({small_size / 1e6:.1f} MB). "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; one run each; {load()}. "
        "Produced by `make bench` (bench/flink_per_core.py).",
        "",
        f"Flink 1.19.3 on loopback (deploy/flink/local-cluster.sh: one TaskManager, {SLOTS} slots, "
        f"`--parallelism={SLOTS}`), Beam's Flink job server, SDK workers from a Beam worker pool "
        "(`--environment_type=EXTERNAL`), started with `MALLOC_ARENA_MAX=2` as the worker image "
        "(deploy/docker/Dockerfile) starts them. The cluster runs one job (the default recipe on the smaller "
        "input) before the measured ones, not counted: the TaskManager's JIT compiles Flink's own code in the "
        "first job it runs. CPU is user and system time as the kernel counts it in a cgroup per "
        "part: the Flink JVMs (JobManager and TaskManager), the SDK workers (the pool and every worker it "
        "starts), and the driver (`warcforge build` and the job server it starts). The DirectRunner runs one "
        "in-process worker. Marginal: MB between the two runs, per CPU second between them; it leaves out each "
        "job's fixed cost, which the last column estimates (the smaller run's CPU beyond its MB at the marginal "
        f"rate). The smaller input is {SMALL_COPIES} copies, not one: Flink's JVMs keep compiling (JIT) through "
        "a job's first hundred MB or so, since a session cluster loads Beam's runner classes anew for each job; "
        "from one copy that warm-up would count as a cost per byte, which at crawl scale (hours per job) it is "
        "not. By default Beam's Flink runner starts one SDK worker "
        f"process per TaskManager (`--sdk_worker_parallelism=1`), whose Python runs one core at a time; the row "
        f"with {SLOTS} SDK workers sets it to the slot count.",
        "",
        f"| recipe | runner | documents out | wall s, {LARGE_COPIES} copies | CPU s, {LARGE_COPIES} copies "
        f"| wall s, {SMALL_COPIES} copies | CPU s, {SMALL_COPIES} copies | MB/s per CPU, marginal "
        "| fixed CPU s per job |",
        "|---|---|---:|---:|---|---:|---|---:|---:|",
        *rows,
        "",
        "| recipe | plain loop MB/s per CPU | DirectRunner | Flink | Flink ÷ DirectRunner |",
        "|---|---:|---:|---:|---:|",
        *[f"| {label} | {r['plain loop']:.2f} | {r['DirectRunner']:.2f} | {r['Flink']:.2f} | "
          f"{r['Flink'] / r['DirectRunner']:.2f}× |" for label, r in ratios.items()],
        "",
        "Target (issue 18): the default recipe on Flink at ≥ 0.8× the DirectRunner's per-core rate.",
        "",
        "With no job running, over 20 s before the first: "
        + ", ".join(f"{name} {rate:.3f} CPU s per wall second" for name, rate in idle.items())
        + " (heartbeats, metrics, the pool's polling): a share of each job's CPU grows with its wall-clock time.",
        "",
    ]
    write_report(OUT, lines)
    write_figures("flink", {"marginal_mb_per_cpu_s": ratios, "idle_cpu_per_s": idle, "slots": SLOTS})
    return 0


if __name__ == "__main__":
    sys.exit(main())
