"""The lease's rules on their own: who holds it, when it is stale, and that a lost lease is noticed."""

import dataclasses
import os
import time

import fsspec
import pytest

from transforms.common import atomic_files
from transforms.common.errors import LeaseLostError, OutputBusyError
from transforms.writing.lease import Holder, Lease, LeaseKeeper
from transforms.writing.output_dir import OutputDir


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


def test_a_build_racing_for_the_lease_is_refused_even_when_the_winner_sweeps_its_claim_away(local, monkeypatch):
    """B writes its claim aside; A takes the lease in that moment and, cleaning the output of killed
    builds' temporary files, removes B's. B is refused as busy, not failed by a missing file."""
    fs, directory = local
    write_temporary = atomic_files._write_temporary
    winner = []

    def a_takes_the_lease_meanwhile(beside: str, data: bytes) -> str:
        temporary = write_temporary(beside, data)
        if not winner:
            winner.append(None)  # A's own claim goes through here too
            winner[0] = OutputDir(directory).open(overwrite=True, holder=Holder.of_this_process("first"))
        return temporary

    monkeypatch.setattr(atomic_files, "_write_temporary", a_takes_the_lease_meanwhile)
    with pytest.raises(OutputBusyError, match="is being written by first"):
        Lease.acquire(fs, directory, Holder.of_this_process("second"), "out")
    assert not [p for p in os.listdir(directory) if p.startswith(atomic_files.TEMPORARY_PREFIX)]
    winner[0].close()
    assert os.listdir(directory) == []
