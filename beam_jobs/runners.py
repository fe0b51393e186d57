"""What the build checks about the chosen runner before any work, and the dry run's report.

A cluster's workers do not share the driver's disk: on Dataflow every input and the output must be
a URL the workers can reach, the workers must run an image with warcforge installed, and Beam
must have a gs:// place for its temporary files. These are checked here, by name, instead of
surfacing as a worker's import error an hour into the job.
"""

import difflib
import importlib

from apache_beam.options.pipeline_options import (
    FlinkRunnerOptions,
    GoogleCloudOptions,
    PipelineOptions,
    SetupOptions,
    StandardOptions,
    WorkerOptions,
)
from apache_beam.portability import common_urns
from apache_beam.portability.api import beam_runner_api_pb2
from apache_beam.runners.runner import PipelineRunner

from transforms.common.errors import WarcforgeError
from transforms.reading.sources import InputFile

DATAFLOW = "DataflowRunner"


class RunnerOptionsError(WarcforgeError):
    """The runner's options cannot work: a missing option, or a path the workers cannot reach."""


class FlinkRestOptions(PipelineOptions):
    """warcforge's own option: where this driver reaches a Flink session cluster's REST API.

    A run that does not finish cancels its job there (``flink_jobs``), and a watch stops its job there. With
    ``--runner=FlinkRunner`` that is ``--flink_master``. A driver that submits through a job server
    (``--runner=PortableRunner --job_endpoint=...``, as deploy/flink does) must not pass ``--flink_master``: the
    job server would submit to that address instead of its own ``--flink-master``, and a driver outside the
    cluster reaches the REST API by another name (a port-forward) than the job server does."""

    @classmethod
    def _add_argparse_args(cls, parser) -> None:  # noqa: ANN001 - Beam's argparse parser
        parser.add_argument(
            "--flink_rest_url", default=None,
            help="the Flink session cluster's REST address as this driver reaches it (http://HOST:8081), for a "
            "run that submits through --job_endpoint: warcforge cancels the run's job there if the run does not "
            "finish (default: --flink_master)")


def runner_name(options: PipelineOptions) -> str:
    runner = options.view_as(StandardOptions).runner or "DirectRunner"
    return runner if isinstance(runner, str) else type(runner).__name__


def is_dataflow(options: PipelineOptions) -> bool:
    """DataflowRunner by any name Beam runs it under (``dataflow``, ``DataflowRunner``, ``TestDataflowRunner``,
    in any case, with or without its module)."""
    return runner_name(options).rsplit(".", 1)[-1].lower().removesuffix("runner") in ("dataflow", "testdataflow")


def is_flink(options: PipelineOptions) -> bool:
    """FlinkRunner, or Beam's PortableRunner in front of a Flink job server (named by --flink_master or
    --flink_rest_url)."""
    runner = runner_name(options).rsplit(".", 1)[-1].lower()
    master = options.view_as(FlinkRunnerOptions).flink_master or "[auto]"
    named = not master.startswith("[") or bool(options.view_as(FlinkRestOptions).flink_rest_url)
    return runner.startswith("flink") or (runner.startswith("portable") and named)


def flink_rest_address(options: PipelineOptions) -> str | None:
    """Where this driver reaches the REST API of the Flink session cluster its job runs on: --flink_rest_url, else
    --flink_master; None where the job ends with the driver (other runners, Flink's embedded [local]/[auto])."""
    if not is_flink(options):
        return None
    given = options.view_as(FlinkRestOptions).flink_rest_url
    if given:
        return given
    master = options.view_as(FlinkRunnerOptions).flink_master or "[auto]"
    return None if master.startswith("[") else master


def check_runner_name(options: PipelineOptions) -> None:
    """An unknown ``--runner`` is a typo to name now, not a pipeline failure later."""
    runner = options.view_as(StandardOptions).runner
    if runner is None or not isinstance(runner, str):
        return
    known = {name.lower(): name for name in StandardOptions.KNOWN_RUNNER_NAMES}
    if runner.lower() in known or f"{runner.lower()}runner" in known:
        return
    if "." in runner:
        module, _, name = runner.rpartition(".")
        try:
            if hasattr(importlib.import_module(module), name):
                return
        except ImportError:
            pass
    close = difflib.get_close_matches(runner, list(known.values()), n=1, cutoff=0.8)
    hint = f"did you mean {close[0]}? " if close else ""
    raise RunnerOptionsError(f"unknown runner --runner={runner}: {hint}known runners are "
                             f"{', '.join(sorted(set(known.values())))}, or a runner class's full dotted name")


DIRECT_RUNNER_NAMES = ("direct", "directrunner")


def direct_batch_runner(options: PipelineOptions) -> PipelineRunner | None:
    """For a batch job on the DirectRunner (the default): Beam's FnApiRunner, made as the DirectRunner makes
    it (with the options its workers are given); None for any other runner, which Beam makes from ``--runner``.

    Beam's DirectRunner first tries Prism: where a Prism release can be downloaded from GitHub the build runs
    there (and ``--direct_num_workers``/``--direct_running_mode`` mean nothing), and where it cannot, every
    run pays a failed download and a job server started for nothing (0.15 CPU s, temp folders) before Beam
    falls back to this runner. A build's pipeline has nothing the FnApiRunner cannot run (no streaming
    source, no TestStream, no real-time timers), so the fallback is where it always ends up offline."""
    runner = options.view_as(StandardOptions).runner
    if runner is not None and (not isinstance(runner, str) or runner.lower() not in DIRECT_RUNNER_NAMES):
        return None
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle

    from beam_jobs.forked_workers import LocalRunner

    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    return LocalRunner(provision_info=fn_runner.ExtendedProvisionInfo(
        beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)))


def check_runner_options(options: PipelineOptions, inputs: list[InputFile], output: str, dry_run: bool) -> None:
    if not is_dataflow(options):
        return
    local = [f.url for f in inputs if "://" not in f.url]
    if local:
        raise RunnerOptionsError(
            f"{DATAFLOW} workers cannot read local files ({len(local)} inputs, e.g. {local[0]}); "
            "use gs://, s3://, https:// or a crawl: source")
    if "://" not in output:
        raise RunnerOptionsError(f"{DATAFLOW} workers cannot write the local directory {output}; use a gs:// --output")
    gcp = options.view_as(GoogleCloudOptions)
    for name in ("project", "region", "temp_location"):
        if not getattr(gcp, name):
            raise RunnerOptionsError(f"{DATAFLOW} needs --{name}")
    if not gcp.temp_location.startswith("gs://"):  # else Beam tries to create a default bucket
        raise RunnerOptionsError(f"{DATAFLOW} needs a gs:// --temp_location, not {gcp.temp_location}")
    setup = options.view_as(SetupOptions)
    if not (options.view_as(WorkerOptions).sdk_container_image or setup.setup_file or setup.extra_packages):
        raise RunnerOptionsError(
            f"{DATAFLOW} workers need warcforge installed: pass --sdk_container_image=IMAGE built from "
            "deploy/docker/Dockerfile (or --extra_package with a warcforge wheel)")


def dry_run_report(options: PipelineOptions, proto_pipeline: object, inputs: list[InputFile]) -> dict:
    """What a dry run built: the job's identity, its worker images and its top-level stages."""
    gcp = options.view_as(GoogleCloudOptions)
    components = proto_pipeline.components
    images = sorted({beam_runner_api_pb2.DockerPayload.FromString(env.payload).container_image
                     for env in components.environments.values() if env.urn == common_urns.environments.DOCKER.urn})
    roots = set(proto_pipeline.root_transform_ids)
    stages = [components.transforms[t].unique_name for root in roots for t in components.transforms[root].subtransforms]
    return {
        "runner": runner_name(options),
        "job_name": gcp.job_name,
        "project": gcp.project,
        "region": gcp.region,
        "temp_location": gcp.temp_location,
        "worker_images": images,
        "stages": stages,
        "transforms": len(components.transforms),
        "inputs": len(inputs),
    }
