"""Beam counters named ``<stage>/<reason>`` (see ``transforms.common.reasons``), created on first use.

The one piece of Beam the stages share, so it sits in ``stage.py`` like every stage's Beam code.
"""

from apache_beam.metrics import Metrics


class StageCounters:
    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._counters: dict = {}

    def inc(self, name: str, n: int = 1) -> None:
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = Metrics.counter(self.stage, name)
        counter.inc(n)
