"""Local workers forked from the build (``--direct_running_mode multi_processing``): each test runs its
pipeline in a Python of its own, whose children are then its workers alone."""

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.conftest import SHARED_REAL_HTML, WARCFORGE, alive, still_alive, write_recipe

REPO = Path(__file__).resolve().parent.parent

PIPELINE = """
import json, logging, os, signal, sys
import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from beam_jobs import forked_workers
from beam_jobs.runners import direct_batch_runner

import beam_jobs

def state(_=None):  # what the build set on a module before the run: a fork has it, a new Python not
    return getattr(beam_jobs, "state_of_the_build", "at import")
forked_workers.allow_forks_in_this_process()  # as a job's entry point does

def record(line):
    with open(os.environ["SEEN"], "a") as out:  # what the workers saw, for the build to read
        out.write(json.dumps(line) + "\\n")

def run(fn):
    options = PipelineOptions(["--direct_num_workers=2", "--direct_running_mode=multi_processing"])
    with beam.Pipeline(runner=direct_batch_runner(options), options=options) as p:
        p | beam.Create(list(range(20))) | beam.Reshuffle() | beam.Map(fn) | beam.Map(record)
    with open(os.environ["SEEN"]) as seen:
        return [json.loads(line) for line in seen]

def print_outcome(fn):
    try:
        run(fn)
    except Exception as exc:
        print("failed:", exc)
    else:
        print("finished")
"""


def run_script(body: str, tmp_path: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    script = PIPELINE + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, SEEN=str(tmp_path / "seen.jsonl")))


def test_two_workers_are_children_forked_from_the_build_and_none_outlives_the_run(tmp_path):
    result = run_script("""
        beam_jobs.state_of_the_build = "by the build, before the run"
        logging.getLogger("warcforge").addHandler(logging.StreamHandler(sys.stderr))

        def look(_):
            comm = open("/proc/self/comm").read().strip()
            return (os.getpid(), os.getppid(), state(), comm, len(logging.getLogger("warcforge").handlers),
                    signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)

        seen = run(look)
        try:
            left = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            left = None
        print(json.dumps({"build": os.getpid(), "seen": sorted(set(map(tuple, seen))), "left": left}))
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.splitlines()[-1])
    workers = {pid for pid, *_ in out["seen"]}
    assert 1 <= len(workers) <= 2 and out["build"] not in workers
    for _, parent, state, comm, handlers, default_term in out["seen"]:
        assert parent == out["build"]
        assert state == "by the build, before the run"  # a fork: a new Python would say "at import"
        assert comm == "warcforge-work"
        assert handlers == 0 and default_term  # the build's log handlers and signal handlers stay with it
    assert out["left"] is None  # every fork, used or not, was reaped


def test_only_the_first_run_of_a_process_forks_and_the_next_ones_still_finish(tmp_path):
    result = run_script("""
        beam_jobs.state_of_the_build = "by the build, before the run"
        seen = []
        for _ in range(3):  # as warcforge refresh builds crawl after crawl in one process
            os.remove(os.environ["SEEN"]) if os.path.exists(os.environ["SEEN"]) else None
            seen.append(sorted({state for state in run(state)}))
        print(json.dumps(seen))
    """, tmp_path, timeout=180)
    assert result.returncode == 0, result.stderr
    # After a run, gRPC's threads and Beam's thread pool exist here and would not survive a fork: the later
    # runs' workers are new processes, as Beam starts them.
    assert json.loads(result.stdout.splitlines()[-1]) == [["by the build, before the run"], ["at import"],
                                                          ["at import"]]


def test_a_process_that_did_not_ask_for_forks_gets_beams_own_workers(tmp_path):
    result = run_script("""
        forked_workers._take_permission()  # as a library caller that never called allow_forks_in_this_process
        beam_jobs.state_of_the_build = "by the build, before the run"
        print(json.dumps(sorted({state for state in run(state)})))
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == ["at import"]


def test_a_worker_that_dies_fails_the_run_at_once(tmp_path):
    result = run_script("""
        def die(x):
            if x == 7:
                os._exit(7)
            return x

        print_outcome(die)
    """, tmp_path)
    assert result.returncode == 0, result.stderr
    # The run's error names the worker and how it ended; the broken connections' tracebacks stay off stderr.
    assert re.fullmatch(r"failed: local worker process \d+ ended with exit status 7", result.stdout.splitlines()[-1])
    assert "Traceback" not in result.stderr and "RpcError" not in result.stderr, result.stderr


def test_a_fork_killed_before_its_start_fails_the_run_instead_of_hanging(tmp_path):
    result = run_script("""
        made = forked_workers.WorkerForks.__init__

        def killing_the_first(self, count):
            made(self, count)
            os.kill(self._idle[0].pid, signal.SIGKILL)

        forked_workers.WorkerForks.__init__ = killing_the_first
        print_outcome(lambda x: x)
    """, tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"failed: local worker process \d+ ended with signal SIGKILL", result.stdout.splitlines()[-1])


def test_forks_waiting_for_a_start_leave_when_their_build_is_killed():
    build = subprocess.Popen([sys.executable, "-c", PIPELINE + textwrap.dedent("""
        forks = forked_workers.WorkerForks(3)
        print(json.dumps([fork.pid for fork in forks._idle]), flush=True)
        import time
        time.sleep(120)
    """)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        forks = json.loads(build.stdout.readline())
        assert len(forks) == 3 and all(alive(pid) for pid in forks)
    finally:
        build.kill()
        build.wait()
    assert not still_alive(forks, within_s=10)


def test_a_build_whose_worker_is_killed_fails_and_publishes_nothing(tmp_path, sample_dir):
    pages = sorted(SHARED_REAL_HTML.glob("real-html-0000*.warc.gz")) or sorted(sample_dir.glob("*.warc.gz"))
    recipe = write_recipe(tmp_path / "r.yaml", [str(p) for p in pages])
    out = tmp_path / "out"
    run = subprocess.Popen([WARCFORGE, "build", "--config", str(recipe), "--output", str(out), "--quiet",
                            "--direct_num_workers", "2", "--direct_running_mode", "multi_processing"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    victim = _first_busy_worker(run.pid)
    os.kill(victim, signal.SIGKILL)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 1, err
    assert err.strip().splitlines() == [f"warcforge: error: pipeline failed: local worker process {victim} ended with "
                                        "signal SIGKILL; nothing was published"]
    assert not out.exists()


def test_a_two_worker_build_tells_what_its_workers_log_as_a_one_worker_build_does(tmp_path, sample_dir):
    files = sorted(sample_dir.glob("*.warc.gz"))
    recipe = write_recipe(tmp_path / "r.yaml", [str(p) for p in files])
    run = subprocess.run([WARCFORGE, "build", "--config", str(recipe), "--output", str(tmp_path / "out"),
                          "--direct_num_workers", "2", "--direct_running_mode", "multi_processing"],
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    reads = [line for line in run.stderr.splitlines() if line.startswith("warcforge: read ")]
    assert sorted(line.split()[2].rstrip(":") for line in reads) == sorted(str(p) for p in files)
    # The harness's start-up chatter, as Beam's servicer would have printed it, is not the user's business.
    assert "local_job_service" not in run.stderr and "semi_persistent" not in run.stderr, run.stderr


def _first_busy_worker(cli_pid: int, timeout: float = 60) -> int:
    """A forked worker of the build under ``cli_pid`` once it has started on pages (CPU time past its fork)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for build in _children(cli_pid):
            for worker in _children(build):
                if _comm(worker) == "warcforge-work" and _cpu_ticks(worker) > 20:
                    return worker
        time.sleep(0.05)
    raise AssertionError("no worker of the build got to work")


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _cpu_ticks(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])
