"""When a forked local worker dies (killed, out of memory, a crash in native code): the run fails at once, and
says so in one line.

Beam's multi-processing runner waits forever for the answers of a worker that died. Here the worker's
handler swaps its control connection for one that fails every instruction (``DeadWorkerConnection``) and
closes its data channel, so the runner stops waiting; the run's error is then ``LocalWorkerDiedError``,
naming the process and the signal or exit status, instead of the data plane's "Channel closed
prematurely". What Beam's threads print as the connection breaks under them (tracebacks of gRPC errors
in its reader threads, errors closing the channels) follows from that death and says nothing more: it is
kept off the terminal while the run knows of a death (``quiet_after_death``); ``--verbose`` shows the
chain of errors behind the last line.
"""

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

from apache_beam.portability.api import beam_fn_api_pb2
from apache_beam.runners.portability.fn_api_runner.worker_handlers import ControlFuture

# Beam's loggers that report the broken connections of a dead worker.
CONNECTION_LOGGERS = ("apache_beam.runners.worker.data_plane",
                      "apache_beam.runners.portability.fn_api_runner.worker_handlers")


class LocalWorkerDiedError(RuntimeError):
    """A local worker process ended before its run did; the message names it and how it ended."""


@contextlib.contextmanager
def quiet_after_death(died: Callable[[], bool]) -> Iterator[None]:
    """While the body runs, Beam's reports of broken worker connections are dropped once ``died()``."""

    class AfterDeath(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return not died()

    previous_hook = threading.excepthook

    def thread_failed(args: threading.ExceptHookArgs) -> None:
        if not died():
            previous_hook(args)

    quiet = AfterDeath()
    loggers = [logging.getLogger(name) for name in CONNECTION_LOGGERS]
    for logger in loggers:
        logger.addFilter(quiet)
    threading.excepthook = thread_failed
    try:
        yield
    finally:
        threading.excepthook = previous_hook
        for logger in loggers:
            logger.removeFilter(quiet)


def close_dead_channel(channel: object) -> None:
    """The runner, reading a bundle's outputs, stops at a closed channel. Closing it queues an end marker,
    and the queue (Beam's ``_to_send``, up to 100 MB of the bundle's input, which nobody sends now) may be
    full, with the runner blocked writing to it: it is emptied first, both in threads of their own."""
    unsent = getattr(channel, "_to_send", None)
    if unsent is not None:
        threading.Thread(target=_discard_forever, args=(unsent,), name="dead-worker-input", daemon=True).start()
    threading.Thread(target=_close_quietly, args=(channel,), name="dead-worker-close", daemon=True).start()


def _discard_forever(unsent: object) -> None:
    while True:
        unsent.get()


def _close_quietly(channel: object) -> None:
    with contextlib.suppress(Exception):  # the channel's own error, already reported by Beam's reader
        channel.close()


class DeadWorkerConnection:
    """In place of a dead worker's control connection: every instruction fails at once with ``death``."""

    def __init__(self, connection: object, death: Exception) -> None:
        self._connection, self._death = connection, death

    def push(self, request: object) -> ControlFuture | None:
        if not isinstance(request, beam_fn_api_pb2.InstructionRequest):
            return None  # the runner's end-of-stream marker, sent when it closes the connection
        future = ControlFuture(request.instruction_id or "to-a-dead-worker")
        future.abort(self._death)
        return future

    def __getattr__(self, name: str) -> object:
        return getattr(self._connection, name)


