"""Run a function in a child process that is killed when a call takes too long.

A thread cannot be stopped from outside and a pathological page can keep an HTML parser busy
for minutes, so the only hard time limit is a separate process. The child is started once and
reused; after a timeout it is killed and a fresh one is started for the next call.
"""

import importlib
import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any


class CallTimedOut(Exception):
    """The call did not return within the time limit; the child was killed."""


def _serve(connection: Connection, target: str) -> None:
    module_name, _, function_name = target.partition(":")
    function: Callable = getattr(importlib.import_module(module_name), function_name)
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

    def _start(self) -> None:
        parent, child = self._context.Pipe()
        self._process = self._context.Process(target=_serve, args=(child, self.target), daemon=True)
        self._process.start()
        child.close()
        self._connection = parent

    def call(self, args: tuple, timeout_s: float) -> Any:
        if self._process is None or not self._process.is_alive():
            self._start()
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
