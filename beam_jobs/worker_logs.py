"""What a local worker process logs, told the way the build itself tells it.

A worker in its own process sends its log records to the build over Beam's logging service, and
Beam's servicer logs each as one ``WARNING:...local_job_service:Worker: severity: WARN timestamp
{...} message: ...`` line under its own logger. Two things go wrong with that on a terminal: the
harness's start-up chatter (no semi-persistent directory, options it does not parse) reaches the
user as warnings on every run, and warcforge's own lines (a file read, a retry) go to a logger
whose INFO the build never shows, so a two-worker build loses the progress lines a one-worker
build prints. Here a record logged by warcforge's code goes to the ``warcforge.worker`` logger
with its level and message, through the build's own handlers; Beam's records go to Beam's logger,
errors as they are and the rest at DEBUG.
"""

import logging
import os
from collections.abc import Iterable, Iterator

from apache_beam.portability.api import beam_fn_api_pb2, beam_fn_api_pb2_grpc
from apache_beam.runners.worker.log_handler import LOGENTRY_TO_LOG_LEVEL_MAP

# The folders of warcforge's packages: a record logged from a file in one of them is warcforge's.
OUR_PACKAGES = tuple(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), package, "")
                     for package in ("beam_jobs", "transforms"))
ours = logging.getLogger("warcforge.worker")
beams = logging.getLogger("apache_beam.runners.portability.local_job_service")


def is_ours(entry: beam_fn_api_pb2.LogEntry) -> bool:
    """Whether warcforge's code logged ``entry`` (its ``log_location`` is ``path:line``)."""
    return os.path.abspath(entry.log_location).startswith(OUR_PACKAGES)


def relog(entry: beam_fn_api_pb2.LogEntry) -> None:
    level = LOGENTRY_TO_LOG_LEVEL_MAP.get(entry.severity, logging.INFO)
    message = entry.message + (f"\n{entry.trace.rstrip()}" if entry.trace else "")
    if is_ours(entry):
        ours.log(level, "%s", message)
    else:
        beams.log(level if level >= logging.ERROR else logging.DEBUG, "worker: %s", message)


class WorkerLogServicer(beam_fn_api_pb2_grpc.BeamFnLoggingServicer):
    """Beam's logging service for local workers, each record handed to ``relog``."""

    def Logging(self, log_bundles: Iterable[beam_fn_api_pb2.LogEntry.List],  # noqa: N802 - gRPC's name
                context: object = None) -> Iterator[beam_fn_api_pb2.LogControl]:
        for bundle in log_bundles:
            for entry in bundle.log_entries:
                relog(entry)
        return iter([])
