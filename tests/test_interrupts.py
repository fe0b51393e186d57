"""Signals during the build's last step do not undo it, and are not reported as if they had.

(The handler's killing of child processes is switched off here: this is pytest's own process.)"""

import os
import signal
import sys
import weakref

import pytest

from beam_jobs import interrupts as interrupts_module
from beam_jobs.interrupts import Interrupts, Terminated, stop_if_interrupted
from transforms.common.stage import StageClock, StageCounters


def test_a_signal_during_the_publish_waits_for_it_and_is_remembered():
    with Interrupts(verbose=True, stop_children=lambda: None) as interrupts:
        with interrupts.held():
            os.kill(os.getpid(), signal.SIGINT)
            finished = True  # reached: the publish was not cut short
        assert finished and interrupts.received == signal.SIGINT


def test_after_the_publish_a_signal_no_longer_raises():
    with Interrupts(verbose=True, stop_children=lambda: None) as interrupts:
        interrupts.published = True
        os.kill(os.getpid(), signal.SIGTERM)
        assert interrupts.received == signal.SIGTERM


def test_before_the_publish_sigterm_raises_in_the_main_thread_and_a_second_signal_is_ignored():
    with Interrupts(verbose=True, stop_children=lambda: None) as interrupts:
        with pytest.raises(Terminated):
            os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)  # the cleanup the first one started is not broken
        assert interrupts.received == signal.SIGTERM


def _signal_inside_a_weakref_callback(signum: int) -> list:
    """Send ``signum`` to this process from a weakref callback, where Python runs the handler and drops what it
    raises (as unraisable); returns the dropped exceptions' types."""
    dropped = []

    def callback(_: object) -> None:
        os.kill(os.getpid(), signum)
        sum(range(1000))  # Python code after the kill: the handler runs here, inside the callback

    class Thing:
        pass

    thing = Thing()
    ref = weakref.ref(thing, callback)  # noqa: F841 - kept alive so that its callback runs
    previous, sys.unraisablehook = sys.unraisablehook, lambda unraisable: dropped.append(unraisable.exc_type)
    try:
        del thing
    finally:
        sys.unraisablehook = previous
    return dropped


def test_a_signal_whose_raise_a_callback_dropped_stops_the_stage_and_the_publish():
    with Interrupts(verbose=True, stop_children=lambda: None) as interrupts:
        assert _signal_inside_a_weakref_callback(signal.SIGINT) == [KeyboardInterrupt]
        assert interrupts.received == signal.SIGINT  # the raise was lost: the build would go on
        with pytest.raises(KeyboardInterrupt):
            stop_if_interrupted()  # before the next bundle
        clock = StageClock(StageCounters("test"), "test")
        with pytest.raises(KeyboardInterrupt):
            with clock:  # after the next timed step of a stage
                pass
        with pytest.raises(ZeroDivisionError):  # an exception already unwinding is left alone
            with clock:
                1 / 0  # noqa: B018
        published = False
        with pytest.raises(KeyboardInterrupt):
            with interrupts.held():
                published = True
        assert not published  # nothing is published, and the build exits as interrupted
        interrupts.published = True
        stop_if_interrupted()  # once published, the build only tidies up
    stop_if_interrupted()  # and outside a job's block nothing is checked
    with clock:
        pass


def test_sigterm_whose_raise_was_dropped_is_raised_again_as_terminated():
    with Interrupts(verbose=True, stop_children=lambda: None) as interrupts:
        assert _signal_inside_a_weakref_callback(signal.SIGTERM) == [Terminated]
        with pytest.raises(Terminated):
            stop_if_interrupted()
        with pytest.raises(Terminated):
            with interrupts.held():
                pass


def test_a_signal_dropped_while_the_job_started_is_raised_by_its_first_check(monkeypatch):
    monkeypatch.setattr(interrupts_module, "_job_signal", None)
    with pytest.raises(KeyboardInterrupt):
        interrupts_module.on_job_signal(signal.SIGINT, None)  # as beam_jobs.job's handler raises it
    # Suppose a finalizer dropped that raise: the job went on and entered its own handling.
    with Interrupts(verbose=True, stop_children=lambda: None) as interrupts:
        assert interrupts.received == signal.SIGINT
        with pytest.raises(KeyboardInterrupt):
            stop_if_interrupted()
    # The job's handling has ended and its status is decided: a signal now is ignored, not misreported.
    interrupts_module.on_job_signal(signal.SIGINT, None)
    interrupts_module.on_job_signal(signal.SIGTERM, None)


def test_an_interrupts_block_is_not_re_entrant():
    interrupts = Interrupts(verbose=True, stop_children=lambda: None)
    with interrupts:
        with pytest.raises(RuntimeError, match="not re-entrant"):
            with interrupts:
                pass
    stop_if_interrupted()  # and leaving it left nothing active


@pytest.mark.parametrize("stopped_by", ["signal", "failure"])
def test_the_last_line_names_what_a_flink_job_not_seen_to_end_may_still_write(stopped_by, monkeypatch, capsys):
    from beam_jobs.build_args import EXIT_FAILED, EXIT_INTERRUPTED
    from beam_jobs.command import RunFailedError, run_command

    monkeypatch.setattr(interrupts_module, "_job_signal", None)  # run_command decides this process's job status
    staging = "out/.warcforge-staging-1234"

    def run(argv: list[str], interrupts: Interrupts) -> dict:
        interrupts.left_behind = staging  # as build_and_publish sets it when stop_cluster_job warned
        if stopped_by == "signal":
            interrupts.received = signal.SIGINT  # as the handler records it before it raises
            raise KeyboardInterrupt
        raise RunFailedError("pipeline ended in state FAILED; nothing was published")

    status = run_command(run, [])
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert status == (EXIT_INTERRUPTED if stopped_by == "signal" else EXIT_FAILED)
    assert last.endswith(f"; but the job named above may still write to {staging}"), last


def test_current_stderr_writes_where_stderr_is_at_each_write():
    # A signal replaces interrupts.stderr by a copy of the original (fd 2 then goes to /dev/null): a stream taken
    # before it, as a cancel's warning is given, must still reach the terminal after it.
    import io

    interrupts = Interrupts(verbose=True)
    before, after = io.StringIO(), io.StringIO()
    interrupts.stderr = before
    stream = interrupts.current_stderr()
    print("cancelling", file=stream, flush=True)
    interrupts.stderr = after  # as the handler does
    print("warning", file=stream, flush=True)
    assert before.getvalue() == "cancelling\n" and after.getvalue() == "warning\n"
