"""warcforge as ``pip install warcforge`` installs it, for the benchmarks that time whole commands.

The repository's own environment (``make venv``) has the development extras: the test tools and Beam's
GCP extras (``apache-beam[gcp]``, for Dataflow). With those installed, ``import apache_beam`` also loads
Google Cloud's BigQuery, Pub/Sub and Dataflow clients, whatever the runner: about 0.4 CPU s more of every
command's start here (1.43 against 0.97 s, mean of 8 alternating imports of the build job, 2026-12-01). A
local build's start-up is paid by the user's install, so that is what the wall-clock figures time; the
development environment is timed beside it where the difference shows.

The environment lives in ``build/bench-user-install``. Its packages are installed as pip resolves them for a
user, again whenever ``pyproject.toml`` changes; the repository itself is reinstalled on every use, so the
figures are of the code checked out.
"""

import functools
import hashlib
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / "build" / "bench-user-install"


@functools.cache
def user_install() -> Path:
    """The folder holding the user install's ``python`` and ``warcforge``, the checked-out code installed in it
    (once a process)."""
    bin_dir = VENV / "bin"
    marker = VENV / ".installed"
    wanted = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()
    if not marker.exists() or marker.read_text() != wanted:
        print(f"installing warcforge and its dependencies, without extras, into {VENV}", flush=True)
        if not (bin_dir / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, timeout=300)
        subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(REPO)], check=True,
                       timeout=1800)
        marker.write_text(wanted)
    # The dependencies stay as they are; the code is this checkout's.
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall",
                    str(REPO)], check=True, timeout=600)
    return bin_dir
