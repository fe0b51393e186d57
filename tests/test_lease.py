"""The lease's rules on their own: who holds it, when it is stale, and that a lost lease is noticed."""

import dataclasses
import time

import fsspec
import pytest

from transforms.common.errors import LeaseLostError, OutputBusyError
from transforms.writing.lease import Holder, Lease, LeaseKeeper


def elsewhere(ttl_s: float) -> Holder:
    """A holder on another machine: only its TTL can say it is gone."""
    return dataclasses.replace(Holder.of_this_process("test", ttl_s), host="another-host")


@pytest.fixture
def local(tmp_path):
    return fsspec.filesystem("file"), str(tmp_path)


def test_a_holder_in_another_pid_namespace_is_judged_by_its_ttl_not_by_a_pid(local):
    fs, directory = local
    # Same machine and boot, another container: its pid means nothing here.
    other = dataclasses.replace(Holder.of_this_process("test"), pid=999_999, pid_namespace="pid:[1]")
    assert not other.sees_same_processes()
    assert not other.is_stale(time.time())
    Lease.acquire(fs, directory, other, "out")
    with pytest.raises(OutputBusyError):
        Lease.acquire(fs, directory, Holder.of_this_process("second"), "out")


def test_a_lease_taken_over_is_lost_even_when_its_number_comes_back(local):
    fs, directory = local
    first = Lease.acquire(fs, directory, elsewhere(0.2), "out")
    time.sleep(0.3)
    second = Lease.acquire(fs, directory, elsewhere(600), "out")
    second.release()
    third = Lease.acquire(fs, directory, elsewhere(600), "out")
    assert third.number == first.number  # the number is reused: the run id tells them apart
    with pytest.raises(LeaseLostError):
        first.check()
    with pytest.raises(LeaseLostError):
        first.renew()
    third.check()


def test_a_keeper_that_cannot_renew_reports_the_lease_lost_in_time(local, monkeypatch):
    fs, directory = local
    lease = Lease.acquire(fs, directory, Holder.of_this_process("test", ttl_s=1.0), "out")

    def failing_renew() -> None:
        raise ValueError("HttpError 503 from a store whose errors are not OSErrors")

    monkeypatch.setattr(lease, "renew", failing_renew)
    with LeaseKeeper(lease, interval_s=0.1) as keeper:
        keeper.check()
        time.sleep(0.7)
        assert keeper._thread.is_alive()  # the error did not kill the renewals
        with pytest.raises(LeaseLostError, match="could not renew"):
            keeper.check()
