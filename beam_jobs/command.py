"""How a job command ends: its exit status and the one line that says why.

Shared by ``warcforge build`` and ``warcforge refresh``: a user error is exit 2 with one line
naming what to fix, a failed pipeline exit 1, an interrupt 130 (143 for SIGTERM) with one line,
skipped inputs 3; a traceback only with ``--verbose``. See ``build_args.EXIT_CODES``.
"""

import gc
import signal
import sys
import traceback
from collections.abc import Callable
from typing import NoReturn

from beam_jobs.build_args import (
    EXIT_FAILED,
    EXIT_FAILED_SHARDS,
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
)
from beam_jobs.interrupts import Interrupts
from transforms.common.errors import LeaseLostError, WarcforgeError
from transforms.common.secrets import redact_text
from transforms.reading.stage import ShardFailedError


class RunFailedError(WarcforgeError):
    """The pipeline did not finish successfully; nothing was published."""


def collector_on() -> None:
    """First in a job's ``__main__``: the collector, which ``beam_jobs.job`` keeps off while a job imports,
    runs again; what the imports made is frozen out of its full passes (it lives as long as the process)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def exit_process(status: int) -> NoReturn:
    """End a job's process (its ``__main__``) with ``status``, sparing it the collector's last pass.

    At shutdown Python collects once more over everything the process still holds: with Beam, the
    graph and the runner loaded that is 0.4 CPU s, paid after the dataset is published and before the
    command returns, by every build. Frozen, those objects are skipped; they are freed with the process.
    Nothing is left to a finalizer: what a job writes is closed and published before it returns, and
    atexit handlers (scratch folders) still run. The status is decided: a Ctrl-C from here on could only turn
    it into an interrupted one, so it is ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.freeze()
    sys.exit(status)


def run_command(run: Callable[[list[str], Interrupts], dict], argv: list[str],
                unpublished: str = "nothing was published, the output is as it was") -> int:
    """Run a job and turn its outcome into an exit status; ``unpublished`` is what an interrupt left."""
    verbose = "--verbose" in argv
    with Interrupts(verbose) as interrupts:
        try:
            outcome = run(argv, interrupts)
        except BaseException as exc:
            if interrupts.received is None:
                return _failed(exc, verbose, interrupts.left_behind)
            if interrupts.published:
                print("warcforge: interrupted after the publish: the dataset was published", file=interrupts.stderr,
                      flush=True)
                return EXIT_OK
            # Beam wraps the interrupt in its own error: the signal, not the exception, says what happened.
            interrupted = interrupts.received == signal.SIGINT
            print(f"warcforge: {'interrupted' if interrupted else 'terminated (SIGTERM)'}; {unpublished}"
                  f"{_but_for(interrupts.left_behind)}", file=interrupts.stderr, flush=True)
            return EXIT_INTERRUPTED if interrupted else EXIT_TERMINATED
        if interrupts.received is not None:
            print("warcforge: the signal came during the publish, which finished first: the dataset was published",
                  file=interrupts.stderr, flush=True)
    if outcome.get("documents") == 0:
        records = outcome.get("counts", {}).get("read", {}).get("in", 0)
        print(f"warcforge: warning: the dataset has 0 documents ({records:,} records were read, none was kept; "
              "see the counts above)", file=sys.stderr)
    if outcome.get("missing_documents"):
        print(f"warcforge: {outcome['missing_documents']:,} pointed documents could not be brought back; they are "
              "listed in missing/ and in manifest.json's 'materialized'", file=sys.stderr)
        return EXIT_INCOMPLETE
    if outcome.get("incomplete"):
        print("warcforge: the files written are not the ones the full build wrote (see manifest.json's "
              "'materialized')", file=sys.stderr)
        return EXIT_INCOMPLETE
    if outcome.get("failed_shards"):
        print(f"warcforge: {len(outcome['failed_shards'])} shards failed and were skipped; see failed_shards "
              "in manifest.json", file=sys.stderr)
        return EXIT_FAILED_SHARDS
    return EXIT_OK


def _but_for(left_behind: str | None) -> str:
    """What the last line adds when a run could not undo all it started (``Interrupts.left_behind``)."""
    return "" if left_behind is None else f"; but the job named above may still write to {left_behind}"


def _failed(exc: BaseException, verbose: bool, left_behind: str | None = None) -> int:
    """The exit status for a failure, with one line naming it (the traceback too with --verbose)."""
    but = _but_for(left_behind)
    try:
        raise exc
    except WarcforgeError as error:
        _fail(f"{error}{but}", verbose)
        return EXIT_FAILED if isinstance(error, RunFailedError | LeaseLostError) else EXIT_USAGE
    except ShardFailedError as error:
        _fail(f"{error}; nothing was published (read.on_shard_failure: fail){but}", verbose)
        return EXIT_FAILED
    except Exception as error:  # a runner wraps worker errors in its own types: name the cause, not a trace
        cause = str(error).strip().splitlines()
        shard_failure = next((line for line in cause if "shard failed:" in line), None)
        _fail(f"pipeline failed: {shard_failure or (cause[0] if cause else type(error).__name__)}; "
              f"nothing was published{but}", verbose)
        return EXIT_FAILED


def _fail(message: str, verbose: bool) -> None:
    if verbose:
        traceback.print_exc()
    print(f"warcforge: error: {redact_text(message)}", file=sys.stderr)
