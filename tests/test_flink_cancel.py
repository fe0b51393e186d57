"""How a run that did not finish finds and cancels its own job on a Flink session cluster (beam_jobs.flink_jobs),
against a stand-in for Flink's REST API on loopback whose job list a test changes while the cancel runs. The real
cluster's side (tests/test_flink.py) cancels a real build's job; these cover what a real cluster rarely shows on
cue: a job listed late, an earlier run's job of the same name, a REST API behind basic auth."""

import base64
import io
import json
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from beam_jobs import flink_jobs
from beam_jobs.job_options import JobOptions


class StandInRest:
    """/jobs/overview lists ``jobs``; PATCH /jobs/ID?mode=cancel marks that job CANCELED. Records each call's
    Authorization header."""

    def __init__(self) -> None:
        self.jobs: list[dict] = []
        self.cancelled: list[str] = []
        self.authorizations: list[str | None] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, body: dict) -> None:
                stand_in.authorizations.append(self.headers.get("Authorization"))
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self._answer({"jobs": list(stand_in.jobs)})

            def do_PATCH(self) -> None:  # noqa: N802
                jid = self.path.split("/")[2].split("?")[0]
                stand_in.cancelled.append(jid)
                for job in stand_in.jobs:
                    if job["jid"] == jid:
                        job["state"] = "CANCELED"
                self._answer({})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def list_later(self, delay_s: float, job: dict) -> None:
        threading.Timer(delay_s, self.jobs.append, [job]).start()


@pytest.fixture
def rest():
    stand_in = StandInRest()
    yield stand_in
    stand_in.server.shutdown()


def _options(url: str) -> JobOptions:
    return JobOptions(["--runner=PortableRunner", "--job_endpoint=localhost:8099", f"--flink_rest_url={url}"])


def test_an_earlier_runs_job_of_the_same_name_is_not_taken_for_this_runs_late_one(rest, monkeypatch):
    monkeypatch.setattr(flink_jobs, "CANCEL_DEADLINE_S", 15.0)
    rest.jobs.append({"jid": "old", "name": "nightly", "state": "FINISHED"})  # a reused --job_name
    options = _options(f"http://127.0.0.1:{rest.port}")
    earlier = flink_jobs.earlier_cluster_jobs(options, "nightly", io.StringIO())
    assert earlier == {"old"}
    rest.list_later(7.0, {"jid": "new", "name": "nightly", "state": "RUNNING"})  # after SUBMIT_SETTLE_S
    err = io.StringIO()
    assert flink_jobs.stop_cluster_job(options, "nightly", "out/.staging", err, True, earlier) is None
    assert rest.cancelled == ["new"] and "warning" not in err.getvalue()


def test_a_submitted_job_the_cluster_never_lists_is_a_warning_at_the_deadline(rest, monkeypatch):
    monkeypatch.setattr(flink_jobs, "CANCEL_DEADLINE_S", 7.0)
    rest.jobs.append({"jid": "old", "name": "nightly", "state": "FINISHED"})
    options = _options(f"http://127.0.0.1:{rest.port}")
    err = io.StringIO()
    started = time.monotonic()
    left = flink_jobs.stop_cluster_job(options, "nightly", "out/.staging", err, True, frozenset({"old"}))
    assert left == "out/.staging" and 7.0 <= time.monotonic() - started < 12
    assert "listed no job of that name in 7 s: is that the REST address of the cluster the job server submits " \
           "to?" in err.getvalue()
    # Not submitted (stopped before its runner took the job): nothing of it can be there, nothing is said.
    assert flink_jobs.stop_cluster_job(options, "nightly", "out/.staging", io.StringIO(), False,
                                       frozenset({"old"})) is None


def test_a_user_and_password_in_the_address_are_sent_as_basic_auth_and_never_printed(rest, monkeypatch):
    monkeypatch.setattr(flink_jobs, "CANCEL_DEADLINE_S", 6.0)
    options = _options(f"http://ops:s3%2Fcret@127.0.0.1:{rest.port}")  # the password is s3/cret
    err = io.StringIO()
    left = flink_jobs.stop_cluster_job(options, "warcforge-build-x", "out/.staging", err, True)
    expected = "Basic " + base64.b64encode(b"ops:s3/cret").decode()
    assert rest.authorizations and set(rest.authorizations) == {expected}
    assert left == "out/.staging" and f"on http://<redacted>@127.0.0.1:{rest.port} may" in err.getvalue()
    assert "s3" not in err.getvalue() and "ops" not in err.getvalue()


@pytest.mark.parametrize("address", ["http://ops:s3cr/et@localhost:8081", "http://ops:pa?ss@localhost:8081",
                                     "http://ops:s3#cret@localhost", "http://ops:p w@localhost", "localhost:"])
def test_an_address_urllib_would_misread_is_refused_before_any_work_without_echoing_it(address):
    with pytest.raises(flink_jobs.FlinkRestError) as refused:
        flink_jobs.name_cluster_job(_options(address), "build")
    message = str(refused.value)
    assert message.startswith("--flink_rest_url (or --flink_master) is not the URL of Flink's REST API")
    assert not any(secret in message for secret in ("s3cr", "pa?ss", "s3#", "p w", address))


def test_a_cancel_the_cluster_does_not_answer_is_a_warning_and_names_the_staging_left():
    from tests.conftest import free_port

    nobody = free_port()  # nothing listens there: the REST API does not answer
    options = JobOptions(["--runner=PortableRunner", "--job_endpoint=localhost:8099",
                          f"--flink_rest_url=http://admin:hunter2@localhost:{nobody}"])
    err = io.StringIO()
    started = time.monotonic()
    left = flink_jobs.stop_cluster_job(options, "warcforge-build-x", "out/.warcforge-staging-x", err, submitted=True)
    assert left == "out/.warcforge-staging-x" and time.monotonic() - started < 10
    lines = err.getvalue().splitlines()
    assert lines[0] == "warcforge: cancelling the Flink job warcforge-build-x"
    assert lines[1].startswith(f"warcforge: warning: the Flink job warcforge-build-x on http://<redacted>@localhost:"
                               f"{nobody} may still be running (the cluster did not answer")
    assert "out/.warcforge-staging-x" in lines[1] and "hunter2" not in err.getvalue()


def test_a_stop_while_the_job_is_cancelled_ends_the_wait_with_a_warning(rest, monkeypatch):
    # After a failure in the driver the cancel runs with no signal yet: a Ctrl-C then raises inside the wait.
    monkeypatch.setattr(flink_jobs, "CANCEL_DEADLINE_S", 20.0)
    monkeypatch.setattr(flink_jobs, "cancel", lambda base, jid, timeout: None)  # the job takes no cancel
    rest.jobs.append({"jid": "run", "name": "nightly", "state": "RUNNING"})
    err = io.StringIO()
    threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()  # as a Ctrl-C
    started = time.monotonic()
    left = flink_jobs.stop_cluster_job(_options(f"http://127.0.0.1:{rest.port}"), "nightly", "out/.staging", err,
                                       True)
    assert left == "out/.staging" and time.monotonic() - started < 5
    assert "may still be running (the run was stopped while it cancelled the job): cancel it there, then delete " \
           "out/.staging" in err.getvalue()
