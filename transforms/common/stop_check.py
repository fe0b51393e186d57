"""Stopping in-process work when the driver's signal handler could not: a stage calls ``check_stop`` where
its work can stop (``StageClock``, after each timed step), and the job's signal handling
(``beam_jobs.interrupts``) installs the check. A handler's raise is lost when Python runs the handler inside
a finalizer or a weakref callback; this raises it again. Worker processes keep the check they inherited,
which never fires there: the signal reaches the driver only."""

from collections.abc import Callable

_check: Callable[[], None] | None = None


def set_stop_check(check: Callable[[], None] | None) -> None:
    global _check
    _check = check


def check_stop() -> None:
    if _check is not None:
        _check()
