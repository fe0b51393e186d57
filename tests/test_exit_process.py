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
