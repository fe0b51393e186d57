"""Starting a local server process and waiting for its port: shared by the tests and the benchmarks."""

import itertools
import os
import socket
import subprocess
import time

# A port found free is only free until the server binds it. Ports from the kernel (bind to port 0) are taken from
# its ephemeral range, where every outgoing connection on the machine takes its own, and two pytest-xdist workers
# can be handed the same one between finding it and binding it. Here ports lie below that range (it starts at
# 32768 on Linux) in a block of their own per xdist worker (gw0, gw1, ...), taken in turn.
FIRST_PORT = 20000
BLOCK_PORTS = 500
BLOCKS = 24  # 20000 + 24 × 500 stays under 32768
_taken = itertools.count()


def _block_start() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    return FIRST_PORT + (index % BLOCKS) * BLOCK_PORTS


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, from this process's block (see above)."""
    start = _block_start()
    for _ in range(BLOCK_PORTS):
        port = start + next(_taken) % BLOCK_PORTS
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:  # in use, or still in TIME_WAIT after an earlier server
                continue
            return port
    raise RuntimeError(f"no free port in 127.0.0.1:{start}-{start + BLOCK_PORTS - 1}")


def serve(command: list[str], port: int, what: str, timeout_s: float = 60, **popen: object) -> subprocess.Popen:
    """Start a server process and wait until its port accepts connections."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"{what} did not start within {timeout_s:g} s") from None
            time.sleep(0.2)
            continue
        if process.poll() is not None:  # something else answers on the port: this server could not bind it
            raise RuntimeError(f"{what} exited (status {process.returncode}); another process listens on {port}")
        return process
