"""The test servers' ports: below the ephemeral range, a block per xdist worker, never one in use."""

import itertools
import socket

from testbed import local_services
from testbed.local_services import BLOCK_PORTS, FIRST_PORT, free_port


def test_each_xdist_worker_has_a_block_of_its_own_below_the_ephemeral_range(monkeypatch):
    blocks = []
    for worker in ("gw0", "gw1", "gw23"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        port = free_port()
        blocks.append((port - FIRST_PORT) // BLOCK_PORTS)
        assert FIRST_PORT <= port < 32768
    assert blocks == [0, 1, 23]
    monkeypatch.delenv("PYTEST_XDIST_WORKER")  # a benchmark, not under xdist: the first block
    assert FIRST_PORT <= free_port() < FIRST_PORT + BLOCK_PORTS


def test_a_port_something_listens_on_is_passed_over(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw7")
    start = FIRST_PORT + 7 * BLOCK_PORTS
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", start))
        busy.listen()
        monkeypatch.setattr(local_services, "_taken", itertools.count())
        assert free_port() == start + 1
        assert free_port() == start + 2
