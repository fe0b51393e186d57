"""Local worker processes forked from the build, for ``--direct_running_mode multi_processing``.

Beam starts each of those workers as a new Python (``python -m apache_beam.runners.worker.sdk_worker_main``)
once the pipeline runs: every one imports Beam and the stages again, 1.5 CPU s each, while the build
process, which has all of that loaded, waits. Here the build forks its workers instead, just before the
runner starts, and each child waits for the address of the runner's control service; when the runner
asks for a worker it gets one of those children, which runs Beam's own SDK harness from the environment
and options a new process would be given. On two cores that is 1.5 s of a 12 s build.

The fork must come before anything in the process has used gRPC: a child keeps the objects of gRPC's
threads and of Beam's shared thread pool but not the threads, and its harness would hand its bundles
to threads that are not there. So only a job's entry point allows it (``allow_forks_in_this_process``,
from the ``__main__`` of build, refresh and materialize), and only for the process's first run; later
runs (``warcforge refresh`` builds crawl after crawl) and library callers get Beam's own workers.

A child sheds what belongs to the build process: its signal handlers (SIGINT and SIGTERM are blocked
around the forks, so none of the build's runs in a child), its log handlers, its exit handlers (it
ends with ``os._exit``: the scratch folder and the lease are the build's), and its standard streams,
whose locks another thread may have held at the fork. It keeps the rest of the build's state, as a
fork does: modules as the build left them, ``sys.argv``, the hash seed. A child whose build ends
before handing it an address reads the end of its pipe and exits.
"""

import contextlib
import ctypes
import json
import logging
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import grpc
from apache_beam.portability import python_urns
from apache_beam.portability.api import beam_fn_api_pb2_grpc, endpoints_pb2
from apache_beam.runners.portability import local_job_service
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.runners.portability.fn_api_runner.worker_handlers import (
    BeamFnControlServicer,
    ControlConnection,
    GrpcWorkerHandler,
    WorkerHandler,
)
from apache_beam.runners.worker import sdk_worker_main
from apache_beam.utils import thread_pool_executor
from google.protobuf import json_format, text_format

from beam_jobs.local_bundles import BoundedBundleManager, SpillingBundleContext
from beam_jobs.local_shuffle import ShuffleSettings
from beam_jobs.worker_death import DeadWorkerConnection, LocalWorkerDiedError, close_dead_channel, quiet_after_death
from beam_jobs.worker_logs import WorkerLogServicer
from transforms.common.packed import in_process_packing

FORKED_URN = "warcforge:env:forked_python_sdk:v1"
PR_SET_NAME = 15  # prctl(2)
# What Beam's FnApiRunner runs for each worker in multi-processing mode; only that is replaced by a fork.
BEAM_WORKER_COMMAND = f"{sys.executable} -m apache_beam.runners.worker.sdk_worker_main"

log = logging.getLogger(__name__)
# Set by a job's entry point (a fresh process, no gRPC yet) and taken by its first run: once a runner has
# run here, gRPC's threads and Beam's shared thread pool exist, and a fork keeps their objects but not
# their threads (a child's harness would hand its bundles to threads that are not there).
_forks_allowed = False
_forks_by_run: dict[str, "WorkerForks"] = {}  # the forks of each running pipeline, found by the handler
_forks_lock = threading.Lock()


def allow_forks_in_this_process() -> None:
    """From a job's ``__main__``, before anything runs: this process's first multi-processing run forks its
    workers; a later one (``warcforge refresh`` builds crawl after crawl) starts them as Beam does."""
    global _forks_allowed
    _forks_allowed = True


def _take_permission() -> bool:
    global _forks_allowed
    with _forks_lock:
        allowed, _forks_allowed = _forks_allowed, False
    return allowed


class WorkerFork:
    """A forked child waiting for its worker's environment, which the build writes to its pipe."""

    def __init__(self, pid: int, start_fd: int) -> None:
        self.pid, self.start_fd = pid, start_fd
        self.returncode: int | None = None
        self._reaping = threading.Lock()  # the worker's thread and the run's clean-up may both wait for it

    def start(self, environ: dict[str, str]) -> None:
        with os.fdopen(self.start_fd, "wb") as pipe:
            pipe.write(pickle.dumps(environ))

    def cancel(self) -> None:
        """Not needed: the end of its pipe tells the child to exit."""
        with contextlib.suppress(OSError):
            os.close(self.start_fd)

    def wait(self) -> int:
        """Its exit status once it has ended (reaping it). It polls: a blocking ``waitpid`` would hold the lock
        while the child runs, and a thread asking whether a worker died meanwhile (``poll``, from a log filter on
        one of gRPC's threads when the other worker died) would wait with it: the run's clean-up, which joins
        that thread before it lets this child go, hung (1 run in 4 of tests/test_forked_workers.py)."""
        pause = 0.001
        while True:
            with self._reaping:
                if self.returncode is not None:
                    return self.returncode
                try:
                    pid, status = os.waitpid(self.pid, os.WNOHANG)
                except ChildProcessError:  # reaped elsewhere: its status is not ours to know
                    self.returncode = -signal.SIGKILL
                    return self.returncode
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
                    return self.returncode
            time.sleep(pause)
            pause = min(2 * pause, 0.05)

    def poll(self) -> int | None:
        """Its exit status if it has ended (reaping it), else None; never waits."""
        with self._reaping:
            if self.returncode is None:
                with contextlib.suppress(ChildProcessError):
                    pid, status = os.waitpid(self.pid, os.WNOHANG)
                    if pid:
                        self.returncode = os.waitstatus_to_exitcode(status)
            return self.returncode

    def death(self) -> str | None:
        """What ended it, if it ended with a failure before the build let it go."""
        returncode = self.poll()
        if not returncode:
            return None
        return f"local worker process {self.pid} ended with {_exit_description(returncode)}"

    def kill(self) -> None:
        """SIGKILL, unless already reaped (its pid may be another process's by then)."""
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


# How long a broken connection to a worker is taken to maybe be its death not yet readable: what Beam logs of
# it (in a healthy run, nothing) waits that long at most, and so does a failed run's error.
DEATH_SHOWS_WITHIN_S = 1.0


class WorkerForks:
    """The children forked for one run, handed out one to each worker the runner starts."""

    def __init__(self, count: int) -> None:
        self.key = f"{os.getpid()}-{id(self)}"
        self._idle: list[WorkerFork] = []
        self._taken: list[WorkerFork] = []
        self._lock = threading.Lock()
        pipes: list[tuple[int, int]] = []
        forked = 0
        for stream in (sys.stdout, sys.stderr):  # else what they buffer now would be written by each child too
            with contextlib.suppress(Exception):
                stream.flush()
        # No signal handler of the build may run in a child before it has its own: blocked around the forks.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            for _ in range(count):
                pipes.append(os.pipe())
            for number, (read_fd, write_fd) in enumerate(pipes):
                try:
                    pid = os.fork()
                except OSError as exc:  # out of processes or memory: the rest start as Beam starts workers
                    log.warning("forked %d of %d local workers (%s); the others start as new processes",
                                number, count, exc)
                    break
                if pid == 0:
                    _child(read_fd, pipes, blocked)
                os.close(read_fd)
                self._idle.append(WorkerFork(pid, write_fd))
                forked += 1
        except BaseException:
            self.close()
            raise
        finally:
            for read_fd, write_fd in pipes[forked:]:  # those of children not forked
                for fd in (read_fd, write_fd):
                    with contextlib.suppress(OSError):
                        os.close(fd)
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def take(self) -> "WorkerFork | None":
        with self._lock:
            if not self._idle:
                return None
            fork = self._idle.pop(0)
            self._taken.append(fork)
            return fork

    def first_death(self, within_s: float = 0.0) -> str | None:
        """What ended the first started child that died during the run, if one did, looking again for up to
        ``within_s``: a killed child's sockets close (and the run's connections to it break) a moment before
        its exit status can be read."""
        deadline = time.monotonic() + within_s
        while True:
            with self._lock:
                taken = list(self._taken)
            death = next((death for death in map(WorkerFork.death, taken) if death), None)
            if death is not None or time.monotonic() >= deadline:
                return death
            time.sleep(0.01)

    def close(self) -> None:
        """Let the unused children go and reap them; kill a started one still running (its runner is done)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for fork in idle:
            fork.cancel()
            fork.wait()
        for fork in self._taken:
            if fork.returncode is None:
                fork.kill()
                fork.wait()


@contextlib.contextmanager
def forks_for_run(count: int) -> Iterator[WorkerForks]:
    forks = WorkerForks(count)
    with _forks_lock:
        _forks_by_run[forks.key] = forks
    try:
        yield forks
    finally:
        with _forks_lock:
            _forks_by_run.pop(forks.key, None)
        forks.close()


def _take_fork(run: str) -> WorkerFork | None:
    with _forks_lock:
        forks = _forks_by_run.get(run)
    return None if forks is None else forks.take()


def _child(read_fd: int, pipes: list[tuple[int, int]], blocked: set) -> NoReturn:
    """A child from its first instruction: it never returns into the build's code, whatever happens."""
    try:
        for fd in (fd for pair in pipes for fd in pair if fd != read_fd):  # it keeps the end it reads, and only that
            with contextlib.suppress(OSError):  # the read ends of earlier children are closed already
                os.close(fd)
        _serve(read_fd, blocked)
    finally:
        os._exit(1)


def _serve(read_fd: int, blocked: set) -> NoReturn:
    """The child: wait for the worker's environment, run Beam's SDK harness with it, and exit."""
    status = 1
    try:
        _shed_the_build()
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        with os.fdopen(read_fd, "rb") as pipe:
            sent = pipe.read()
        if sent:
            os.environ.clear()
            os.environ.update(pickle.loads(sent))
            sdk_worker_main.main([])
        status = 0
    except BaseException:  # noqa: BLE001 - the child reports and exits; it never returns into the build's code
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(status)


def _shed_the_build() -> None:
    """What a child must not keep of the build process."""
    _name_this_process(b"warcforge-work")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - the process's own streams, never closed
    sys.stderr = open(2, "w", closefd=False, errors="backslashreplace")  # noqa: SIM115
    # The build's log handlers (its progress lines on stderr) go: a worker's records reach the build through
    # the runner's logging service, which sdk_worker_main sets up, as from a worker started afresh.
    loggers = [logging.getLogger(), *(logger for logger in logging.Logger.manager.loggerDict.values()
                                      if isinstance(logger, logging.Logger))]
    for logger in loggers:
        if logger.handlers:
            logger.handlers = []
            logger.propagate = True
            logger.setLevel(logging.NOTSET)
    logging.getLogger().setLevel(logging.WARNING)


def _name_this_process(name: bytes) -> None:
    """The name ``top`` and ``ps -o comm`` show (the command line stays the build's, as a fork's does)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_NAME, ctypes.c_char_p(name[:15]), 0, 0, 0)


class ForkedSdkWorker:
    """Beam's ``SubprocessSdkWorker`` with a forked child in place of a new process: the same logging
    service and environment. A worker that dies (killed, out of memory, a crash in native code) fails
    the instructions it was running, through ``on_death``: Beam's own waits for their answers forever."""

    def __init__(self, fork: WorkerFork, control_address: str, provision_info: fn_runner.ExtendedProvisionInfo,
                 worker_id: str | None, on_death: Callable[[Exception], None]) -> None:
        self.fork, self.control_address, self.provision_info, self.worker_id = (
            fork, control_address, provision_info, worker_id)
        self.on_death = on_death

    def run(self) -> None:
        options = [("grpc.http2.max_pings_without_data", 0), ("grpc.http2.max_ping_strikes", 0)]
        logging_server = grpc.server(thread_pool_executor.shared_unbounded_instance(), options=options)
        logging_port = logging_server.add_insecure_port("[::]:0")
        logging_server.start()
        beam_fn_api_pb2_grpc.add_BeamFnLoggingServicer_to_server(WorkerLogServicer(), logging_server)
        environ = dict(
            os.environ,
            CONTROL_API_SERVICE_DESCRIPTOR=text_format.MessageToString(
                endpoints_pb2.ApiServiceDescriptor(url=self.control_address)),
            LOGGING_API_SERVICE_DESCRIPTOR=text_format.MessageToString(
                endpoints_pb2.ApiServiceDescriptor(url=f"localhost:{logging_port}")),
            PIPELINE_OPTIONS=json_format.MessageToJson(self.provision_info.provision_info.pipeline_options))
        if self.worker_id:
            environ["WORKER_ID"] = self.worker_id
        try:
            with contextlib.suppress(OSError):  # a child already gone: its exit status says why
                self.fork.start(environ)
            self.fork.wait()
            death = self.fork.death()
            if death:
                self.on_death(LocalWorkerDiedError(death))
        finally:
            self.fork.kill()
            logging_server.stop(0)


def _exit_description(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-returncode).name}"
        return f"signal {-returncode}"
    return f"exit status {returncode}"


@WorkerHandler.register_environment(FORKED_URN, bytes)
class ForkedSdkWorkerHandler(GrpcWorkerHandler):
    """The runner's handle on one forked worker; Beam's own new process where no fork is left."""

    _by_run: dict[str, list["ForkedSdkWorkerHandler"]] = {}  # each run's handlers, for close to find its fellows

    def __init__(self, payload: bytes, state: object, provision_info: fn_runner.ExtendedProvisionInfo,
                 grpc_server: object) -> None:
        super().__init__(state, provision_info, grpc_server)
        self._payload = json.loads(payload)
        with _forks_lock:
            self._by_run.setdefault(self._payload["run"], []).append(self)

    def start_worker(self) -> None:
        fork = _take_fork(self._payload["run"])
        if fork is None:
            self.worker = local_job_service.SubprocessSdkWorker(
                self._payload["command"].encode(), self.control_address, self.provision_info, self.worker_id)
        else:
            self.worker = ForkedSdkWorker(fork, self.control_address, self.provision_info, self.worker_id,
                                          self._worker_died)
        self.worker_thread = threading.Thread(name="run_worker", target=self.worker.run)
        self.worker_thread.start()

    def stop_worker(self) -> None:
        self.worker_thread.join()

    def close(self) -> None:
        """Beam closes a run's workers one after another, each close waiting for its worker to end: the first
        tells every worker of the run to stop, so that they shut down together (close_all 0.10 -> 0.065 s here)."""
        with _forks_lock:
            fellows = self._by_run.pop(self._payload["run"], [])
        try:
            for handler in fellows:
                handler.ask_to_stop()
        finally:  # a Ctrl-C here still closes this one as Beam would
            super().close()

    def ask_to_stop(self) -> None:
        """What Beam's close sends first (the end of the control stream), without waiting for the worker; its
        own close then waits as before (the marker it sends again is never read). A dead worker's is left alone."""
        connection = self.control_conn
        if isinstance(connection, ControlConnection):
            with ControlConnection._lock:
                if connection._state == BeamFnControlServicer.STARTED_STATE:
                    connection.push(BeamFnControlServicer._DONE_MARKER)

    def _worker_died(self, death: Exception) -> None:
        """Fail what the runner waits for from this worker, and what it asks of it from now on."""
        connection = self.control_conn
        self.control_conn = DeadWorkerConnection(connection, death)
        connection.abort(death)
        close_dead_channel(self.data_conn)


class LocalRunner(fn_runner.FnApiRunner):
    """Beam's FnApiRunner, whose multi-processing workers are forked from this process (see the module), and
    whose shuffles spill to disk and bundles are bounded (``local_shuffle``, ``local_bundles``)."""

    def __init__(self, shuffle: ShuffleSettings | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shuffle = shuffle or ShuffleSettings.from_environment()

    def _get_bundle_manager(self, bundle_context_manager):  # noqa: ANN001, ANN202 - Beam's signature
        fallback = super()._get_bundle_manager(bundle_context_manager)
        SpillingBundleContext.adopt(bundle_context_manager, self.shuffle)
        return BoundedBundleManager(bundle_context_manager, self._progress_frequency,
                                    fallback._cache_token_generator, fallback, self.shuffle)

    def run_via_runner_api(self, pipeline_proto, options):  # noqa: ANN001, ANN201 - Beam's signature
        # Workers in this process hand their outputs over in memory: documents cross the shuffles uncompressed
        # there (transforms/common/packed.py). Between processes (over gRPC) they are compressed. Two forked
        # workers on 4 copies of the real pages took 2 % longer with them uncompressed (2026-12-01); measured
        # again on 2026-12-02, uncompressed ran about 1 % fewer instructions (callgrind, all three processes)
        # but 0.15 s more system time (larger messages), and wall time differed within the machine's noise.
        in_memory = all(env.urn == python_urns.EMBEDDED_PYTHON
                        for env in pipeline_proto.components.environments.values())
        with in_process_packing() if in_memory else contextlib.nullcontext():
            return self._run_via_runner_api(pipeline_proto, options)

    def _run_via_runner_api(self, pipeline_proto, options):  # noqa: ANN001, ANN202 - Beam's signature
        replaced = [env for env in pipeline_proto.components.environments.values()
                    if env.urn == python_urns.SUBPROCESS_SDK
                    and env.payload.decode() == BEAM_WORKER_COMMAND]
        if not _take_permission() or not replaced:
            return super().run_via_runner_api(pipeline_proto, options)
        with forks_for_run(self._num_workers * len(replaced)) as forks, quiet_after_death(
                lambda: forks.first_death(DEATH_SHOWS_WITHIN_S) is not None):
            for env in replaced:
                env.urn = FORKED_URN
                env.payload = json.dumps({"run": forks.key, "command": BEAM_WORKER_COMMAND}).encode()
            try:
                return super().run_via_runner_api(pipeline_proto, options)
            except Exception as exc:
                # Before the forks are let go: those the build kills are no deaths.
                death = forks.first_death(DEATH_SHOWS_WITHIN_S)
                if death:
                    raise LocalWorkerDiedError(death) from exc
                raise
