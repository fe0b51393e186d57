"""deploy/: every manifest parses, and the fields that must agree with the code do (images, ports, versions)."""

import json
import re
import subprocess
import sys

import apache_beam
import pytest
import yaml
from apache_beam.options.pipeline_options import FlinkRunnerOptions

from beam_jobs.build_args import build_parser, parse_with_beam_options
from beam_jobs.refresh import build_parser as refresh_parser
from tests.conftest import REPO

DEPLOY = REPO / "deploy"
PYPROJECT = (REPO / "pyproject.toml").read_text()
VERSION = re.search(r'^version = "([^"]+)"$', PYPROJECT, re.MULTILINE).group(1)
BEAM_PIN = re.search(r'^    "apache-beam==([^"]+)",$', PYPROJECT, re.MULTILINE).group(1)
WORKER_IMAGE = f"warcforge/worker:{VERSION}"


def _dockerfile_args(path: str) -> dict[str, str]:
    return dict(re.findall(r"^ARG (\w+)=(\S+)$", (DEPLOY / path).read_text(), re.MULTILINE))


def _shell_default(path: str, name: str) -> str:
    return re.search(rf'{name}="\$\{{{name}:-([^}}]+)\}}"', (DEPLOY / path).read_text()).group(1)


def _manifests(path: str) -> dict[str, dict]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all((DEPLOY / path).read_text())}


def test_the_worker_image_is_beams_sdk_image_of_the_pinned_release():
    args = _dockerfile_args("docker/Dockerfile")
    assert BEAM_PIN == apache_beam.__version__ == args["BEAM_VERSION"]
    assert args["PYTHON_VERSION"] == "3.11"  # the launcher image below and CI's interpreter
    text = (DEPLOY / "docker" / "Dockerfile").read_text()
    assert "FROM apache/beam_python${PYTHON_VERSION}_sdk:${BEAM_VERSION}" in text
    copied = [name for source in re.findall(r"^COPY (.+) \S+$", text, re.MULTILINE) for name in source.split()]
    for name in copied:
        assert (REPO / name).exists(), name
    include = re.search(r"^include = \[(.*)\]$", (REPO / "pyproject.toml").read_text(), re.MULTILINE).group(1)
    for package in re.findall(r'"([^"]+)"', include):
        assert package.rstrip("*") in copied, f"the worker image does not copy the package {package}"
    makefile = (REPO / "Makefile").read_text()
    assert f"IMAGE ?= {WORKER_IMAGE}" in makefile


def test_flink_versions_agree_between_the_local_cluster_kubernetes_and_beam():
    local = _shell_default("flink/local-cluster.sh", "FLINK_VERSION")
    major_minor = local.rsplit(".", 1)[0]
    assert major_minor in FlinkRunnerOptions.PUBLISHED_FLINK_VERSIONS
    cluster = _manifests("flink/session-cluster.yaml")["FlinkDeployment"]
    assert cluster["apiVersion"] == "flink.apache.org/v1beta1"
    assert cluster["spec"]["flinkVersion"] == "v" + major_minor.replace(".", "_")
    assert cluster["spec"]["image"] == f"flink:{local}-java17"
    assert "job" not in cluster["spec"]  # a session cluster: jobs arrive through the job server
    job_server = _manifests("flink/job-server.yaml")["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert job_server["image"] == f"apache/beam_flink{major_minor}_job_server:{BEAM_PIN}"


def test_the_worker_pool_sidecar_job_server_and_submit_command_agree_on_images_and_ports():
    cluster = _manifests("flink/session-cluster.yaml")["FlinkDeployment"]
    containers = {c["name"]: c for c in cluster["spec"]["taskManager"]["podTemplate"]["spec"]["containers"]}
    assert set(containers) == {"flink-main-container", "beam-worker-pool"}
    pool = containers["beam-worker-pool"]
    assert pool["image"] == WORKER_IMAGE and pool["args"] == ["--worker_pool"]
    pool_port = pool["ports"][0]["containerPort"]
    submit = (DEPLOY / "flink" / "submit.sh").read_text()
    assert f"--environment_type=EXTERNAL --environment_config=localhost:{pool_port}" in submit
    jobs = _manifests("flink/job-server.yaml")
    args = dict(a.lstrip("-").split("=", 1) for a in jobs["Deployment"]["spec"]["template"]["spec"]["containers"][0]
                ["args"])
    rest_port = cluster["spec"]["flinkConfiguration"]["rest.port"]
    assert args["flink-master"] == f"{cluster['metadata']['name']}-rest:{rest_port}"  # the operator's REST service
    service = jobs["Service"]
    ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
    assert ports["job"] == int(args["job-port"]) and ports["artifact"] == int(args["artifact-port"])
    assert f"--job_endpoint=localhost:{ports['job']} --artifact_endpoint=localhost:{ports['artifact']}" in submit
    for port in (ports["job"], ports["artifact"]):  # one forward a port (submit.sh says why)
        assert f'"service/{service["metadata"]["name"]} {port}:{port}"' in submit
    # The REST API, where a build that does not finish cancels its job: the operator's service, forwarded.
    assert f'"service/{cluster["metadata"]["name"]}-rest $rest_port:{rest_port}"' in submit
    assert '--flink_rest_url="http://localhost:$rest_port"' in submit and "--flink_master=" not in submit
    assert service["spec"]["selector"] == jobs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    slots = int(cluster["spec"]["flinkConfiguration"]["taskmanager.numberOfTaskSlots"])
    assert int(pool["resources"]["requests"]["cpu"]) == slots == cluster["spec"]["taskManager"]["resource"]["cpu"]


def test_each_flink_taskmanager_pod_has_one_slot_so_its_sdk_worker_serves_one_bundle_at_a_time():
    # A TaskManager gives the bundles of all its slots to one SDK worker (Beam's --sdk_worker_parallelism=1),
    # whose Python computes on one core at a time; more workers per TaskManager are handed out to operators
    # in turn as they open, so two slots of one stage may still share one (docs/BENCH-FLINK.md).
    for manifest in ("flink/session-cluster.yaml", "flink/watch-streaming.yaml"):
        docs = list(yaml.safe_load_all((DEPLOY / manifest).read_text()))
        cluster = next(d for d in docs if d["kind"] == "FlinkDeployment")
        assert cluster["spec"]["flinkConfiguration"]["taskmanager.numberOfTaskSlots"] == "1", manifest
        pod = cluster["spec"]["taskManager"]["podTemplate"]["spec"]
        pool = next(c for c in pod["containers"] if c["name"] == "beam-worker-pool")
        assert int(pool["resources"]["requests"]["cpu"]) == 1, manifest
        # Scaled by pods: enough of them for the job's parallelism.
        slots = cluster["spec"]["taskManager"]["replicas"]
        assert slots >= int(cluster["spec"]["flinkConfiguration"]["parallelism.default"]), manifest
    assert "--sdk_worker_parallelism" not in (DEPLOY / "flink" / "submit.sh").read_text()


def _megabytes(size: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([mg])", size.lower()).groups()
    return int(number) * (1024 if unit == "g" else 1)


def test_both_flink_clusters_give_beams_data_plane_direct_memory():
    # Flink's default task off-heap of 0 ends a large Beam stage in "Direct buffer memory" (README).
    local = yaml.safe_load((DEPLOY / "flink" / "local-config.yaml").read_text().replace("@", ""))
    kubernetes = _manifests("flink/session-cluster.yaml")["FlinkDeployment"]["spec"]["flinkConfiguration"]
    for config in (local, kubernetes):
        assert _megabytes(config["taskmanager.memory.task.off-heap.size"]) >= 512
        # Java 17 flags: both configurations replace the distribution's, which carries them.
        assert "--add-opens=java.base/java.lang=ALL-UNNAMED" in config["env.java.opts.all"]


def test_the_flex_template_passes_only_flags_the_build_knows():
    metadata = json.loads((DEPLOY / "dataflow" / "metadata.json").read_text())
    options = {a.dest: a for a in build_parser()._actions}
    for parameter in metadata["parameters"]:
        action = options[parameter["name"]]
        assert action.nargs != 0, f"{parameter['name']}: a flex template passes --name=value"
        assert parameter["isOptional"] == (not action.required)
    required = {name for name, action in options.items() if action.required}
    assert required <= {p["name"] for p in metadata["parameters"]}
    text = (DEPLOY / "dataflow" / "Dockerfile").read_text()
    assert f"ARG WORKER_IMAGE={WORKER_IMAGE}" in text
    assert "python311-template-launcher-base" in text
    py_file = re.search(r"ARG ENTRY=(\S+)", text).group(1)
    assert "FLEX_TEMPLATE_PYTHON_PY_FILE=/opt/warcforge/${ENTRY}" in text
    assert (REPO / py_file).is_file()


def test_the_refresh_flex_template_passes_only_flags_refresh_knows():
    metadata = json.loads((DEPLOY / "dataflow" / "metadata-refresh.json").read_text())
    options = {a.option_strings[0].lstrip("-"): a for a in refresh_parser()._actions if a.option_strings}
    for parameter in metadata["parameters"]:
        action = options[parameter["name"]]
        assert action.nargs != 0 and parameter["isOptional"] == (not action.required), parameter["name"]
    script = (DEPLOY / "dataflow" / "flex-template.sh").read_text()
    assert "--build-arg ENTRY=beam_jobs/refresh.py" in script and "metadata-refresh.json" in script
    assert (REPO / "beam_jobs" / "refresh.py").is_file()


@pytest.mark.parametrize("entry", ["build.py", "refresh.py"])
def test_the_flex_template_entry_file_runs_as_a_script_from_any_directory(tmp_path, entry):
    # The launcher runs the file by path, from its own working directory.
    result = subprocess.run([sys.executable, str(REPO / "beam_jobs" / entry), "--help"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--config" in result.stdout and "--dry-run" in result.stdout


def test_deploy_scripts_parse():
    for script in ("flink/local-cluster.sh", "flink/submit.sh", "dataflow/flex-template.sh"):
        assert subprocess.run(["bash", "-n", str(DEPLOY / script)]).returncode == 0, script


def test_the_refresh_cronjob_runs_refresh_against_the_job_server_one_at_a_time():
    cron = _manifests("flink/refresh-cronjob.yaml")["CronJob"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == WORKER_IMAGE
    assert container["command"] == ["python", "-m", "beam_jobs.refresh"]
    args, beam_args = parse_with_beam_options(refresh_parser(), container["args"])
    assert args.output.startswith("gs://") and args.config.startswith("gs://")
    service = _manifests("flink/job-server.yaml")["Service"]
    endpoints = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in beam_args}
    ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
    assert endpoints["--job_endpoint"] == f"{service['metadata']['name']}:{ports['job']}"
    assert endpoints["--artifact_endpoint"] == f"{service['metadata']['name']}:{ports['artifact']}"
    assert endpoints["--environment_config"] == "localhost:50000"
    # Where a crawl's build that does not finish cancels its job; --flink_master would redirect the job server.
    cluster = _manifests("flink/session-cluster.yaml")["FlinkDeployment"]
    rest_port = cluster["spec"]["flinkConfiguration"]["rest.port"]
    assert endpoints["--flink_rest_url"] == f"http://{cluster['metadata']['name']}-rest:{rest_port}"
    assert "--flink_master" not in endpoints


def test_the_streaming_watch_deployment_checkpoints_to_a_bucket_and_its_driver_stops_with_a_savepoint():
    from beam_jobs.runners import flink_rest_address, is_flink
    from beam_jobs.watch import beam_args_for, watch_parser

    docs = list(yaml.safe_load_all((DEPLOY / "flink/watch-streaming.yaml").read_text()))
    cluster = next(d for d in docs if d["kind"] == "FlinkDeployment")
    conf = cluster["spec"]["flinkConfiguration"]
    assert conf["state.backend.type"] == "rocksdb"
    assert conf["state.checkpoints.dir"].startswith("s3://") and conf["state.savepoints.dir"].startswith("s3://")
    assert conf["execution.checkpointing.interval"]
    driver = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "warcforge-watch")
    assert driver["spec"]["replicas"] == 1 and driver["spec"]["strategy"]["type"] == "Recreate"
    (container,) = driver["spec"]["template"]["spec"]["containers"]
    assert container["image"] == WORKER_IMAGE and container["command"] == ["python", "-m", "beam_jobs.watch"]
    args, beam_args = parse_with_beam_options(watch_parser(), container["args"])
    assert args.stop_with_savepoint == conf["state.savepoints.dir"]
    from apache_beam.options.pipeline_options import PipelineOptions

    options = PipelineOptions(beam_args_for(args, beam_args))
    assert is_flink(options)  # so the stop goes through Flink's REST API, and bundles hold one element
    assert "--max_bundle_size=1" in beam_args_for(args, beam_args)
    assert options.view_as(FlinkRunnerOptions).flink_master == "[auto]"  # the job server's own says where
    rest = f"{cluster['metadata']['name']}-rest:{conf['rest.port']}"
    assert flink_rest_address(options) == f"http://{rest}"
    server = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("job-server"))
    assert f"--flink-master={rest}" in server["spec"]["template"]["spec"]["containers"][0]["args"]


@pytest.mark.parametrize("fault", ["a local port in use", "no REST API behind the forward"])
def test_submit_stops_before_any_build_when_a_port_forward_is_not_there(fault, tmp_path):
    # Without the REST API a stopped build could not cancel its job; without the check, localhost could even be
    # another Flink (make flink-up) where the cancel finds nothing. A stand-in kubectl plays the failed forward.
    import os

    from tests.conftest import free_port

    kubectl = tmp_path / "bin" / "kubectl"
    kubectl.parent.mkdir()
    kubectl.write_text("#!/bin/sh\n" + ("exit 1\n" if fault == "a local port in use" else "exec sleep 30\n"))
    kubectl.chmod(0o755)
    env = {**os.environ, "PATH": f"{kubectl.parent}{os.pathsep}{os.environ['PATH']}",
           "FLINK_REST_LOCAL_PORT": str(free_port())}
    out = tmp_path / "out"
    run = subprocess.run(["bash", str(DEPLOY / "flink" / "submit.sh"), "configs/sample.yaml", str(out)], env=env,
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert ("a kubectl port-forward did not start" if fault == "a local port in use"
            else "no Flink REST API answers through the port-forward") in run.stderr
    assert not out.exists()


STAND_IN_KUBECTL = """#!{python}
# kubectl port-forward as far as submit.sh sees it: holds a local port (the REST API's answers /overview) and,
# as kubectl does (Go's signal.Notify), ends on SIGINT even when started with it ignored.
import http.server, json, os, signal, sys, time
log = os.environ["STAND_IN_LOG"]
def stop(*_):
    with open(log, "a") as out:
        out.write(f"forward {{sys.argv[3]}} got SIGINT\\n")
    os._exit(1)
signal.signal(signal.SIGINT, stop)
with open(log, "a") as out:
    out.write(f"forward {{sys.argv[3]}} pid {{os.getpid()}} session {{os.getsid(0)}}\\n")
if "rest" in sys.argv[2]:
    class Overview(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args): pass
        def do_GET(self):
            body = json.dumps({{"flink-version": "1.19.3"}}).encode()
            self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
            self.wfile.write(body)
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[3].split(":")[0])), Overview).serve_forever()
time.sleep(120)
"""

STAND_IN_BUILD = """#!{python}
# python -m beam_jobs.build as far as a Ctrl-C goes: on SIGINT it asks the REST forward, as the build's cancel does.
import os, signal, sys, time, urllib.request
log = os.environ["STAND_IN_LOG"]
rest = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--flink_rest_url="))
def interrupted(*_):
    try:
        urllib.request.urlopen(rest + "/overview", timeout=5).read()
        answer = "answered"
    except OSError as exc:
        answer = f"did not answer ({{exc}})"
    with open(log, "a") as out:
        out.write(f"build interrupted; the REST API {{answer}}\\n")
    os._exit(130)
signal.signal(signal.SIGINT, interrupted)
with open(log, "a") as out:
    out.write("build started\\n")
time.sleep(60)
"""


def test_a_ctrl_c_of_submit_reaches_the_build_while_its_forwards_stay_up_for_the_cancel(tmp_path):
    # A terminal sends Ctrl-C to the whole foreground process group. kubectl in the script's own group ended at
    # once, so the build's cancel found no REST API and the job on the cluster ran on.
    import os
    import signal
    import time

    from tests.conftest import free_port

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("kubectl", STAND_IN_KUBECTL), ("python", STAND_IN_BUILD)):
        (bin_dir / name).write_text(text.format(python=sys.executable))
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "log"
    log.touch()
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "STAND_IN_LOG": str(log),
           "FLINK_REST_LOCAL_PORT": str(free_port())}
    submit = subprocess.Popen(["bash", str(DEPLOY / "flink" / "submit.sh"), "configs/sample.yaml",
                               str(tmp_path / "out")], env=env, cwd=REPO, start_new_session=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while "build started" not in log.read_text():
        assert submit.poll() is None and time.monotonic() < deadline, submit.communicate()
        time.sleep(0.1)
    os.killpg(submit.pid, signal.SIGINT)  # as a terminal's Ctrl-C does
    submit.communicate(timeout=30)
    lines = log.read_text().splitlines()
    assert "build interrupted; the REST API answered" in lines, lines
    assert not [line for line in lines if "got SIGINT" in line], lines
    started = [line.split() for line in lines if " pid " in line]
    assert len(started) == 3 and all(words[-1] == words[-3] for words in started)  # each a session of its own
    for words in started:  # and stopped when submit.sh ended
        pid = int(words[-3])
        deadline = time.monotonic() + 10
        while os.path.exists(f"/proc/{pid}") and "Z" not in open(f"/proc/{pid}/stat").read().split()[2]:
            assert time.monotonic() < deadline, f"port-forward {pid} outlived submit.sh"
            time.sleep(0.1)
