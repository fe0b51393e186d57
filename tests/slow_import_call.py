"""A stand-in for a heavy extractor (trafilatura) that takes a while to import, run in TimeLimitedWorker's child."""

import time

time.sleep(1.5)


def answer() -> str:
    return "done"
