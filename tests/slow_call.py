"""A stand-in for a parser stuck on a page, run in TimeLimitedWorker's child process."""

import time


def sleep_then_answer(seconds: float) -> str:
    time.sleep(seconds)
    return "done"
