"""Stopping a job on a Flink session cluster, through Flink's REST API.

Beam's Flink job server ends its own side of a job on cancel but leaves the job running on a
session cluster (it then restarts without its driver). So the watch names its job
(``--job_name``) and, when told to stop, finds it by that name and cancels it, or stops it with a
savepoint (``--stop_with_savepoint DIR``) that ``--savepoint_path`` starts the next watch from.

A build (or a materialize) is named the same way (``name_cluster_job``) and its job cancelled when
it does not finish (``cancel_cluster_job``): with SDK workers outside the driver (EXTERNAL or PROCESS, as on
Kubernetes) the job needs no driver, and after a Ctrl-C it went on to the end and wrote a full set
of shards under the output's staging, which the build had just removed and said it left as it was.
"""

import json
import os
import time
import urllib.request

from apache_beam.options.pipeline_options import FlinkRunnerOptions, GoogleCloudOptions, PipelineOptions

from beam_jobs.runners import is_flink
from transforms.common.errors import WarcforgeError

LIVE_STATES = {"CREATED", "INITIALIZING", "RUNNING", "RESTARTING", "RECONCILING", "FAILING"}
SAVEPOINT_TIMEOUT_S = 300


class FlinkRestError(WarcforgeError):
    """The cluster's REST API did not do what was asked."""


def rest_base(flink_master: str) -> str:
    master = flink_master.strip().rstrip("/")
    return master if master.startswith(("http://", "https://")) else f"http://{master}"


def _call(url: str, method: str = "GET", body: dict | None = None, timeout: float = 30) -> dict:
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        text = response.read()
    return json.loads(text) if text else {}


def live_jobs(base: str, name: str) -> list[str]:
    """Ids of the cluster's jobs with this name that have not ended."""
    jobs = _call(f"{base}/jobs/overview")["jobs"]
    return [j["jid"] for j in jobs if j["name"] == name and j["state"] in LIVE_STATES]


def cancel(base: str, jid: str) -> None:
    _call(f"{base}/jobs/{jid}?mode=cancel", method="PATCH")


def stop_with_savepoint(base: str, jid: str, target: str) -> str:
    """Take a savepoint into ``target`` and stop the job; returns the savepoint's location."""
    trigger = _call(f"{base}/jobs/{jid}/stop", method="POST", body={"targetDirectory": target, "drain": False})
    request_id = trigger["request-id"]
    deadline = time.monotonic() + SAVEPOINT_TIMEOUT_S
    while time.monotonic() < deadline:
        status = _call(f"{base}/jobs/{jid}/savepoints/{request_id}")
        if status.get("status", {}).get("id") == "COMPLETED":
            operation = status.get("operation", {})
            if "location" in operation:
                return operation["location"]
            raise FlinkRestError(f"the savepoint of job {jid} failed: "
                                 f"{str(operation.get('failure-cause', operation))[:300]}")
        time.sleep(0.5)
    raise FlinkRestError(f"the savepoint of job {jid} did not complete within {SAVEPOINT_TIMEOUT_S} s")


def wait_ended(base: str, name: str, timeout_s: float = 60) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not live_jobs(base, name):
            return True
        time.sleep(0.5)
    return False


def name_cluster_job(options: PipelineOptions, command: str) -> str | None:
    """The name of the ``command``'s job on a Flink session cluster, given to it here unless ``--job_name`` did;
    None where the job ends with the driver (other runners, Flink's embedded ``[local]``/``[auto]``)."""
    master = options.view_as(FlinkRunnerOptions).flink_master or "[auto]"
    if not is_flink(options) or master.startswith("["):
        return None
    named = options.view_as(GoogleCloudOptions)
    if not named.job_name:
        named.job_name = f"warcforge-{command}-{int(time.time())}-{os.getpid()}"
    return named.job_name


def cancel_cluster_job(options: PipelineOptions, name: str, timeout_s: float = 60) -> str | None:
    """Cancel the job if it still runs on the cluster; a warning if it could not be seen to end."""
    base = rest_base(options.view_as(FlinkRunnerOptions).flink_master)
    try:
        for jid in live_jobs(base, name):
            cancel(base, jid)
        if wait_ended(base, name, timeout_s):
            return None
        problem = f"it was still running after {timeout_s:.0f} s"
    except Exception as exc:  # noqa: BLE001 - the build is failing already: say what is left, do not mask why
        problem = f"the cluster did not answer ({type(exc).__name__}: {exc})"
    return f"the Flink job {name} on {base} may still be running ({problem}): cancel it there"
