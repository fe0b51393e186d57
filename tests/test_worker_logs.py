"""How a local worker's log records are told in the build (beam_jobs/worker_logs.py)."""

import logging

from apache_beam.portability.api import beam_fn_api_pb2

from beam_jobs import worker_logs


def entry(location: str, severity: int, message: str, trace: str = "") -> beam_fn_api_pb2.LogEntry:
    return beam_fn_api_pb2.LogEntry(log_location=location, severity=severity, message=message, trace=trace)


def test_warcforges_records_keep_their_level_and_beams_are_debug_unless_errors(caplog):
    ours = worker_logs.OUR_PACKAGES[1] + "reading/stage.py:88"
    beams = "/x/site-packages/apache_beam/runners/worker/sdk_worker_main.py:409"
    severity = beam_fn_api_pb2.LogEntry.Severity.Enum
    with caplog.at_level(logging.DEBUG):
        for e in (entry(ours, severity.INFO, "read a.warc.gz: 3 records"),
                  entry(ours, severity.WARN, "retrying", trace="Traceback: boom\n"),
                  entry(beams, severity.WARN, "No semi_persistent_directory found"),
                  entry(beams, severity.ERROR, "Error processing instruction")):
            worker_logs.relog(e)
    told = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert told == [
        ("warcforge.worker", logging.INFO, "read a.warc.gz: 3 records"),
        ("warcforge.worker", logging.WARNING, "retrying\nTraceback: boom"),
        (worker_logs.beams.name, logging.DEBUG, "worker: No semi_persistent_directory found"),
        (worker_logs.beams.name, logging.ERROR, "worker: Error processing instruction"),
    ]


def test_a_path_that_only_starts_like_a_package_is_not_ours():
    severity = beam_fn_api_pb2.LogEntry.Severity.Enum
    lookalike = worker_logs.OUR_PACKAGES[1].rstrip("/") + "_extra/stage.py:1"
    assert not worker_logs.is_ours(entry(lookalike, severity.INFO, "x"))
    assert worker_logs.is_ours(entry(worker_logs.OUR_PACKAGES[0] + "build.py:1", severity.INFO, "x"))
