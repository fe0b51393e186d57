"""Stopping a run's job on Dataflow when the run does not finish (build, materialize) or is stopped (watch).

Dataflow runs a submitted job without its driver: after a Ctrl-C (or a failure in the driver) the job
went on to the end and wrote a full set of shards under the output's staging folder, which the build had
just removed while saying the output was as it was, and it kept its workers, and their cost, until then.
So a build or materialize that stops before its job ended cancels the job through Beam's own client,
then waits until Dataflow reports it ended, as ``flink_jobs`` does on a Flink session cluster.

Beam's client retries each call for minutes when the API does not answer; the cancel runs in a thread of
its own and is given ``CANCEL_DEADLINE_S``, within the 60 s after which ``warcforge`` kills the job's
process group, so that the staging is still removed and the lease released. A job that could not be seen
to end is a warning naming it and the folder it may still write to; for a watch, whose streaming job runs
until it is cancelled, an error (``JobLeftRunningError``).
"""

import shlex
import threading
from typing import TextIO

from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions
from apache_beam.runners.runner import PipelineResult, PipelineState

from beam_jobs.flink_jobs import CANCEL_DEADLINE_S
from transforms.common.errors import WarcforgeError
from transforms.common.secrets import redact_text

POLL_S = 1.0


class JobLeftRunningError(WarcforgeError):
    """A run was stopped, but its job could not be seen to end: it may still run, and cost, on Dataflow."""


def live_job_id(result: PipelineResult) -> str | None:
    """The Dataflow job's id, once the runner has created the job and while it was last seen running (a job
    that failed, the driver's wait raising for it, has nothing left to cancel)."""
    try:
        return None if not result.has_job or result.is_in_terminal_state() else result.job_id()
    except AttributeError:  # not a Dataflow result
        return None


def cancel_dataflow_job(result: PipelineResult, deadline_s: float = CANCEL_DEADLINE_S) -> str | None:
    """Cancel the job and wait until Dataflow reports a final state, for up to ``deadline_s``. Returns None
    once it ended, else what kept it from being seen to end. A stop (Ctrl-C, SIGTERM) that comes meanwhile, as
    after a failure in the driver, ends the wait: the job is then not known to have ended."""
    outcome: dict[str, object] = {}
    given_up = threading.Event()

    def cancel_and_wait() -> None:
        try:
            state = result.cancel()
            outcome["asked"] = True
            while not PipelineState.is_terminal(state):
                if given_up.wait(POLL_S):
                    return
                state = result.state
            outcome["state"] = state
        except Exception as exc:  # noqa: BLE001 - said in the warning: the run is failing already
            outcome["error"] = f"{type(exc).__name__}: {redact_text(' '.join(str(exc).split()))[:300]}"

    worker = threading.Thread(target=cancel_and_wait, name="cancel-dataflow-job", daemon=True)
    worker.start()
    try:
        worker.join(deadline_s)
    except BaseException:  # noqa: BLE001 - the stop is the run's to report (run_command); here it ends the wait
        return "the run was stopped while it waited for the cancel"
    finally:
        given_up.set()
    if "state" in outcome:
        return None
    if "error" in outcome:
        return f"Dataflow did not take the cancel ({outcome['error']})"
    if "asked" not in outcome:
        return f"Dataflow did not answer the cancel in {deadline_s:.0f} s"
    return f"it had not ended {deadline_s:.0f} s after the cancel"


def stop_dataflow_job(result: PipelineResult, options: PipelineOptions, staging: str, err: TextIO,
                      deadline_s: float = CANCEL_DEADLINE_S) -> str | None:
    """What a run that did not finish does before it removes its staging: says it cancels its Dataflow job,
    cancels it, and warns if the job could not be seen to end. Returns the staging folder the job may still
    write to, or None."""
    jid = live_job_id(result)
    if jid is None:
        return None
    print(f"warcforge: cancelling the Dataflow job {jid}", file=err, flush=True)
    problem = cancel_dataflow_job(result, deadline_s)
    if problem is None:
        return None
    print(f"warcforge: warning: {still_running(jid, options, problem)}, then delete {staging}, where it may still "
          "write", file=err, flush=True)
    return staging


def still_running(jid: str, options: PipelineOptions, problem: str) -> str:
    """That the job may still run, why, and the command that cancels it."""
    gcp = options.view_as(GoogleCloudOptions)
    command = " ".join(shlex.quote(part) for part in ("gcloud", "dataflow", "jobs", "cancel", jid,
                                                       f"--region={gcp.region}", f"--project={gcp.project}"))
    return f"the Dataflow job {jid} may still be running ({problem}): cancel it there ({command})"
