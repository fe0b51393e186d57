"""A job's process ends with its status and its exit handlers, without the collector's last pass."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_exit_process_keeps_the_status_and_the_exit_handlers():
    script = (
        "import atexit, gc, sys\n"
        "from beam_jobs.command import exit_process\n"
        "atexit.register(lambda: print('handlers ran', gc.get_freeze_count() > 0, flush=True))\n"
        "exit_process(3)\n"
        "print('not reached')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3, result.stderr
    assert result.stdout.splitlines() == ["handlers ran True"]


def run_probe_job(folder: Path, source: str, *args: str, **environ: str) -> subprocess.CompletedProcess:
    """A job module of our own (``source``), started as warcforge starts one: ``python -m beam_jobs.job``."""
    package = folder / "beam_jobs"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text(f"__path__.append({str(REPO / 'beam_jobs')!r})\n")
    (package / "probe_job.py").write_text(source)
    return subprocess.run([sys.executable, "-m", "beam_jobs.job", "probe_job", *args], cwd=folder,
                          env={"PYTHONPATH": f"{folder}:{REPO}", **environ}, capture_output=True, text=True,
                          timeout=60)


def test_a_job_started_by_the_cli_imports_without_the_collector_and_runs_with_it(tmp_path):
    # What the job saw while importing and once running.
    result = run_probe_job(tmp_path, (
        "import gc, sys\n"
        "AT_IMPORT = gc.isenabled()\n"
        "if __name__ == '__main__':\n"
        "    from beam_jobs.command import collector_on, exit_process\n"
        "    collector_on()\n"
        "    print(AT_IMPORT, gc.isenabled(), gc.get_freeze_count() > 0, sys.argv[1:], flush=True)\n"
        "    exit_process(4)\n"), "--a", "b")
    assert result.returncode == 4, result.stderr
    assert result.stdout.splitlines() == ["False True True ['--a', 'b']"]
    assert result.stderr == ""


def test_a_job_loads_numpy_without_a_thread_per_core_unless_the_caller_chose(tmp_path):
    # OpenBLAS (numpy's) starts a thread per core as it loads, unless told otherwise before.
    source = ("import os, re\n"
              "import numpy\n"
              "threads = re.search(r'^Threads:\\s+(\\d+)', open('/proc/self/status').read(), re.M).group(1)\n"
              "print(threads, os.environ['OPENBLAS_NUM_THREADS'], flush=True)\n")

    def job(**environ: str) -> list[str]:
        result = run_probe_job(tmp_path, source, **environ)
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    assert job() == ["1", "1"]
    assert job(OPENBLAS_NUM_THREADS="2")[1] == "2"
