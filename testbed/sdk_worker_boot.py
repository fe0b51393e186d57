"""A Python SDK worker for Beam's PROCESS environment: each TaskManager of the loopback cluster starts its own.

Beam's worker pool (``--environment_type=EXTERNAL``, deploy/flink's sidecar) keys the workers it starts by
the id the runner gives them, and each TaskManager numbers its workers from 1: two TaskManagers on one pool
stop each other's workers (a job then fails with "CANCELLED: client cancelled"). On Kubernetes every
TaskManager pod has its own pool; on loopback several TaskManagers use this instead
(``--environment_type=PROCESS --environment_config='{"command": SCRIPT}'``, SCRIPT from ``boot_script``).
The runner passes a worker its id and its provisioning endpoint, which names the control endpoint (as
Beam's container boot asks it); the worker is the one the pool starts, Beam's SdkHarness on that endpoint.
"""

import argparse
import shlex
import stat
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def boot_script(folder: Path, environment: dict[str, str] | None = None, cgroup: Path | None = None) -> Path:
    """An executable in ``folder`` that runs this module with this Python and ``environment`` set (Beam's
    PROCESS environment runs a command without arguments of its own), in ``cgroup`` where one is given (a
    benchmark's CPU account: the worker is otherwise counted with the TaskManager that starts it)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "sdk-worker-boot.sh"
    exports = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in (environment or {}).items())
    join = f"echo $$ > {shlex.quote(str(cgroup / 'cgroup.procs'))} || exit 1\n" if cgroup is not None else ""
    script.write_text(f"#!/bin/sh\n{exports}{join}cd {shlex.quote(str(REPO))}\n"
                      f"exec {shlex.quote(sys.executable)} -m testbed.sdk_worker_boot \"$@\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--id", required=True)
    parser.add_argument("--provision_endpoint", required=True)
    args, _ = parser.parse_known_args(argv)  # --semi_persist_dir: nothing is staged for this worker
    import grpc
    from apache_beam.portability.api import beam_provision_api_pb2, beam_provision_api_pb2_grpc
    from apache_beam.runners.worker.sdk_worker import SdkHarness

    with grpc.insecure_channel(args.provision_endpoint) as channel:
        info = beam_provision_api_pb2_grpc.ProvisionServiceStub(channel).GetProvisionInfo(
            beam_provision_api_pb2.GetProvisionInfoRequest(), metadata=[("worker_id", args.id)], timeout=60).info
    SdkHarness(info.control_endpoint.url, worker_id=args.id).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
