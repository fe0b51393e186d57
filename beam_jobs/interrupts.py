"""Ctrl-C and SIGTERM: one line, a clean output directory, no tracebacks unless ``--verbose``.

The handler kills the build's child processes (Beam's workers: Beam's clean-up would wait for
them) and raises in the main thread (``KeyboardInterrupt``, or ``Terminated`` for SIGTERM) so
that every ``finally`` runs: staging is removed, the lease released. Beam wraps the exception
and its threads and loggers print tracebacks while the pipeline unwinds; from the moment of the
signal those are silenced (logging disabled, file descriptor 2 pointed at /dev/null) and the
one line goes to a copy of the original stderr. During the publish, the build's last step, a
signal is held back: a publish is short, a finished one leaves nothing to repair, and the build
then reports what it did.

A raise from the handler can be lost: Python runs the handler at whatever point the main thread
has reached, and when that is a finalizer or a weakref callback (one runs in resiliparse's
boilerplate pruning, say) the exception is printed as unraisable and dropped. The build then went
on, published and exited 0 (3 builds of 34 interrupted at random moments, 2026-12-03). So the
signal is raised again where the build can stop safely: after each timed step of an in-process
stage (``transforms.common.stop_check``), before each bundle an in-process worker runs
(``stop_if_interrupted``) and before the publish (``held``).
"""

import contextlib
import io
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import TextIO

from transforms.common.stop_check import set_stop_check


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that cleanup runs as it does for Ctrl-C."""


_active: "Interrupts | None" = None  # the job's, while its block runs
# A job process's signals outside its own handling (``on_job_signal``): None while it starts, a signal then
# received, or DECIDED once the job's handling has ended and its exit status is decided.
_job_signal: int | None = None
DECIDED = -1


def handle_job_signals() -> None:
    """First in a job process (``beam_jobs.job``): Ctrl-C and SIGTERM go to ``on_job_signal`` whenever the
    job's own handling (``Interrupts``, the watch's) is not in place."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_job_signal)


def on_job_signal(signum: int, frame: object) -> None:
    """While the job starts nothing is done yet: the signal stops it (``beam_jobs.job`` says so in one line)
    and is kept, so that if a finalizer drops this raise the job's ``Interrupts`` raises it again. Once the
    job's status is decided (``job_status_decided``) a signal could only misreport it: ignored."""
    global _job_signal
    if _job_signal == DECIDED:
        return
    _job_signal = signum
    raise KeyboardInterrupt() if signum == signal.SIGINT else Terminated()


def job_status_decided() -> None:
    """The job's own handling has ended: what it did is decided, and a later signal is ignored."""
    global _job_signal
    _job_signal = DECIDED


def stop_if_interrupted() -> None:
    """Raise the signal's exception if a signal came, the build has not published and its first raise was
    lost (module docstring). For the points where stopping is safe: a bundle's start, not a cleanup."""
    if _active is not None:
        _active.raise_if_received()


class Interrupts:
    def __init__(self, verbose: bool, stop_children: Callable[[], object] | None = None) -> None:
        self.verbose = verbose
        self.stop_children = stop_children or kill_child_processes
        self.received: int | None = None
        self.published = False  # set by the build once its dataset is in place: after that, nothing to undo
        # Set by a run that could not undo all it started (a Flink or Dataflow job not seen to end): its last
        # line says so.
        self.left_behind: str | None = None
        self._holding = False
        self._previous: dict[int, object] = {}
        self._outer: Interrupts | None = None  # the one active when this one was entered
        self.stderr: TextIO = sys.stderr

    def __enter__(self) -> "Interrupts":
        global _active
        if _active is self:
            raise RuntimeError("an Interrupts block is not re-entrant")
        if _job_signal is not None and _job_signal != DECIDED:
            self.received = _job_signal  # came while the job started, its raise dropped: raised at the first check
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)
        self._outer, _active = _active, self
        set_stop_check(stop_if_interrupted)
        return self

    def __exit__(self, *exc: object) -> None:
        global _active
        if self._outer is None:
            job_status_decided()  # before the job's handler (on_job_signal) is back in place
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        _active = self._outer
        if _active is None:
            set_stop_check(None)

    def current_stderr(self) -> TextIO:
        """A stream that writes to ``stderr`` as it is at each write: from a signal on, the copy the handler made
        (file descriptor 2 then goes to /dev/null). For lines a run may print after a stop it did not expect, as
        a cancel's warning when the stop comes while a failed run cancels its job."""
        return _CurrentStderr(self)

    def raise_if_received(self) -> None:
        """Raise the received signal's exception, unless none came or the build holds it (publishing, or
        published). Only where the build can stop safely: a raise inside a ``finally`` would cut the
        cleanup that the first raise started short."""
        if self.received is not None and not self._holding and not self.published:
            self._raise()

    def _handle(self, signum: int, frame: object) -> None:
        if self.received is not None:
            return  # a second Ctrl-C must not break the cleanup the first one started
        if not self.verbose:
            self._silence()
        self.received = signum
        # Beam's worker processes first: its clean-up joins the threads that wait for them, and
        # they, in their own session, never saw the signal.
        self.stop_children()
        if not self._holding and not self.published:  # once published, the build only tidies up: let it
            self._raise()

    def _raise(self) -> None:
        raise KeyboardInterrupt() if self.received == signal.SIGINT else Terminated()

    def _silence(self) -> None:
        logging.disable(logging.CRITICAL)
        try:
            self.stderr = os.fdopen(os.dup(2), "w", buffering=1)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        except OSError:
            pass  # no file descriptor 2 to redirect: nothing to silence

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold signals back while the block (the build's last step) runs: it finishes, and the
        caller reports that it did. A signal that came during it is in ``received``. A signal that came
        before it and whose raise was lost is raised now, and nothing is published."""
        self.raise_if_received()
        self._holding = True
        try:
            yield
        finally:
            self._holding = False


def kill_child_processes() -> int:
    """SIGKILL every process this one started, and theirs (Linux, through /proc): Beam's worker
    processes wait for a driver that is gone, and the interpreter would wait for them at exit."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stream:
                    parents[int(entry)] = int(stream.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    family, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier and pid not in family}
        family |= frontier
    for pid in family:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return len(family)


class _CurrentStderr(io.TextIOBase):
    def __init__(self, interrupts: Interrupts) -> None:
        super().__init__()
        self._interrupts = interrupts

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return self._interrupts.stderr.write(text)

    def flush(self) -> None:
        self._interrupts.stderr.flush()
