"""The build on a real Flink session cluster on loopback, started and stopped as `make flink-up` /
`make flink-down` do, submitted by Beam's FlinkRunner through Beam's Flink job server; its output
must be byte-identical to the DirectRunner's."""

import json
import os
import subprocess
import sys
import time
import urllib.request

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from testbed.memory_cap import MemoryCap
from tests.conftest import CACHE, REPO, build, free_port, published_bytes, serve, still_alive, write_recipe
from tests.hot_bucket_check import add_hot_bucket_job, assert_no_worker_grouped_the_bucket

CLUSTER = str(REPO / "deploy" / "flink" / "local-cluster.sh")


@pytest.fixture(scope="module")
def flink_cluster():
    port = free_port()
    env = {**os.environ, "FLINK_REST_PORT": str(port), "FLINK_RPC_PORT": str(free_port()), "PYTHON": sys.executable}
    started = subprocess.run([CLUSTER, "up"], env=env, capture_output=True, text=True, timeout=900)
    assert started.returncode == 0, started.stderr
    yield port, env
    stopped = subprocess.run([CLUSTER, "down"], env=env, capture_output=True, text=True, timeout=120)
    assert stopped.returncode == 0, stopped.stderr


@pytest.fixture(scope="module")
def job_server_jar(flink_cluster) -> str:
    _, env = flink_cluster
    fetched = subprocess.run([CLUSTER, "job-server-jar"], env=env, capture_output=True, text=True, timeout=600)
    assert fetched.returncode == 0, fetched.stderr
    return fetched.stdout.strip()


def _get(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://localhost:{port}{path}", timeout=10) as response:
        return json.load(response)


def test_the_build_on_flink_is_byte_identical_to_the_direct_runner(flink_cluster, job_server_jar, sample_dir,
                                                                   tmp_path):
    port, _ = flink_cluster
    overview = _get(port, "/overview")
    assert overview["flink-version"] == "1.19.3" and overview["taskmanagers"] == 1 and overview["slots-total"] == 2
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")], dedup={"near": {"enabled": True}},
                          filters={"gopher_repetition": {"enabled": True}, "rejected_sample_rate": 0.5})
    direct = build(recipe, tmp_path / "direct")
    flink = build(recipe, tmp_path / "flink", "--runner=FlinkRunner", f"--flink_master=localhost:{port}",
                  "--flink_version=1.19", f"--flink_job_server_jar={job_server_jar}",
                  "--environment_type=LOOPBACK", "--parallelism=2")
    assert published_bytes(tmp_path / "flink") == published_bytes(tmp_path / "direct")
    assert flink["counts"] == direct["counts"] and flink["documents"] > 0
    # It ran on the cluster: Flink lists the finished Beam job, spread over both slots.
    jobs = [j for j in _get(port, "/jobs/overview")["jobs"] if j["name"].startswith("warcforge-build-")]
    assert [j["state"] for j in jobs] == ["FINISHED"]
    vertices = _get(port, f"/jobs/{jobs[0]['jid']}")["vertices"]
    assert max(v["parallelism"] for v in vertices) == 2


def test_flink_with_sdk_workers_from_a_worker_pool_as_on_kubernetes(flink_cluster, job_server_jar, worker_pool,
                                                                     sample_dir, tmp_path):
    # deploy/flink runs the SDK harness in a worker-pool sidecar (EXTERNAL); here the pool runs
    # in another directory, sharing nothing with the driver but the pipeline.
    port, _ = flink_cluster
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")],
                          filters={"language": {"enabled": True, "keep": ["en"], "min_score": 0.3}})
    direct = build(recipe, tmp_path / "direct")
    flink = build(recipe, tmp_path / "flink", "--runner=FlinkRunner", f"--flink_master=localhost:{port}",
                  "--flink_version=1.19", f"--flink_job_server_jar={job_server_jar}",
                  "--environment_type=EXTERNAL", f"--environment_config={worker_pool}", "--parallelism=2")
    assert published_bytes(tmp_path / "flink") == published_bytes(tmp_path / "direct")
    assert flink["counts"] == direct["counts"]


def test_a_taskmanager_per_slot_each_starting_its_own_sdk_workers(job_server_jar, sample_dir, tmp_path):
    # The shape deploy/flink/session-cluster.yaml runs (one slot per TaskManager, so no two slots share an
    # SDK worker's Python) and bench/flink_per_core.py measures: FLINK_TASKMANAGERS=2 on loopback, each
    # TaskManager starting its own workers (PROCESS, testbed/sdk_worker_boot.py); `down` stops them all.
    from testbed.sdk_worker_boot import boot_script

    port = free_port()
    env = {**os.environ, "FLINK_REST_PORT": str(port), "FLINK_RPC_PORT": str(free_port()), "PYTHON": sys.executable,
           "FLINK_TASKMANAGERS": "2"}
    run_dir = CACHE / f"flink-run-{port}"
    # Each worker notes the process that started it: a TaskManager (the runner starts PROCESS workers itself).
    parents = tmp_path / "worker-parents"
    noting = tmp_path / "note-parent.sh"
    noting.write_text(f"#!/bin/sh\necho $PPID >> '{parents}'\nexec '{boot_script(tmp_path / 'boot')}' \"$@\"\n")
    noting.chmod(0o755)
    taskmanagers: list[int] = []
    try:
        started = subprocess.run([CLUSTER, "up"], env=env, capture_output=True, text=True, timeout=900)
        assert started.returncode == 0, started.stderr
        taskmanagers = [int(p) for f in run_dir.glob("flink-*-taskexecutor.pid") for p in f.read_text().split()]
        overview = _get(port, "/overview")
        assert overview["taskmanagers"] == 2 and overview["slots-total"] == 2 and len(taskmanagers) == 2
        recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")])
        direct = build(recipe, tmp_path / "direct")
        flink = build(recipe, tmp_path / "flink", "--runner=FlinkRunner", f"--flink_master=localhost:{port}",
                      "--flink_version=1.19", f"--flink_job_server_jar={job_server_jar}", "--parallelism=2",
                      "--environment_type=PROCESS", f"--environment_config={json.dumps({'command': str(noting)})}")
        assert published_bytes(tmp_path / "flink") == published_bytes(tmp_path / "direct")
        assert flink["counts"] == direct["counts"]
        (job,) = [j for j in _get(port, "/jobs/overview")["jobs"] if j["name"].startswith("warcforge-build-")]
        assert job["state"] == "FINISHED"
        # Both TaskManagers started SDK workers of their own, and nothing else did.
        assert {int(p) for p in parents.read_text().split()} == set(taskmanagers)
    finally:
        # `down` without FLINK_TASKMANAGERS (one worker line) still stops both.
        stopped = subprocess.run([CLUSTER, "down"], env={k: v for k, v in env.items() if k != "FLINK_TASKMANAGERS"},
                                 capture_output=True, text=True, timeout=120)
    assert stopped.returncode == 0, stopped.stderr
    # SIGTERM: a JVM takes a moment to shut down.
    assert not still_alive(taskmanagers, within_s=30, poll_s=0.5), "a TaskManager outlived `down`"


# Every SDK worker of the pool together, as a container limit counts them. The job below peaked at
# about 580 MB here. At 200,000 members the bucket is small (its members travel as ~40-byte ranks),
# so this cap does not tell hot-bucket handling on from off (docs/HOT-BUCKET-MEMORY.md): it holds
# the whole run to a fixed budget, and the bucket_group_size metric is what shows that no worker
# grouped the bucket.
SDK_WORKERS_MEMORY_CAP = 1 << 30


@pytest.mark.skipif(not MemoryCap.available(), reason="no memory cgroup this process may create, to cap the workers")
def test_a_200000_member_hot_bucket_on_flink_with_sdk_workers_under_a_memory_cap(flink_cluster, job_server_jar):
    port, _ = flink_cluster
    pool_port = free_port()
    pool_env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}"}
    with MemoryCap(SDK_WORKERS_MEMORY_CAP) as cap:
        pool = serve([sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main",
                      f"--service_port={pool_port}"], pool_port, "Beam's worker pool", env=pool_env,
                     cwd=REPO)  # the workers import the corpus from testbed/
        try:
            cap.add(pool.pid)  # before any job: every SDK worker it starts is in the cap
            options = PipelineOptions([
                "--runner=FlinkRunner", f"--flink_master=localhost:{port}", "--flink_version=1.19",
                f"--flink_job_server_jar={job_server_jar}", "--parallelism=2",
                "--environment_type=EXTERNAL", f"--environment_config=localhost:{pool_port}"])
            pipeline = beam.Pipeline(options=options)
            add_hot_bucket_job(pipeline)
            result = pipeline.run()
            result.wait_until_finish(duration=600_000)
            if result.state != "DONE":
                result.cancel()
        finally:
            pool.terminate()
            pool.wait(timeout=30)
        assert result.state == "DONE" and cap.oom_kills() == 0
    assert_no_worker_grouped_the_bucket(result)


def test_materialize_on_flink_gives_back_the_direct_build(flink_cluster, job_server_jar, sample_dir, tmp_path):
    from beam_jobs.materialize import run_materialize

    port, _ = flink_cluster
    recipe = write_recipe(tmp_path / "r.yaml", [str(sample_dir / "*.warc.gz")], dedup={"near": {"enabled": True}})
    build(recipe, tmp_path / "direct")
    build(recipe, tmp_path / "pointers", "--pointers")
    run_materialize([str(tmp_path / "pointers"), "--output", str(tmp_path / "flink"), "--runner=FlinkRunner",
                     f"--flink_master=localhost:{port}", "--flink_version=1.19",
                     f"--flink_job_server_jar={job_server_jar}", "--environment_type=LOOPBACK", "--parallelism=2"])
    # The pointer build locked its inputs itself; the direct build was not locked: the data files must agree.
    assert published_bytes(tmp_path / "flink", ("run_info.json", "stats.json", "manifest.json", "README.md",
                                                "inputs.json", "warcforge.lock")) == published_bytes(
        tmp_path / "direct", ("run_info.json", "stats.json", "manifest.json", "README.md", "inputs.json"))


# warcforge watch on the session cluster: streaming, checkpoints every 2 s, LOOPBACK workers.
WATCH_PUBLISH_WITHIN_S = 150  # a restart after a TaskManager loss takes the heartbeat timeout and a restore


def _start_flink_watch(recipe, output, port: int, jar: str, *extra: str):
    import subprocess as sp

    from tests.conftest import WARCFORGE

    # stderr to a file: kept for a failing test to show, and never a full pipe the watch blocks on.
    err = output.parent / f"watch-{time.time():.0f}.err"
    watch = sp.Popen([WARCFORGE, "watch", "--config", str(recipe), "--output", str(output), "--runner=FlinkRunner",
                     f"--flink_master=localhost:{port}", "--flink_version=1.19", f"--flink_job_server_jar={jar}",
                     "--environment_type=LOOPBACK", "--parallelism=2", "--checkpointing_interval=2000", *extra],
                     stdout=sp.PIPE, stderr=open(err, "w"), text=True)  # noqa: SIM115 - closed with the process
    watch.err_path = err
    return watch


def _stop_watch(watch, signum: int) -> tuple[str, str]:
    watch.send_signal(signum)
    out, _ = watch.communicate(timeout=180)
    return out, watch.err_path.read_text()


def _land(source, folder, name: str) -> None:
    import shutil

    shutil.copy(source, folder / f".{name}")
    (folder / f".{name}").rename(folder / name)


def _watch_job(port: int) -> dict:
    jobs = [j for j in _get(port, "/jobs/overview")["jobs"] if j["name"].startswith("warcforge-watch")]
    return max(jobs, key=lambda j: j["start-time"])


def test_watch_on_flink_recovers_from_a_lost_taskmanager_and_publishes_each_batch_once(
        flink_cluster, job_server_jar, sample_dir, shared_warc, tmp_path):
    import signal

    from tests.watch_helpers import assert_same_documents_as_build, batch_manifests, write_watch_recipe
    from tests.watch_helpers import wait_for_file as published_within

    port, env = flink_cluster
    landing = tmp_path / "landing"
    landing.mkdir()
    recipe = write_watch_recipe(tmp_path / "watch.yaml", landing)
    output = tmp_path / "stream"
    watch = _start_flink_watch(recipe, output, port, job_server_jar)
    try:
        for i in (0, 1):
            _land(sample_dir / f"sample-0000{i}.warc.gz", landing, f"sample-0000{i}.warc.gz")
            published_within(output, f"sample-0000{i}.warc.gz", WATCH_PUBLISH_WITHIN_S)
        killed = subprocess.run([CLUSTER, "taskmanager-kill"], env=env, capture_output=True, text=True, timeout=60)
        assert killed.returncode == 0, killed.stderr
        _land(sample_dir / "sample-00002.warc.gz", landing, "sample-00002.warc.gz")  # lands while none runs
        started = subprocess.run([CLUSTER, "taskmanager-start"], env=env, capture_output=True, text=True,
                                 timeout=120)
        assert started.returncode == 0, started.stderr
        _land(sample_dir / "sample-00003.warc.gz", landing, "sample-00003.warc.gz")
        _land(shared_warc / "commoncrawl_whirlwind-python__whirlwind.warc.gz", landing, "whirlwind.warc.gz")
        _land(sample_dir / "sample-00001.warc.gz", landing, "repeat-00001.warc.gz")
        for name in ("sample-00002.warc.gz", "sample-00003.warc.gz", "whirlwind.warc.gz", "repeat-00001.warc.gz"):
            published_within(output, name, WATCH_PUBLISH_WITHIN_S)
        job = _watch_job(port)
        checkpoints = _get(port, f"/jobs/{job['jid']}/checkpoints")
        out, err = _stop_watch(watch, signal.SIGTERM)
    finally:
        if watch.poll() is None:
            watch.kill()
    assert watch.returncode == 0, err
    # The job went on from a checkpoint after the TaskManager was lost, and was cancelled at the stop.
    assert checkpoints["latest"]["restored"] is not None and checkpoints["counts"]["completed"] > 0
    assert _get(port, f"/jobs/{job['jid']}")["state"] == "CANCELED"
    manifests = batch_manifests(output)
    published = [i["warc_path"] for m in manifests.values() for i in m["inputs"]]
    assert sorted(published) == sorted(p.name for p in landing.glob("*.warc.gz"))  # each file in exactly one batch
    assert out.count("watch: published batch") == len(manifests)  # no batch published twice
    repeat = next(m for m in manifests.values() if "repeat-00001.warc.gz" in [i["warc_path"] for i in m["inputs"]])
    assert repeat["seen_before"] >= 200
    distinct = [str(landing / n) for n in sorted(published) if n != "repeat-00001.warc.gz"]
    build(write_recipe(tmp_path / "build.yaml", distinct), tmp_path / "built")
    assert_same_documents_as_build(output, tmp_path / "built")


def test_watch_stopped_with_a_savepoint_starts_again_from_it_and_reads_no_file_twice(
        flink_cluster, job_server_jar, sample_dir, tmp_path):
    import re
    import signal

    from tests.watch_helpers import batch_manifests, write_watch_recipe
    from tests.watch_helpers import wait_for_file as published_within

    port, _ = flink_cluster
    landing = tmp_path / "landing"
    landing.mkdir()
    recipe = write_watch_recipe(tmp_path / "watch.yaml", landing)
    output = tmp_path / "stream"
    savepoints = tmp_path / "savepoints"
    watch = _start_flink_watch(recipe, output, port, job_server_jar, f"--stop_with_savepoint=file://{savepoints}")
    try:
        _land(sample_dir / "sample-00000.warc.gz", landing, "sample-00000.warc.gz")
        published_within(output, "sample-00000.warc.gz", WATCH_PUBLISH_WITHIN_S)
        out, err = _stop_watch(watch, signal.SIGINT)
    finally:
        if watch.poll() is None:
            watch.kill()
    assert watch.returncode == 0, err
    savepoint = re.search(r"--savepoint_path=(\S+)\)", out).group(1)
    assert _get(port, f"/jobs/{_watch_job(port)['jid']}")["state"] == "FINISHED"  # stopped, not failed
    watch = _start_flink_watch(recipe, output, port, job_server_jar, f"--savepoint_path={savepoint}")
    try:
        _land(sample_dir / "sample-00001.warc.gz", landing, "sample-00001.warc.gz")
        published_within(output, "sample-00001.warc.gz", WATCH_PUBLISH_WITHIN_S)
        restored = _get(port, f"/jobs/{_watch_job(port)['jid']}/checkpoints")["latest"]["restored"]
        out, err = _stop_watch(watch, signal.SIGTERM)
    finally:
        if watch.poll() is None:
            watch.kill()
    assert watch.returncode == 0, err
    assert restored is not None and restored["is_savepoint"]
    reads = [line for line in err.splitlines() if line.startswith("warcforge: read ")]
    assert len(reads) == 1 and "sample-00001.warc.gz" in reads[0]  # the file done before the stop is not read
    assert sorted(i["warc_path"] for m in batch_manifests(output).values() for i in m["inputs"]) == [
        "sample-00000.warc.gz", "sample-00001.warc.gz"]


@pytest.fixture
def job_server(flink_cluster, job_server_jar):
    """Beam's Flink job server on its own, in front of the cluster, as deploy/flink/job-server.yaml runs it."""
    port, _ = flink_cluster
    job_port, artifact_port = free_port(), free_port()
    process = serve(["java", "-jar", job_server_jar, f"--flink-master=localhost:{port}", f"--job-port={job_port}",
                     f"--artifact-port={artifact_port}", f"--expansion-port={free_port()}"], job_port,
                    "Beam's Flink job server", timeout_s=120)
    yield job_port, artifact_port
    process.terminate()
    process.wait(timeout=60)


@pytest.mark.parametrize("submitted", ["FlinkRunner", "through a job server"])
def test_ctrl_c_of_a_build_on_flink_cancels_its_job_on_the_cluster(submitted, flink_cluster, job_server_jar,
                                                                   worker_pool, sample_dir, tmp_path, request):
    # With SDK workers outside the driver (EXTERNAL, as on Kubernetes) the cluster's job does not need the
    # driver: left running after a Ctrl-C, it would go on reading and writing under the output's staging.
    # deploy/flink submits through a job server (--job_endpoint) and names the REST API with --flink_rest_url.
    import shutil
    import signal

    from tests.conftest import WARCFORGE

    port, _ = flink_cluster
    if submitted == "FlinkRunner":
        runner = ["--runner=FlinkRunner", f"--flink_master=localhost:{port}", "--flink_version=1.19",
                  f"--flink_job_server_jar={job_server_jar}"]
    else:
        job_port, artifact_port = request.getfixturevalue("job_server")
        runner = ["--runner=PortableRunner", f"--job_endpoint=localhost:{job_port}",
                  f"--artifact_endpoint=localhost:{artifact_port}", f"--flink_rest_url=http://localhost:{port}"]
    folder = tmp_path / "in"
    folder.mkdir()
    for path in sorted(sample_dir.glob("*.warc.gz")):
        for copy in range(24):
            shutil.copy(path, folder / f"{path.stem}-{copy}.warc.gz")
    recipe = write_recipe(tmp_path / "r.yaml", [str(folder / "*.warc.gz")])
    out = tmp_path / "out"
    before = {j["jid"] for j in _get(port, "/jobs/overview")["jobs"]}
    err = tmp_path / "build.err"
    run = subprocess.Popen([WARCFORGE, "build", "--config", str(recipe), "--output", str(out), *runner,
                            "--environment_type=EXTERNAL", f"--environment_config={worker_pool}", "--parallelism=2"],
                           stdout=subprocess.PIPE, stderr=open(err, "w"), text=True,  # noqa: SIM115
                           start_new_session=True)
    deadline = time.monotonic() + 240
    while not (ours := [j for j in _get(port, "/jobs/overview")["jobs"] if j["jid"] not in before
                        and j["state"] == "RUNNING"]):
        assert run.poll() is None and time.monotonic() < deadline, err.read_text()[-3000:]
        time.sleep(0.5)
    time.sleep(3)  # reading by now
    os.killpg(run.pid, signal.SIGINT)  # as a terminal does
    run.communicate(timeout=180)
    text = err.read_text()
    assert run.returncode == 130, text[-3000:]
    assert text.strip().splitlines()[-1] == "warcforge: interrupted; nothing was published, the output is as it was"
    assert "warcforge: cancelling the Flink job warcforge-build-" in text and "warning" not in text
    deadline = time.monotonic() + 60
    while (state := _get(port, f"/jobs/{ours[0]['jid']}")["state"]) not in ("CANCELED", "FINISHED", "FAILED"):
        assert time.monotonic() < deadline, f"the build's job on the cluster is still {state}"
        time.sleep(0.5)
    assert state == "CANCELED"
    assert not out.exists() or not [p for p in out.rglob("*") if p.is_file()]


def test_each_run_on_a_session_cluster_gets_a_job_name_of_its_own_unless_one_is_given():
    from beam_jobs.flink_jobs import name_cluster_job
    from beam_jobs.job_options import JobOptions

    shared = JobOptions(["--runner=FlinkRunner", "--flink_master=localhost:8081"])  # as a refresh's crawls share it
    first, second = name_cluster_job(shared, "build"), name_cluster_job(shared, "build")
    assert first.startswith("warcforge-build-") and second.startswith("warcforge-build-") and first != second
    given = JobOptions(["--runner=FlinkRunner", "--flink_master=localhost:8081", "--job_name=nightly"])
    assert name_cluster_job(given, "build") == name_cluster_job(given, "build") == "nightly"
    assert name_cluster_job(JobOptions(["--runner=FlinkRunner"]), "build") is None  # embedded: ends with the driver
    assert name_cluster_job(JobOptions([]), "build") is None
    # deploy/flink submits through a job server; the REST address comes with warcforge's own --flink_rest_url.
    served = ["--runner=PortableRunner", "--job_endpoint=localhost:8099"]
    assert name_cluster_job(JobOptions(served), "build") is None  # where the job runs is not known
    assert name_cluster_job(JobOptions([*served, "--flink_rest_url=http://localhost:8081"]), "build").startswith(
        "warcforge-build-")


def test_a_job_submitted_but_not_on_the_cluster_named_is_a_warning_not_a_clean_cancel(flink_cluster, monkeypatch):
    # --flink_rest_url naming another cluster than the job server's: the cancel finds nothing there, and the real
    # job goes on. A user and password in the address are sent as basic auth and never printed.
    import io

    from beam_jobs import flink_jobs
    from beam_jobs.flink_jobs import stop_cluster_job
    from beam_jobs.job_options import JobOptions

    monkeypatch.setattr(flink_jobs, "CANCEL_DEADLINE_S", 8.0)  # how long a submitted job is looked for
    port, _ = flink_cluster
    options = JobOptions(["--runner=PortableRunner", "--job_endpoint=localhost:8099",
                          f"--flink_rest_url=http://admin:hunter2@localhost:{port}"])
    err = io.StringIO()
    assert stop_cluster_job(options, "warcforge-build-elsewhere", "out/.staging", err, submitted=False) is None
    assert "warning" not in err.getvalue()  # not submitted: nothing was started, nothing is left
    left = stop_cluster_job(options, "warcforge-build-elsewhere", "out/.staging", err, submitted=True)
    assert left == "out/.staging"
    warning = err.getvalue().splitlines()[-1]
    assert warning.startswith(f"warcforge: warning: the Flink job warcforge-build-elsewhere on "
                              f"http://<redacted>@localhost:{port} may still be running (it was submitted, but the "
                              "cluster there listed no job of that name in 8 s"), warning
    assert "hunter2" not in err.getvalue()
