"""Stopping a job on a Flink session cluster, through Flink's REST API.

Beam's Flink job server ends its own side of a job on cancel but leaves the job running on a
session cluster (it then restarts without its driver). So the watch names its job
(``--job_name``) and, when told to stop, finds it by that name and cancels it, or stops it with a
savepoint (``--stop_with_savepoint DIR``) that ``--savepoint_path`` starts the next watch from.

The REST address is ``--flink_rest_url`` where the driver submits through a job server
(``--job_endpoint``, deploy/flink), else ``--flink_master`` (``runners.flink_rest_address``).

A build (or a materialize) is named the same way (``name_cluster_job``) and its job cancelled when
it does not finish (``cancel_cluster_job``): with SDK workers outside the driver (EXTERNAL or PROCESS, as on
Kubernetes) the job needs no driver, and after a Ctrl-C it went on to the end and wrote a full set
of shards under the output's staging, which the build had just removed and said it left as it was.
"""

import base64
import json
import os
import time
import urllib.parse
import urllib.request
import uuid
from typing import TextIO

from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions

from beam_jobs.runners import flink_rest_address
from transforms.common.errors import WarcforgeError
from transforms.common.secrets import redact_text

# Every state but FINISHED, FAILED and CANCELED: a CANCELLING job's tasks (and its SDK workers) may still write.
LIVE_STATES = {"CREATED", "INITIALIZING", "RUNNING", "RESTARTING", "RECONCILING", "FAILING", "CANCELLING",
               "SUSPENDED"}
# Cancelling a run's job: done well within the 60 s after which `warcforge` kills the job's process group
# (cli.GRACE_S), so that the staging is still removed and the lease released after it.
CANCEL_DEADLINE_S = 30.0
CANCEL_CALL_TIMEOUT_S = 5.0
SUBMIT_SETTLE_S = 5.0  # a job submitted just before the stop may be listed a little later
_generated: set[str] = set()
SAVEPOINT_TIMEOUT_S = 300


class FlinkRestError(WarcforgeError):
    """The cluster's REST API did not do what was asked."""


def rest_base(flink_master: str) -> str:
    """The REST API's base URL from --flink_rest_url or --flink_master (``HOST:PORT`` or a URL). One that urllib
    would read otherwise than written is refused, without echoing it: a user or password with an unencoded
    ``/``, ``?``, ``#``, ``@`` or space would end up in the host name, and from there in error messages."""
    master = flink_master.strip().rstrip("/")
    base = master if master.startswith(("http://", "https://")) else f"http://{master}"
    parts = urllib.parse.urlsplit(base)
    try:
        port_ok = parts.port is not None or ":" not in parts.netloc.rpartition("@")[2].rpartition("]")[2]
    except ValueError:
        port_ok = False
    if not parts.hostname or not port_ok or "@" in base.partition("://")[2].partition("/")[2] or " " in base \
            or parts.query or parts.fragment:
        raise FlinkRestError("--flink_rest_url (or --flink_master) is not the URL of Flink's REST API "
                             "(http://HOST:8081); percent-encode any '/', '?', '#', '@' or space in a user or "
                             "password")
    return base


def _without_password(message: str, base: str) -> str:
    password = urllib.parse.urlsplit(base).password
    if password:
        message = message.replace(password, "<redacted>").replace(urllib.parse.unquote(password), "<redacted>")
    return " ".join(redact_text(message).split())


def _call(url: str, method: str = "GET", body: dict | None = None, timeout: float = 30) -> dict:
    """One REST call. A user and password in the URL (http://USER:PASSWORD@HOST:8081, a REST API behind a proxy
    with basic auth) go in an Authorization header: urllib would take them for part of the host name."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    parts = urllib.parse.urlsplit(url)
    if parts.username is not None:
        credentials = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")
        url = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        text = response.read()
    return json.loads(text) if text else {}


def jobs_named(base: str, name: str, timeout: float = 30) -> list[tuple[str, str]]:
    """(id, state) of each of the cluster's jobs with this name, ended or not."""
    jobs = _call(f"{base}/jobs/overview", timeout=timeout)["jobs"]
    return [(j["jid"], j["state"]) for j in jobs if j["name"] == name]


def live_jobs(base: str, name: str, timeout: float = 30) -> list[str]:
    """Ids of the cluster's jobs with this name that have not ended."""
    return [jid for jid, state in jobs_named(base, name, timeout) if state in LIVE_STATES]


def cancel(base: str, jid: str, timeout: float = 30) -> None:
    _call(f"{base}/jobs/{jid}?mode=cancel", method="PATCH", timeout=timeout)


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
    """The name of this run's job on a Flink session cluster; None where the job ends with the driver (other
    runners, Flink's embedded ``[local]``/``[auto]``). A ``--job_name`` given is kept; otherwise each run (each
    crawl of a refresh, which shares its options) gets a name of its own, unique on the cluster: the cancel
    finds the job by it."""
    address = flink_rest_address(options)
    if address is None:
        return None
    rest_base(address)  # a malformed address is refused now, before any work, not when a cancel needs it
    named = options.view_as(GoogleCloudOptions)
    if not named.job_name or named.job_name in _generated:
        named.job_name = f"warcforge-{command}-{int(time.time())}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        _generated.add(named.job_name)
    return named.job_name


def earlier_cluster_jobs(options: PipelineOptions, name: str, err: TextIO) -> frozenset[str]:
    """Ids of the jobs of this name the cluster lists before the run submits its own (a ``--job_name`` given may
    name an earlier run's job): not this run's, for the cancel. A REST API that does not answer is said now,
    while the run can still be stopped before it starts a job it could not cancel."""
    base = rest_base(flink_rest_address(options) or "")
    try:
        return frozenset(jid for jid, _ in jobs_named(base, name, CANCEL_CALL_TIMEOUT_S))
    except Exception as exc:  # noqa: BLE001 - the run goes on: the job may still end as it should
        print(f"warcforge: warning: Flink's REST API at {redact_text(base)} does not answer "
              f"({type(exc).__name__}: {_without_password(str(exc), base)}): if this run is stopped, its job "
              f"{name} cannot be cancelled from here", file=err, flush=True)
        return frozenset()


def cancel_cluster_job(options: PipelineOptions, name: str, staging: str, submitted: bool,
                       earlier: frozenset[str] = frozenset()) -> str | None:
    """Cancel the run's job while it has not ended, until it has (or CANCEL_DEADLINE_S); a warning if it could
    not be seen to end, naming the job and the folder it may still write to. Jobs in ``earlier`` are not the
    run's. A job the runner took (``submitted``) is looked for until the deadline: it may be listed late, and if
    it never is, the REST address may not be the cluster's the job server submits to."""
    base = rest_base(flink_rest_address(options) or "")
    started = time.monotonic()
    deadline = started + CANCEL_DEADLINE_S
    seen = False
    try:
        while time.monotonic() < deadline:
            named = [(jid, state) for jid, state in jobs_named(base, name, CANCEL_CALL_TIMEOUT_S)
                     if jid not in earlier]
            seen = seen or bool(named)
            live = [jid for jid, state in named if state in LIVE_STATES]
            for jid in live:
                cancel(base, jid, CANCEL_CALL_TIMEOUT_S)
            if not live and time.monotonic() - started >= SUBMIT_SETTLE_S and (seen or not submitted):
                return None
            time.sleep(0.5)
        problem = (f"it had not ended after {CANCEL_DEADLINE_S:.0f} s" if seen else
                   f"it was submitted, but the cluster there listed no job of that name in {CANCEL_DEADLINE_S:.0f} "
                   "s: is that the REST address of the cluster the job server submits to?")
    except Exception as exc:  # noqa: BLE001 - the run is failing already: say what is left, do not mask why
        problem = f"the cluster did not answer ({type(exc).__name__}: {_without_password(str(exc), base)})"
    except BaseException:  # noqa: BLE001 - a stop while cancelling (after a failure): the run reports the stop
        problem = "the run was stopped while it cancelled the job"
    return (f"the Flink job {name} on {redact_text(base)} may still be running ({problem}): cancel it there, then "
            f"delete {staging}, where it may still write")


def stop_cluster_job(options: PipelineOptions, name: str, staging: str, err: TextIO, submitted: bool,
                     earlier: frozenset[str] = frozenset()) -> str | None:
    """What a run that did not finish does before it removes its staging: says it cancels its job, cancels it,
    and warns if the job could not be seen to end (``cancel_cluster_job``). Returns what may be left: the
    staging folder the job may still write to, or None."""
    print(f"warcforge: cancelling the Flink job {name}", file=err, flush=True)
    if (left := cancel_cluster_job(options, name, staging, submitted, earlier)) is None:
        return None
    print(f"warcforge: warning: {left}", file=err, flush=True)
    return staging
