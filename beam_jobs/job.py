"""``python -m beam_jobs.job <command> [options]``: how ``warcforge`` starts a job in its own process.

It is ``python -m beam_jobs.<command>`` with the garbage collector off while the job imports.
Importing Beam and the stages makes about a million objects that live as long as the process; the
collector, counting allocations, makes some forty passes over them while they are made (three over
everything) and frees almost nothing: 0.15 CPU s of every command's start, on a build that starts in
about 1.3. The job's ``__main__`` turns it back on first (``command.collector_on``), so whatever the
job then does is collected as usual.
"""

import gc
import os
import runpy
import sys

# numpy, which Beam imports, loads OpenBLAS, which starts a thread for every core of the machine as it loads:
# 0.1 CPU s of every job's start here, and a pool per worker process on a many-core node. No stage calls BLAS
# (MinHash is element-wise), and a job's parallelism is its workers: one thread, unless the caller chose.
NATIVE_THREAD_POOLS = {"OPENBLAS_NUM_THREADS": "1"}

if __name__ == "__main__":
    for name, value in NATIVE_THREAD_POOLS.items():
        os.environ.setdefault(name, value)  # before anything imports numpy; worker processes inherit it
    gc.disable()
    command = sys.argv.pop(1)  # the rest are the command's own arguments; runpy sets argv[0] to its file
    from beam_jobs import interrupts  # small: the standard library and one module of transforms.common

    interrupts.handle_job_signals()
    try:
        runpy.run_module(f"beam_jobs.{command}", run_name="__main__", alter_sys=True)
    except (KeyboardInterrupt, interrupts.Terminated) as stopped:
        # Raised only by interrupts.on_job_signal, while the job starts (it imports, reads its arguments):
        # nothing was done. Once the job's own handling has ended a signal is ignored.
        if "--verbose" in sys.argv:
            raise
        interrupted = isinstance(stopped, KeyboardInterrupt)
        print(f"warcforge: {'interrupted' if interrupted else 'terminated (SIGTERM)'} while starting; nothing was done",
              file=sys.stderr)
        sys.exit(130 if interrupted else 143)
