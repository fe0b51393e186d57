"""The build job: ``warcforge build`` and ``python -m beam_jobs.build`` (for cluster launchers).

Unknown flags are Beam pipeline options (``--runner``, ``--direct_num_workers``, ...).
"""

import gc
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import apache_beam as beam
import fsspec
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions, TestOptions
from apache_beam.runners.runner import PipelineResult, PipelineState

from beam_jobs.build_args import UsageError, parse_build_args
from beam_jobs.command import RunFailedError, collector_on, exit_process, run_command
from beam_jobs.dataset_card import dataset_card
from beam_jobs.flink_jobs import earlier_cluster_jobs, name_cluster_job
from beam_jobs.forked_workers import allow_forks_in_this_process
from beam_jobs.interrupts import Interrupts
from beam_jobs.job_options import JobOptions
from beam_jobs.lock import (
    LOCK_FILE,
    Lock,
    LockDriftError,
    drift_message,
    lock_differences,
    locked_inputs,
    make_lock,
    read_lock,
)
from beam_jobs.pipeline import (
    FAILED_SHARDS_LIST,
    FILE_LIST,
    assemble,
    cross_crawl_settings,
    filter_settings,
    read_settings,
)
from beam_jobs.plan import build_plan, format_plan
from beam_jobs.progress import ProgressDisplay, resolve_mode
from beam_jobs.recipe import Recipe, load_recipe
from beam_jobs.run_report import build_manifest, collect_counts, format_summary, pointer_manifest
from beam_jobs.runners import (
    check_runner_name,
    check_runner_options,
    direct_batch_runner,
    dry_run_report,
    is_dataflow,
    runner_name,
)
from beam_jobs.scratch import temp_files_in_scratch_dir
from beam_jobs.unfinished_job import stop_unfinished_job
from transforms.common import reasons
from transforms.common.errors import MissingInputError, RecipeError
from transforms.common.progress import PROGRESS_DIR_VARIABLE, process_tally, read_progress
from transforms.common.secrets import redact_argv, redact_options, redact_text
from transforms.filters.url_filter import load_list
from transforms.reading.sources import InputFile, resolve_inputs
from transforms.writing.lease import DEFAULT_TTL_S, Holder
from transforms.writing.output_dir import BuildSession, OutputDir
from transforms.writing.publish import dumps_json
from transforms.writing.stage import write_bytes

INPUT_LIST = "inputs.json"
REPORT_FILE = "report.html"
LEASE_TTL_VARIABLE = "WARCFORGE_LEASE_TTL_S"
log = logging.getLogger("warcforge")


def show_progress(quiet: bool) -> None:
    """Progress lines (one per file read) on stderr, from warcforge's loggers only: Beam's stay as Beam sets them.
    Under a progress bar (``quiet``) only warnings: the bar says it better, and lines would tear it."""
    logger = logging.getLogger("warcforge")
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("warcforge: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


@dataclass(frozen=True)
class BuildRequest:
    """One dataset to build: the recipe, where it came from, where it goes, and how it runs."""

    recipe: Recipe
    config: str  # where the recipe was read from: logged and kept in run_info.json
    output: str
    overwrite: bool
    options: PipelineOptions
    argv: list[str]
    dry_run: bool = False
    # refresh.cross_crawl_dedup: the earlier crawls compared with ({"crawl", "manifest_sha256"}), and
    # their index files; None when the recipe does not ask for it.
    earlier_crawls: tuple[dict, ...] | None = None
    earlier_index_files: tuple[str, ...] = ()
    progress: str = "none"  # the display while the pipeline runs: bar, log or none (resolved from --progress)
    lock: Lock | None = None  # build --lock: the inputs are the lock's, checked against it before any work
    allow_drift: bool = False
    input_root: str | None = None  # with a lock: where its files lie now


@temp_files_in_scratch_dir()
def run_build(argv: list[str], interrupts: Interrupts | None = None) -> dict:
    """Run the job; returns the manifest. Raises WarcforgeError for anything the user must fix."""
    args, beam_args = parse_build_args(argv)
    progress = resolve_mode(args.progress, args.quiet)
    show_progress(args.quiet or progress == "bar")
    lock = None
    if args.lock:
        if args.input:
            raise UsageError("--input replaces a recipe's inputs, and a lock names its own; with --lock, "
                             "--input-root says where the locked files lie now")
        lock = read_lock(args.lock)
        recipe = lock.recipe()
    else:
        if args.allow_drift:
            raise UsageError("--allow-drift goes with --lock")
        recipe = load_recipe(args.config)
        if args.input:
            recipe = recipe.with_inputs(args.input, args.input_root)
        elif args.input_root:
            raise UsageError("--input-root names the folder --input files are recorded relative to; give --input too")
    if recipe.input.paths is None and recipe.input.crawl is None:
        raise RecipeError(f"recipe {args.lock or args.config} is a refresh recipe (its refresh section picks the "
                          "crawls): run 'warcforge refresh', or give input.crawl or --input to build one source")
    if args.pointers:
        recipe = recipe.with_output_format("pointers")
    if recipe.output.format == "pointers" and lock is None:
        # A pointer dataset always carries its lock: it is how its records are found and rebuilt.
        made = make_lock(recipe.with_output_format("parquet"))
        lock = Lock(made, dumps_json(made), "made by this build")
    options = JobOptions(beam_args)
    check_runner_name(options)
    request = BuildRequest(recipe, args.lock or args.config, args.output, args.overwrite, options, argv, args.dry_run,
                           progress=progress, lock=lock, allow_drift=args.allow_drift,
                           input_root=args.input_root if lock else None)
    return build_dataset(request, interrupts)


def build_dataset(request: BuildRequest, interrupts: Interrupts | None = None) -> dict:
    """Build one dataset into ``request.output`` and publish it; returns its manifest."""
    started = time.time()
    output = OutputDir(request.output)
    if request.dry_run:
        inputs, _, _ = resolve_and_check_inputs(request)
        return dry_run(request.options, request.recipe, inputs, output)
    # The lease comes first: a second build into this output is refused before it does any work.
    holder = Holder.of_this_process("warcforge build", float(os.environ.get(LEASE_TTL_VARIABLE, DEFAULT_TTL_S)))
    with output.open(request.overwrite, holder) as session:
        for line in session.repaired:
            log.info("output: %s", line)
        inputs, input_list, drift = resolve_and_check_inputs(request)
        manifest = build_and_publish(request, inputs, input_list, drift, session, started,
                                     interrupts or Interrupts(verbose=True))
    print(format_summary(manifest, request.output, time.time() - started), flush=True)
    return manifest


def resolve_and_check_inputs(request: BuildRequest) -> tuple[list[InputFile], list[dict], list[str]]:
    """Everything the run reads, resolved and checked before any record is read; with a lock, also
    how this machine differs from it (refused unless --allow-drift)."""
    recipe = request.recipe
    check_blocklists(recipe)
    drift: list[str] = []
    if request.lock is None:
        inputs = resolve_inputs(recipe.resolved_input(), read_settings(recipe).policy)
    else:
        inputs = locked_inputs(request.lock, recipe, request.input_root)
        drift, inputs = lock_differences(request.lock, recipe, inputs, request.input_root)
        if drift and not request.allow_drift:
            raise LockDriftError(drift_message(request.lock, drift))
        for line in drift:
            log.warning("drift from the lock (allowed, recorded in the manifest): %s", line)
    check_runner_options(request.options, inputs, request.output, request.dry_run)
    input_list = [{"url": redact_text(f.url), "warc_path": f.warc_path, "size": f.size}
                  | ({"root": f.root} if f.root else {}) for f in inputs]
    log.info(
        "build: %d input files (%.1f MB), recipe %s, output %s",
        len(inputs), sum(f.size or 0 for f in inputs) / 1e6, redact_text(request.config), redact_text(request.output),
    )
    return inputs, input_list, drift


def build_and_publish(request: BuildRequest, inputs: list[InputFile], input_list: list[dict], drift: list[str],
                      session: BuildSession, started: float, interrupts: Interrupts) -> dict:
    recipe, options = request.recipe, request.options
    cluster_job = name_cluster_job(options, "build")  # on a session cluster: cancelled if the build does not finish
    earlier = frozenset() if cluster_job is None else earlier_cluster_jobs(options, cluster_job, interrupts.stderr)
    staging = session.new_staging()
    finished = False  # the pipeline's job ended: nothing of it is left to cancel (and a name given may be reused)
    submitted: list[PipelineResult] = []  # the runner took the job: if it is not on the cluster, say so
    try:
        # The resolved input list is fixed before any record is read, and kept with the run.
        write_bytes(f"{staging}/{INPUT_LIST}", dumps_json(input_list))
        pipeline = beam.Pipeline(runner=direct_batch_runner(options), options=options)
        cross_crawl = cross_crawl_settings(recipe, list(request.earlier_index_files))
        pointers = recipe.output.format == "pointers"
        assemble(pipeline, recipe, inputs, staging, cross_crawl, pointers)
        # What this process holds by now (Python, Beam, the graph) lives to the end of the build: frozen, the
        # collector's full passes skip it while in-process workers extract pages and while the report is
        # drawn (see settle_heap); after the build it can be collected again.
        gc.freeze()
        state, result = run_with_progress(pipeline, request.progress, inputs, submitted)
        finished = True
        if state != PipelineState.DONE:
            raise RunFailedError(f"pipeline ended in state {state}; nothing was published")
        counts = collect_counts(result)
        files = _read_json(f"{staging}/{FILE_LIST}")
        failed = _read_json(f"{staging}/{FAILED_SHARDS_LIST}")
        compared = None if cross_crawl is None else {"mode": cross_crawl.mode,
                                                     "against": list(request.earlier_crawls or ())}
        lock_sha256 = None if request.lock is None else request.lock.sha256
        if pointers:
            full_counts = {stage: by for stage, by in counts.items() if stage != reasons.POINTERS}
            full = build_manifest(recipe.with_output_format("parquet"), input_list, full_counts, files, failed,
                                  compared, lock_sha256, drift)
            manifest = pointer_manifest(full, recipe.with_output_format("pointers"), counts, files)
        else:
            manifest = build_manifest(recipe, input_list, counts, files, failed, compared, lock_sha256, drift)
        ended = time.time()
        run_info = {
            "started_at": _iso(started),
            "finished_at": _iso(ended),
            "seconds": round(ended - started, 3),
            # run_info.json is published with the data: no credential handed to the run goes into it.
            "recipe_path": redact_text(request.config),
            "output": redact_text(request.output),
            "argv": redact_argv(request.argv),
            "pipeline_options": redact_options(options.get_all_options(drop_default=True)),
            # Time each stage spent on its own work, summed over workers (not part of the dataset: it varies).
            "stage_seconds": stage_seconds(result),
        }
        # stats.json names the manifest it goes with: a manifest edited later no longer matches (warcforge verify).
        stats = {"counts": counts, "documents": manifest["documents"], "dead_letters": manifest["dead_letters"],
                 "manifest_sha256": hashlib.sha256(dumps_json(manifest)).hexdigest()}
        side_files = {"stats.json": stats, "run_info.json": run_info, INPUT_LIST: input_list,
                      "README.md": dataset_card(manifest).encode("utf-8")}  # bytes go as they are
        if request.lock is not None:
            side_files[LOCK_FILE] = request.lock.raw  # the dataset carries the lock it was built from
        report = run_report_html(staging, manifest, run_info)
        if report is not None:
            side_files[REPORT_FILE] = report
        with interrupts.held():  # a publish is short: let it finish rather than leave it to be repaired
            session.publish(staging, manifest, {name: obj if isinstance(obj, bytes) else dumps_json(obj)
                                                for name, obj in side_files.items()})
            interrupts.published = True
    except BaseException:
        try:
            if not finished:  # before staging goes: its job would write on there
                interrupts.left_behind = stop_unfinished_job(options, cluster_job, submitted[0] if submitted else None,
                                                             redact_text(staging), interrupts.current_stderr(), earlier)
        finally:
            session.discard(staging)
        raise
    finally:
        gc.unfreeze()
    return manifest


def run_report_html(staging: str, manifest: dict, run_info: dict) -> bytes | None:
    """report.html, drawn from the staged files; a report that cannot be drawn is a warning, not a failed build."""
    from beam_jobs.report import render_report  # plotly: loaded only once there is something to draw

    try:
        return render_report(staging, manifest, run_info).encode("utf-8")
    except Exception as exc:  # noqa: BLE001 - the dataset is what was asked for; the report is a view of it
        log.warning("report.html was not written: %s: %s", type(exc).__name__, exc)
        return None


def run_with_progress(pipeline: beam.Pipeline, mode: str, inputs: list[InputFile],
                      running: list[PipelineResult] | None = None) -> tuple[str, PipelineResult]:
    """Run the pipeline while the progress display shows what the workers report: through the progress
    folder from workers on this machine (the DirectRunner answers only at the end), else from the
    runner's metrics while it runs (a cluster's runner returns at once and is waited for here). The result
    goes into ``running`` as soon as the runner has taken the job."""
    folder = tempfile.mkdtemp(prefix="warcforge-progress-")
    if mode != "none":  # without a display the workers keep no tally
        os.environ[PROGRESS_DIR_VARIABLE] = folder  # worker processes started from here inherit it
    running = [] if running is None else running

    def counts() -> dict[str, int]:
        found = read_progress(folder)
        if not found and running:
            found = runner_counts(running[0])
        return found

    total_bytes = sum(f.size or 0 for f in inputs) if all(f.size is not None for f in inputs) else None
    try:
        with ProgressDisplay(mode, len(inputs), total_bytes, counts):
            result = pipeline.run()
            running.append(result)
            state = result.wait_until_finish()
            tally = process_tally()  # in-process workers' last counts, for the display's last figures
            if tally is not None:
                tally.flush()
            return state, result
    finally:
        os.environ.pop(PROGRESS_DIR_VARIABLE, None)
        shutil.rmtree(folder, ignore_errors=True)


def stage_seconds(result: PipelineResult) -> dict[str, float]:
    found = {}
    for counter in result.metrics().query(MetricsFilter().with_namespace(reasons.PROGRESS))["counters"]:
        name = counter.key.metric.name
        if name.endswith("_usec"):
            value = counter.committed if counter.committed is not None else counter.attempted
            found[name.removesuffix("_usec")] = found.get(name.removesuffix("_usec"), 0) + (value or 0) / 1e6
    return {stage: round(seconds, 3) for stage, seconds in sorted(found.items())}


def runner_counts(result: PipelineResult) -> dict[str, int]:
    """{"stage/reason": n} from a running job's metrics (attempted: committed ones come at the end)."""
    try:
        counters = result.metrics().query(MetricsFilter())["counters"]
    except Exception:  # noqa: BLE001 - a runner that cannot answer yet leaves the display as it is
        return {}
    finally:
        if hasattr(result, "_metrics"):
            # Beam's portable result keeps the first answer it gets: a running job's partial counts
            # must not become the finished job's (the manifest is made from those).
            result._metrics = None
    found: dict[str, int] = {}
    for counter in counters:
        key = f"{counter.key.metric.namespace}/{counter.key.metric.name}"
        value = counter.attempted if counter.attempted is not None else counter.committed
        found[key] = found.get(key, 0) + int(value or 0)
    return found


def dry_run(options: PipelineOptions, recipe: Recipe, inputs: list, output: OutputDir) -> dict:
    """The plan (files, bytes, stages, shards, core-hours) for every runner; for Dataflow also the job, built
    without submitting it: Beam's runner translates and checks the whole graph."""
    plan = build_plan(recipe, inputs, runner_name(options))
    print(format_plan(plan), flush=True)
    if not is_dataflow(options):
        return {"dry_run": {"plan": plan}, "documents": None, "failed_shards": []}
    options.view_as(TestOptions).dry_run = True
    pipeline = beam.Pipeline(options=options)
    assemble(pipeline, recipe, inputs, f"{output.url.rstrip('/')}/.warcforge-staging-dry-run")
    pipeline.run()
    report = dry_run_report(options, pipeline.runner.proto_pipeline, inputs)
    print(f"dry run: {report['runner']} job {report['job_name']} for project {report['project']} in "
          f"{report['region']}: {report['transforms']} transforms, {report['inputs']} input files, workers "
          f"{', '.join(report['worker_images'])}; nothing was submitted, read or written\n"
          f"stages: {', '.join(report['stages'])}", flush=True)
    return {"dry_run": {**report, "plan": plan}, "documents": None, "failed_shards": []}


def check_blocklists(recipe: Recipe) -> None:
    """Load the URL lists once before any work, so a missing list stops the run with its name."""
    lists = filter_settings(recipe).url
    if lists is None:
        return
    for location in (*lists.domains, *lists.urls, *lists.words, *lists.subwords):
        try:
            load_list(location)
        except (OSError, ValueError) as exc:
            raise MissingInputError(f"blocklist {location} cannot be read: {exc}") from None


def _read_json(url: str) -> list:
    with fsspec.open(url, "rb") as stream:
        return json.load(stream)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="seconds")


def main(argv: list[str] | None = None) -> int:
    return run_command(run_build, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    collector_on()
    allow_forks_in_this_process()
    exit_process(main())
