"""The build on the loopback Flink cluster, per core, against the DirectRunner and the plain loop.

Same input for all three: copies of the real pages (links under distinct names), 4 and 20 by default
(FLINK_BENCH_COPIES="4,20"), each run ROUNDS times. Flink is the session cluster of deploy/flink/local-cluster.sh (one
JobManager, 2 slots, ``--parallelism=2``) in two shapes: a TaskManager per slot, as
deploy/flink/session-cluster.yaml runs them, and one TaskManager with both slots (for the default
recipe only). Beam's Flink job server submits; each TaskManager starts its SDK workers itself
(``--environment_type=PROCESS``, testbed/sdk_worker_boot.py: Beam's worker pool cannot serve two
TaskManagers). CPU is counted by the kernel in
three cgroups, so exited workers and every JVM thread count: the Flink JVMs, the SDK workers,
and the driver (``warcforge build``, the job server it starts).
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
from bench.hot_bucket_memory import WORKER_ENV, WORKER_ENV_TEXT  # noqa: E402
from bench.pipeline_throughput import DEVELOPMENT, RECIPES, WORK, copies_of, floor, load, write_recipe  # noqa: E402
from bench.report import write_figures, write_report  # noqa: E402
from testbed.cpu_account import CpuAccount  # noqa: E402
from testbed.local_services import free_port  # noqa: E402
from testbed.sdk_worker_boot import boot_script  # noqa: E402

OUT = REPO / "docs" / "BENCH-FLINK.md"
CLUSTER = str(REPO / "deploy" / "flink" / "local-cluster.sh")
CACHE = Path(os.environ.get("WARCFORGE_CACHE", Path.home() / ".cache" / "warcforge"))
# Every build here (Flink's driver and the DirectRunner's) runs from this environment, as the SDK workers do;
# bench/pipeline_throughput.py's own builds run from the user install.
WARCFORGE = str(DEVELOPMENT / "warcforge")
SLOTS = 2
SMALL_COPIES, LARGE_COPIES = (int(n) for n in os.environ.get("FLINK_BENCH_COPIES", "4,20").split(","))
# Each size runs this many times, in turn, and the least CPU of each counts: a Flink job's fixed CPU (the JVMs
# load and compile Beam's runner classes anew for each job) moves by several seconds from one job to the next.
ROUNDS = 2


# The cluster shapes measured, by the row's name: how many TaskManagers share the SLOTS slots. A TaskManager
# runs one SDK worker for all its slots (Beam's default --sdk_worker_parallelism=1), so the first shape gives
# each slot a Python process of its own, as deploy/flink/session-cluster.yaml does; the second is Flink's
# usual one, several slots to a TaskManager.
FLINK = "Flink"
SHARED_WORKER = f"Flink, one TaskManager with {SLOTS} slots"
SHAPES = {FLINK: SLOTS, SHARED_WORKER: 1}


@contextlib.contextmanager
def flink_cluster(taskmanagers: int) -> Iterator[tuple[int, str, list[int]]]:
    """A loopback session cluster of ``taskmanagers`` TaskManagers sharing SLOTS slots, on free ports: its REST
    port, Beam's job server jar, its JVMs' pids."""
    port = free_port()
    env = {**os.environ, "FLINK_REST_PORT": str(port), "FLINK_RPC_PORT": str(free_port()), "PYTHON": sys.executable,
           "FLINK_SLOTS": str(SLOTS), "FLINK_TASKMANAGERS": str(taskmanagers)}
    subprocess.run([CLUSTER, "up"], env=env, check=True, timeout=900)
    try:
        jar = subprocess.run([CLUSTER, "job-server-jar"], env=env, check=True, capture_output=True, text=True,
                             timeout=900).stdout.strip()
        run_dir = CACHE / f"flink-run-{port}"
        pids = [int(p) for f in run_dir.glob("*.pid") for p in f.read_text().split()]
        yield port, jar, pids
    finally:
        subprocess.run([CLUSTER, "down"], env=env, timeout=120)


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


# Beam's Flink job server, which the driver starts for each build, now and then fails to come up ("Service failed
# to start up with error 0"): nothing ran and nothing was published. Such a build is started again, once.
JOB_SERVER_DID_NOT_START = "Service failed to start up"


def counted_build_again_if_no_job_server(recipe: Path, beam_args: list[str], accounts: dict[str, CpuAccount]) -> dict:
    try:
        return counted_build(recipe, beam_args, accounts)
    except BuildFailed as failed:
        if JOB_SERVER_DID_NOT_START not in str(failed):
            raise
        print(f"Beam's job server did not start for {recipe.name}; building it again", file=sys.stderr, flush=True)
        return counted_build(recipe, beam_args, accounts)


def split(run: dict) -> str:
    parts = ", ".join(f"{name} {seconds:.1f}" for name, seconds in run["cpu"].items())
    return f"{run['total']:.1f} ({parts})" if len(run["cpu"]) > 1 else f"{run['total']:.1f}"


def idle_rate(account: CpuAccount, seconds: float = 20) -> float:
    """CPU seconds per wall second the account's processes spend with no job running."""
    before = account.seconds()
    time.sleep(seconds)
    return (account.seconds() - before) / seconds


def measure(label: str, runner: str, args: list[str], recipes: tuple[Path, Path], sizes: tuple[int, int],
            accounts: dict[str, CpuAccount], rounds: int = ROUNDS) -> tuple[str, float]:
    """The table row of ``runner`` on the recipe's two inputs, and its marginal MB/s per CPU second: the
    least CPU of ``rounds`` runs of each."""
    runs: tuple[list[dict], list[dict]] = ([], [])
    for _ in range(rounds):
        for recipe, done in zip(recipes, runs, strict=True):
            done.append(counted_build_again_if_no_job_server(recipe, args, accounts))
    first_file, all_files = (min(done, key=lambda run: run["total"]) for done in runs)
    marginal = (sizes[1] - sizes[0]) / max(all_files["total"] - first_file["total"], 1e-9) / 1e6
    fixed = first_file["total"] - sizes[0] / 1e6 / marginal
    row = (f"| {label} | {runner} | {all_files['documents']:,} | {all_files['wall']:.1f} | {split(all_files)} | "
           f"{first_file['wall']:.1f} | {split(first_file)} | {marginal:.2f} | {fixed:.1f} |")
    print(row, flush=True)
    return row, marginal


def on_flink(shape: str, recipes: dict[str, tuple[Path, Path]], sizes: tuple[int, int], small: list[str],
             rows: dict[tuple[str, str], str], rates: dict[str, dict]) -> dict[str, float]:
    """The recipes on a cluster of ``shape``, into ``rows`` and ``rates``; the cluster's idle CPU per second."""
    with flink_cluster(SHAPES[shape]) as (rest_port, jar, jvm_pids), contextlib.ExitStack() as stack:
        jvms = stack.enter_context(CpuAccount("jvms"))
        for pid in jvm_pids:
            jvms.add(pid)
        workers = stack.enter_context(CpuAccount("workers"))
        boot = boot_script(WORK / "boot", WORKER_ENV, cgroup=workers.path)
        args = ["--runner=FlinkRunner", f"--flink_master=localhost:{rest_port}", "--flink_version=1.19",
                f"--flink_job_server_jar={jar}", f"--parallelism={SLOTS}", "--environment_type=PROCESS",
                f"--environment_config={json.dumps({'command': str(boot)})}"]
        accounts = {"Flink JVMs": jvms, "SDK workers": workers}
        idle = {name: idle_rate(account) for name, account in accounts.items()}
        # One job first, not counted: a TaskManager compiles Flink's own code (network stack, sorters) in the
        # first job it runs, which would otherwise be charged to the first recipe's smaller run.
        counted_build_again_if_no_job_server(write_recipe("flink-warm-up", small, {}), args, {})
        for label, pair in recipes.items():
            try:
                rows[label, shape], rates[label][shape] = measure(label, shape, args, pair, sizes, accounts)
            except BuildFailed as failed:
                if shape == FLINK:
                    raise
                print(failed, file=sys.stderr, flush=True)  # a comparison's row: said in the table, not fatal
                reason = str(failed).strip().splitlines()[-1][:160].replace("|", "/")
                rows[label, shape] = f"| {label} | {shape} | failed: {reason} | | | | | | |"
        return idle


def main() -> int:
    if not CpuAccount.available():
        print("bench/flink_per_core.py needs a cgroup it may create (cpuacct) to count CPU; skipped")
        return 0
    files, described = archive_files()
    WORK.mkdir(parents=True, exist_ok=True)
    small, large = copies_of(files, SMALL_COPIES), copies_of(files, LARGE_COPIES)
    sizes = small_size, size = tuple(sum(Path(f).stat().st_size for f in linked) for linked in (small, large))
    rows: dict[tuple[str, str], str] = {}
    ratios: dict[str, dict] = {}
    recipes = {}
    for number, (label, (sections, near)) in enumerate(list(RECIPES.items())[:2]):
        recipes[label] = (write_recipe(f"flink-{number}-small", small, sections),
                          write_recipe(f"flink-{number}", large, sections))
        ratios[label] = {"plain loop": size / floor(large, near).cpu / 1e6}
        rows[label, "DirectRunner"], ratios[label]["DirectRunner"] = measure(
            label, "DirectRunner", [], recipes[label], sizes, {})
    idle = on_flink(FLINK, recipes, sizes, small, rows, ratios)
    # One recipe shows what sharing a TaskManager's SDK worker between slots costs.
    on_flink(SHARED_WORKER, dict(list(recipes.items())[:1]), sizes, small, rows, ratios)
    rows_in_order = [rows[key] for label in recipes for key in rows if key[0] == label]
    lines = [
        "# The build on Flink, per core",
        "",
        f"Input: {described}, {LARGE_COPIES} copies (links under distinct names), {size / 1e6:.1f} MB compressed, "
        f"and {SMALL_COPIES} copies ({small_size / 1e6:.1f} MB). "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; the least CPU of "
        f"{ROUNDS} runs of each size, taken in turn; {load()}. "
        "Produced by `make bench` (bench/flink_per_core.py).",
        "",
        f"Flink 1.19.3 on loopback (deploy/flink/local-cluster.sh: {SLOTS} slots, `--parallelism={SLOTS}`). "
        f"`{FLINK}` has a TaskManager per slot (`FLINK_TASKMANAGERS={SLOTS}`), as deploy/flink/session-cluster.yaml "
        "runs them. Beam's Flink job server submits. Each TaskManager starts its SDK workers itself "
        "(`--environment_type=PROCESS` with testbed/sdk_worker_boot.py, the same SdkHarness that Beam's worker "
        "pool starts, with the environment the worker image deploy/docker/Dockerfile sets: "
        f"{WORKER_ENV_TEXT}): on "
        "Kubernetes each TaskManager pod has a worker pool of its own, but one pool on loopback cannot serve two "
        "TaskManagers, which number their workers alike. The cluster runs one job (the default recipe on the "
        "smaller input) before the measured ones, not counted: a TaskManager's JIT compiles Flink's own code in "
        "the first job it runs. CPU is user and system time as the kernel counts it in a cgroup per "
        "part: the Flink JVMs (JobManager and TaskManagers), the SDK workers, and the driver (`warcforge build` "
        "and the job server it starts). The DirectRunner runs one "
        "in-process worker. Marginal: MB between the two runs, per CPU second between them; it leaves out each "
        "job's fixed cost, which the last column estimates (the smaller run's CPU beyond its MB at the marginal "
        f"rate). The smaller input is {SMALL_COPIES} copies, not one: Flink's JVMs keep compiling (JIT) through "
        "a job's first hundred MB or so, since a session cluster loads Beam's runner classes anew for each job; "
        "from one copy that warm-up would count as a cost per byte, which at crawl scale (hours per job) it is "
        "not. Beam's Flink runner starts one SDK worker process per TaskManager (`--sdk_worker_parallelism=1`) "
        "and hands it the bundles of all the TaskManager's slots; its Python computes on one core at a time. "
        f"The row `{SHARED_WORKER}` is Flink's usual shape, several slots to a TaskManager: there the slots' "
        "bundles run as threads of one SDK worker. (`--sdk_worker_parallelism` above 1 does not mend it: the "
        "runner hands each stage's operators a worker in turn as they open, so two slots of the heavy stage "
        "may still share one, and did in one of two jobs tried.)",
        "",
        f"| recipe | runner | documents out | wall s, {LARGE_COPIES} copies | CPU s, {LARGE_COPIES} copies "
        f"| wall s, {SMALL_COPIES} copies | CPU s, {SMALL_COPIES} copies | MB/s per CPU, marginal "
        "| fixed CPU s per job |",
        "|---|---|---:|---:|---|---:|---|---:|---:|",
        *rows_in_order,
        "",
        "| recipe | plain loop MB/s per CPU | DirectRunner | Flink | Flink ÷ DirectRunner |",
        "|---|---:|---:|---:|---:|",
        *[f"| {label} | {r['plain loop']:.2f} | {r['DirectRunner']:.2f} | {r[FLINK]:.2f} | "
          f"{r[FLINK] / r['DirectRunner']:.2f}× |" for label, r in ratios.items()],
        "",
        "Target (issue 18): the default recipe on Flink at ≥ 0.8× the DirectRunner's per-core rate.",
        "",
        "With no job running, over 20 s before the first: "
        + ", ".join(f"{name} {rate:.3f} CPU s per wall second" for name, rate in idle.items())
        + " (heartbeats, metrics): a share of each job's CPU grows with its wall-clock time.",
        "",
    ]
    write_report(OUT, lines)
    write_figures("flink", {"marginal_mb_per_cpu_s": ratios, "idle_cpu_per_s": idle, "slots": SLOTS,
                            "taskmanagers": SHAPES})
    return 0


if __name__ == "__main__":
    sys.exit(main())
