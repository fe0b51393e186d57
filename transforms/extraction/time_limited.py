"""Run a function in a child process that is killed when a call takes too long.

A thread cannot be stopped from outside and a pathological page can keep an HTML parser busy
for minutes, so the only hard time limit is a separate process. The child is started once and
reused; after a timeout it is killed and a fresh one is started for the next call.

A call's time limit counts the call only: a child says it is ready once it has imported its target
(trafilatura, say: about a second, more on a loaded machine), and no call is sent to it before. A first
page timed against the start-up too was dead-lettered as a timeout on a busy CI machine.
"""

import importlib
import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

READY = "ready"
START_TIMEOUT_S = 300.0  # a child that has not imported its target by then is taken to be broken


class CallTimedOut(Exception):
    """The call did not return within the time limit; the child was killed."""


def _serve(connection: Connection, target: str) -> None:
    module_name, _, function_name = target.partition(":")
    function: Callable = getattr(importlib.import_module(module_name), function_name)
    connection.send((READY, None))
    while True:
        try:
            args = connection.recv()
        except EOFError:
            return
        try:
            connection.send(("ok", function(*args)))
        except Exception as exc:  # the parent decides what a failure means
            connection.send(("error", f"{type(exc).__name__}: {exc}"))


class TimeLimitedWorker:
    def __init__(self, target: str) -> None:
        """``target`` is ``"module:function"``, imported in the child."""
        self.target = target
        self._context = multiprocessing.get_context("spawn")
        self._process = None
        self._connection: Connection | None = None

    def start(self) -> None:
        """Start the child, if none is running, and wait until it has imported its target (from a DoFn's
        setup, so the first page does not wait for it either)."""
        if self._process is not None and self._process.is_alive():
            return
        self.stop()
        parent, child = self._context.Pipe()
        self._process = self._context.Process(target=_serve, args=(child, self.target), daemon=True)
        self._process.start()
        child.close()
        self._connection = parent
        try:
            ready = parent.poll(START_TIMEOUT_S) and parent.recv()[0] == READY
        except EOFError:  # it ended while importing: its own traceback is on stderr
            ready = False
        if not ready:
            self.stop()
            raise RuntimeError(f"the time-limited worker for {self.target} did not start")

    def call(self, args: tuple, timeout_s: float) -> Any:
        self.start()
        self._connection.send(args)
        if not self._connection.poll(timeout_s):
            self.stop()
            raise CallTimedOut(f"no answer within {timeout_s} s")
        status, value = self._connection.recv()
        if status == "error":
            raise RuntimeError(value)
        return value

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(timeout=10)
            self._process = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None
