"""A build or materialize on Dataflow that is stopped cancels its job (beam_jobs.dataflow_jobs). Beam's
DataflowRunner submits the real run to a stand-in for Dataflow's REST API on loopback (``--dataflow_endpoint``),
with its staging (and a build's output) on a GCS emulator: the driver creates the job, waits on it, and is
stopped with a Ctrl-C as a terminal sends it. Without the cancel the job would run on without its driver and
write a full set of shards under a staging folder the run had removed, while it said the output was as it was."""

import io
import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from apache_beam.runners.runner import PipelineState

from beam_jobs import dataflow_jobs
from beam_jobs.build import run_build
from beam_jobs.job_options import JobOptions
from beam_jobs.lock import run_lock
from beam_jobs.runners import is_dataflow
from tests.conftest import REPO, WARCFORGE, gcs_upload, write_recipe

RUNNING, CANCELLED, CANCELLING = 2, 5, 10  # Dataflow's JobState numbers, as Beam's client asks for them
JOB_ID = "2026-12-03_01_00_00-1234567890"


class StandInDataflow:
    """Creates one job per POST; GET answers its state; a PUT asking for JOB_STATE_CANCELLED makes it CANCELLING,
    then CANCELLED a moment later, as Dataflow does. Records each update asked for."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict] = {}
        self.updates: list[tuple[str, dict]] = []
        self.polled = threading.Event()
        self.refuse_get: int | None = None  # this GET of the job (1, 2, ...) answers 403: the driver's wait fails
        self.hang_updates = False  # a cancel that is never answered
        self.refuse_updates = False  # a cancel refused (403)
        self.gets = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _body(self) -> dict:
                return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")

            def _answer(self, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _refuse(self, message: str) -> None:  # as Google's APIs answer: the error as JSON
                data = json.dumps({"error": {"code": 403, "message": message, "status": "PERMISSION_DENIED"}}).encode()
                self.send_response(403)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _job(self) -> dict:
                return stand_in.jobs[self.path.split("/jobs/")[1].split("?")[0].split("/")[0]]

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                asked = self._body()
                stand_in.jobs[JOB_ID] = {"id": JOB_ID, "projectId": "warcforge-example", "name": asked["name"],
                                         "location": "europe-west4", "currentState": RUNNING,
                                         "clientRequestId": asked.get("clientRequestId", "")}
                self._answer(stand_in.jobs[JOB_ID])

            def do_GET(self) -> None:  # noqa: N802
                if self.path.split("?")[0].endswith(("/messages", "/metrics")):
                    self._answer({})
                    return
                stand_in.polled.set()
                stand_in.gets += 1
                if stand_in.gets == stand_in.refuse_get:
                    self._refuse("the caller lacks dataflow.jobs.get")
                    return
                self._answer(self._job())

            def do_PUT(self) -> None:  # noqa: N802
                job, asked = self._job(), self._body()
                stand_in.updates.append((job["id"], asked))
                if stand_in.hang_updates:
                    time.sleep(120)
                    return
                if stand_in.refuse_updates:
                    self._refuse("the caller lacks dataflow.jobs.cancel")
                    return
                if asked.get("requestedState") in (CANCELLED, "JOB_STATE_CANCELLED"):
                    job["currentState"] = CANCELLING
                    threading.Timer(1.5, job.update, kwargs={"currentState": CANCELLED}).start()
                self._answer(job)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://localhost:{self.server.server_address[1]}"  # "localhost": Beam's client uses REST
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def dataflow_api():
    stand_in = StandInDataflow()
    yield stand_in
    stand_in.server.shutdown()


def _objects(emulator: str, bucket: str, prefix: str) -> list[str]:
    with urllib.request.urlopen(f"{emulator}/storage/v1/b/{bucket}/o?prefix={prefix}", timeout=10) as response:
        return [item["name"] for item in json.load(response).get("items", [])]


DATAFLOW = ["--runner=DataflowRunner", "--project=warcforge-example", "--region=europe-west4",
            "--temp_location=gs://warcforge-runs/tmp", "--staging_location=gs://warcforge-runs/staging",
            "--sdk_container_image=example.org/warcforge/worker:1", "--sdk_location=container",
            "--job_name=warcforge-cancel", "--no_auth"]


def _stop_once_submitted(args: list[str], dataflow_api: StandInDataflow, emulator: str, err: Path,
                         when: str | None = None) -> int:
    """``warcforge ARGS`` on Dataflow (the stand-in), Ctrl-C'd once the driver waits on its job (or once its
    stderr has the line ``when``); its exit status."""
    env = {**os.environ, "STORAGE_EMULATOR_HOST": emulator, "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}
    with open(err, "w") as stderr:
        run = subprocess.Popen([WARCFORGE, *args, *DATAFLOW, f"--dataflow_endpoint={dataflow_api.endpoint}"],
                               cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (dataflow_api.polled.wait(0.5) if when is None else when in err.read_text()):
            assert run.poll() is None and time.monotonic() < deadline, err.read_text()[-3000:]
            time.sleep(0.1)
        os.killpg(run.pid, signal.SIGINT)  # as a terminal does
        return run.wait(timeout=90)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)


def _assert_cancelled(returncode: int, err: Path, dataflow_api: StandInDataflow) -> None:
    text = err.read_text()
    assert returncode == 130, text[-3000:]
    assert f"warcforge: cancelling the Dataflow job {JOB_ID}" in text and "warning" not in text, text[-3000:]
    assert text.strip().splitlines()[-1] == "warcforge: interrupted; nothing was published, the output is as it was"
    assert [(jid, asked.get("requestedState")) for jid, asked in dataflow_api.updates] == [(JOB_ID, CANCELLED)]
    assert dataflow_api.jobs[JOB_ID]["currentState"] == CANCELLED


def test_ctrl_c_of_a_build_on_dataflow_cancels_its_job(dataflow_api, gcs_emulator, sample_dir, tmp_path):
    for shard in sorted(sample_dir.glob("*.warc.gz")):
        gcs_upload(gcs_emulator, "warcforge-crawl", f"sample/{shard.name}", shard.read_bytes())
    gcs_upload(gcs_emulator, "warcforge-runs", "README", b"the output's bucket")
    recipe = write_recipe(tmp_path / "r.yaml", ["gs://warcforge-crawl/sample/*.warc.gz"])
    err = tmp_path / "build.err"
    status = _stop_once_submitted(["build", "--config", str(recipe), "--output", "gs://warcforge-runs/datasets/sample"],
                                  dataflow_api, gcs_emulator, err)
    _assert_cancelled(status, err, dataflow_api)
    assert _objects(gcs_emulator, "warcforge-runs", "datasets/") == []  # staging removed, nothing published


def test_a_ctrl_c_while_a_failed_build_cancels_its_job_leaves_the_warning_and_the_last_line_says_so(
        dataflow_api, gcs_emulator, sample_dir, tmp_path):
    # The driver fails first (Dataflow refuses its polls); the cancel that follows is never answered, and a
    # Ctrl-C comes while the run waits for it: the wait ends, and what may be left is still said.
    dataflow_api.refuse_get, dataflow_api.hang_updates = 3, True
    for shard in sorted(sample_dir.glob("*.warc.gz")):
        gcs_upload(gcs_emulator, "warcforge-crawl", f"sample/{shard.name}", shard.read_bytes())
    gcs_upload(gcs_emulator, "warcforge-runs", "README", b"the output's bucket")
    recipe = write_recipe(tmp_path / "r.yaml", ["gs://warcforge-crawl/sample/*.warc.gz"])
    err = tmp_path / "build.err"
    started = time.monotonic()
    status = _stop_once_submitted(["build", "--config", str(recipe), "--output", "gs://warcforge-runs/datasets/sample"],
                                  dataflow_api, gcs_emulator, err, when=f"cancelling the Dataflow job {JOB_ID}")
    text = err.read_text()
    assert status == 130 and time.monotonic() - started < 60, text[-3000:]
    warning = next(line for line in text.splitlines() if line.startswith("warcforge: warning: the Dataflow job"))
    assert f"{JOB_ID} may still be running (the run was stopped while it waited for the cancel)" in warning
    staging = warning.split("then delete ")[1].split(",")[0]
    assert staging.startswith("gs://warcforge-runs/datasets/sample/.warcforge-staging-")
    assert text.strip().splitlines()[-1] == ("warcforge: interrupted; nothing was published, the output is as it "
                                             f"was; but the job named above may still write to {staging}")
    assert _objects(gcs_emulator, "warcforge-runs", "datasets/") == []  # its staging was still removed


def test_ctrl_c_of_a_materialize_on_dataflow_cancels_its_job(dataflow_api, gcs_emulator, sample_dir, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")])
    lock = tmp_path / "dataset.lock"
    run_lock(["--config", str(recipe), "--input", str(sample_dir / "*.warc.gz"), "-o", str(lock)])
    built = run_build(["--lock", str(lock), "--pointers", "--output", str(tmp_path / "pointers"), "--quiet"])
    assert built["documents"] > 0
    gcs_upload(gcs_emulator, "warcforge-runs", "README", b"Beam's staging bucket")
    out, err = tmp_path / "materialized", tmp_path / "materialize.err"
    status = _stop_once_submitted(["materialize", str(tmp_path / "pointers"), "--output", str(out)],
                                  dataflow_api, gcs_emulator, err)
    _assert_cancelled(status, err, dataflow_api)
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]


@pytest.mark.parametrize("refused", [False, True])
def test_ctrl_c_of_a_watch_on_dataflow_cancels_its_streaming_job_or_says_it_may_still_run(
        refused, dataflow_api, gcs_emulator, tmp_path):
    # A streaming job runs until it is cancelled: a watch that stopped and left it running would cost on and on.
    dataflow_api.refuse_updates = refused
    gcs_upload(gcs_emulator, "warcforge-crawl", "incoming/README", b"the watched bucket")
    gcs_upload(gcs_emulator, "warcforge-runs", "README", b"the output's bucket")
    recipe = tmp_path / "watch.yaml"
    recipe.write_text('{"name": "news", "watch": {"paths": ["gs://warcforge-crawl/incoming/*.warc.gz"], '
                      '"batch_window_s": 600}}')
    err = tmp_path / "watch.err"
    status = _stop_once_submitted(["watch", "--config", str(recipe), "--output", "gs://warcforge-runs/stream"],
                                  dataflow_api, gcs_emulator, err)
    text = err.read_text()
    assert [(jid, asked.get("requestedState")) for jid, asked in dataflow_api.updates] == [(JOB_ID, CANCELLED)]
    if not refused:
        assert status == 0, text[-3000:]
        assert dataflow_api.jobs[JOB_ID]["currentState"] == CANCELLED
        assert text.strip().splitlines()[-1].startswith("warcforge: watch stopped (SIGINT)")
    else:
        assert status == 1, text[-3000:]
        assert text.strip().splitlines()[-1] == (
            f"warcforge: error: the Dataflow job {JOB_ID} may still be running (Dataflow did not take the cancel "
            f"(Forbidden: 403 PUT {dataflow_api.endpoint}/v1b3/projects/warcforge-example/locations/europe-west4/"
            f"jobs/{JOB_ID}?%24alt=json%3Benum-encoding%3Dint: the caller lacks dataflow.jobs.cancel)): cancel it "
            f"there (gcloud dataflow jobs cancel {JOB_ID} --region=europe-west4 --project=warcforge-example)")


class _Result:
    """A Dataflow result whose cancel is taken but whose job never ends, or whose cancel fails, or never answers."""

    has_job = True

    def __init__(self, cancel_error: Exception | None = None, cancel_blocks_s: float = 0.0) -> None:
        self.cancel_error, self.cancel_blocks_s, self.cancels = cancel_error, cancel_blocks_s, 0

    def job_id(self) -> str:
        return JOB_ID

    def is_in_terminal_state(self) -> bool:
        return False

    def cancel(self) -> str:
        self.cancels += 1
        time.sleep(self.cancel_blocks_s)  # Beam's client retrying a call that is not answered, say
        if self.cancel_error is not None:
            raise self.cancel_error
        return PipelineState.CANCELLING

    @property
    def state(self) -> str:
        return PipelineState.CANCELLING


@pytest.mark.parametrize(("result", "problem"), [
    (_Result(), "it had not ended 1 s after the cancel"),
    (_Result(RuntimeError("HTTP 403\nthe caller lacks dataflow.jobs.cancel")),
     "Dataflow did not take the cancel (RuntimeError: HTTP 403 the caller lacks dataflow.jobs.cancel)"),
    (_Result(cancel_blocks_s=60), "Dataflow did not answer the cancel in 1 s"),
    (_Result(RuntimeError("PUT https://u:hunter2@dataflow.example/v1b3/jobs/1?key=AIzaSecret1 refused")),
     "Dataflow did not take the cancel (RuntimeError: PUT https://<redacted>@dataflow.example/v1b3/jobs/1"
     "?key=<redacted> refused)"),
])
def test_a_dataflow_job_not_seen_to_end_is_a_warning_naming_it_and_its_staging(result, problem):
    err = io.StringIO()
    options = JobOptions(["--runner=DataflowRunner", "--project=warcforge-example", "--region=europe-west4"])
    started = time.monotonic()
    left = dataflow_jobs.stop_dataflow_job(result, options, "gs://b/out/.warcforge-staging-1", err, deadline_s=1.0)
    assert time.monotonic() - started < 5 and result.cancels == 1
    assert left == "gs://b/out/.warcforge-staging-1"
    lines = err.getvalue().splitlines()
    assert lines == [
        f"warcforge: cancelling the Dataflow job {JOB_ID}",
        f"warcforge: warning: the Dataflow job {JOB_ID} may still be running ({problem}): cancel it there "
        f"(gcloud dataflow jobs cancel {JOB_ID} --region=europe-west4 --project=warcforge-example), then delete "
        "gs://b/out/.warcforge-staging-1, where it may still write"]


def test_a_stop_while_the_cancel_waits_ends_the_wait_with_a_warning():
    # After a failure in the driver the cancel runs with no signal yet: a Ctrl-C then raises inside the wait.
    err, waiting = io.StringIO(), _Result(cancel_blocks_s=60)
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()  # as a Ctrl-C
    started = time.monotonic()
    left = dataflow_jobs.stop_dataflow_job(waiting, JobOptions(["--region=r1", "--project=p1"]), "gs://b/staging",
                                           err, deadline_s=20.0)
    assert left == "gs://b/staging" and time.monotonic() - started < 5
    assert "may still be running (the run was stopped while it waited for the cancel): cancel it there " \
           f"(gcloud dataflow jobs cancel {JOB_ID} --region=r1 --project=p1)" in err.getvalue()


@pytest.mark.parametrize(("runner", "dataflow"), [
    ("DataflowRunner", True), ("dataflow", True), ("dataflowrunner", True), ("DATAFLOW", True),
    ("TestDataflowRunner", True), ("apache_beam.runners.dataflow.dataflow_runner.DataflowRunner", True),
    ("DirectRunner", False), ("FlinkRunner", False), ("PortableRunner", False), ("PrismRunner", False),
])
def test_dataflow_is_known_by_every_name_beam_runs_it_under(runner, dataflow):
    assert is_dataflow(JobOptions([f"--runner={runner}"])) is dataflow


def test_a_job_already_ended_is_not_cancelled():
    class Failed(_Result):
        def is_in_terminal_state(self) -> bool:  # the driver's wait raised because the job failed
            return True

    err, failed = io.StringIO(), Failed()
    assert dataflow_jobs.stop_dataflow_job(failed, JobOptions([]), "gs://b/staging", err) is None
    assert failed.cancels == 0 and err.getvalue() == ""


def test_a_result_without_a_dataflow_job_is_left_alone():
    class Local:
        def job_id(self) -> str:
            raise AssertionError("not asked")

    err = io.StringIO()
    assert dataflow_jobs.stop_dataflow_job(Local(), JobOptions([]), "/tmp/staging", err) is None
    assert err.getvalue() == ""
