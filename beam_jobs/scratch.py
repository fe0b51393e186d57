"""A scratch folder for what Beam puts in the temp directory during a run, removed when the process ends.

A build on the DirectRunner used to leave four folders in ``tempfile.gettempdir()``. The DirectRunner
first tries Prism: ``SubprocessJobServer.start`` makes ``beam-temp*`` and only then looks for the Prism
binary; where there is none to download (offline, or no release for this platform) the start fails, the
job server is never registered to stop at exit, and the folder stays. Staging the SDK's dependencies
(``environments.python_sdk_dependencies``, once for Prism's environment and once for the loopback one)
makes a ``tmp*`` folder each and ``beam-requirements-cache``, and nothing removes them. (A build and a
materialize on the DirectRunner now run Beam's FnApiRunner directly, ``runners.direct_batch_runner``, and
make no attempt at Prism; the folder still takes what other runners and Beam's staging leave.)

All of them are made through ``tempfile``, so for the length of a run ``tempfile.tempdir`` points at a
``warcforge-*`` folder of this process, made inside the temp directory. It is removed when the process
exits, not when the run ends: a job server Beam keeps for the rest of the process (Prism's is shared
between pipelines, Flink's stops at exit) removes its own ``beam-temp*`` folder from its exit handler,
which must still find it. The folder's exit handler is registered before any run's, so it runs after
theirs. A run started with ``--requirements_cache`` keeps its cache where that flag says.
"""

import atexit
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

_scratch_dirs: dict[int, str] = {}  # process id -> its scratch folder; a forked child makes its own


def _scratch_dir_of_this_process() -> str:
    pid = os.getpid()
    if pid not in _scratch_dirs:
        _scratch_dirs[pid] = tempfile.mkdtemp(prefix="warcforge-")
        atexit.register(_remove_at_exit, _scratch_dirs[pid], pid)
    return _scratch_dirs[pid]


def _remove_at_exit(path: str, pid: int) -> None:
    if os.getpid() == pid:  # a forked child that runs its exit handlers must not take its parent's folder
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def temp_files_in_scratch_dir() -> Iterator[str]:
    """Within the block, ``tempfile`` (and so Beam) makes its files in this process's scratch folder."""
    scratch = _scratch_dir_of_this_process()
    previous = tempfile.tempdir
    tempfile.tempdir = scratch
    try:
        yield scratch
    finally:
        tempfile.tempdir = previous
