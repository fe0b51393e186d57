"""Signals during the build's last step do not undo it, and are not reported as if they had.

(The handler's killing of child processes is switched off here: this is pytest's own process.)"""

import os
import signal

import pytest

from beam_jobs.interrupts import Interrupts, Terminated


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
