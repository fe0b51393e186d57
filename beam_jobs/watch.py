"""``warcforge watch``: turn WARC files into published batches as they land (an unbounded Beam pipeline).

The recipe's ``watch`` section says where files land and how they are batched; everything else in
it applies to each batch as to a build. Locally the pipeline runs on Beam's Prism runner (built
once from Beam's Go module, see ``prism.py``); ``--runner=FlinkRunner`` or ``DataflowRunner`` run it
on a cluster in streaming mode. ``--once`` runs the same stages bounded: one pass over what has
arrived, published, then exit (on the DirectRunner by default), as a scheduled job would.

Ctrl-C or SIGTERM stops the watch cleanly: the job is cancelled, published batches stay as they
are, and the files of the batch in progress are read again at the next start (their claims say
so). Only one watch runs per root: it holds the root's lease.
"""

import argparse
import logging
import os
import signal
import sys
import threading
import time
import traceback

import apache_beam as beam
import fsspec
from apache_beam.options.pipeline_options import (
    GoogleCloudOptions,
    PipelineOptions,
    StandardOptions,
    TestOptions,
)

from beam_jobs import watch_options  # noqa: F401 - declares Flink's streaming options to Beam's parser
from beam_jobs.build_args import (
    EXIT_FAILED,
    EXIT_FAILED_SHARDS,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    parse_with_beam_options,
)
from beam_jobs.command import collector_on, exit_process
from beam_jobs.dataflow_jobs import JobLeftRunningError, cancel_dataflow_job, live_job_id, still_running
from beam_jobs.interrupts import job_status_decided
from beam_jobs.job_options import JobOptions
from beam_jobs.recipe import Recipe, load_recipe
from beam_jobs.run_report import package_versions, recorded_recipe
from beam_jobs.runners import (
    RunnerOptionsError,
    check_runner_name,
    dry_run_report,
    flink_rest_address,
    is_dataflow,
    is_flink,
    runner_name,
)
from beam_jobs.watch_pipeline import WatchPlan, assemble_watch, listed_arrivals, poll_arrivals
from transforms.common.batch_ledger import BatchEntry, BatchLedger
from transforms.common.errors import LeaseLostError, OutputExistsError, RecipeError, WarcforgeError
from transforms.common.fs_urls import is_local_fs, url_of
from transforms.common.secrets import redact_text
from transforms.reading.arrivals import GLOB_CHARS, STABLE_SIZE, WatchSource
from transforms.reading.poller import Poller, PollSettings
from transforms.writing.batch_publish import roll_forward
from transforms.writing.lease import DEFAULT_TTL_S, Holder, Lease, LeaseKeeper
from transforms.writing.publish import MANIFEST

LEASE_TTL_VARIABLE = "WARCFORGE_LEASE_TTL_S"
STOP_GRACE_S = 60.0
log = logging.getLogger("warcforge")


def watch_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warcforge watch", allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Follow where WARC files land (the recipe's watch section) and publish each batch window of "
        "new files under OUTPUT/batches/<window start>-<window end>/, listed in OUTPUT/ledger.json once "
        "complete. Runs until Ctrl-C or SIGTERM; other options are Beam's (--runner=FlinkRunner --streaming "
        "--checkpointing_interval=10000 ...).",
        epilog="examples:\n  warcforge watch --config configs/watch-folder.yaml --output /data/news-stream\n"
        "  warcforge watch --config r.yaml --output gs://b/stream --once     # what has arrived, then exit\n"
        "  warcforge watch --config r.yaml --output s3://b/stream --runner=FlinkRunner "
        "--flink_master=host:8081 --checkpointing_interval=10000\n\n"
        "exit status: 0 stopped or done, 1 the pipeline failed, 2 a usage or recipe error, 3 (--once) files "
        "failed and were listed in their batch's failed_files")
    parser.add_argument("--config", required=True, help="the recipe (YAML) with a watch section")
    parser.add_argument("--output", required=True, help="ROOT: where batches/, ledger.json and _watch/ go")
    parser.add_argument("--once", action="store_true",
                        help="one pass: publish what has arrived (a second listing after poll_interval_s for "
                        "stable_size), then exit; bounded, on the DirectRunner unless --runner says otherwise")
    parser.add_argument("--dry-run", action="store_true",
                        help="check the recipe and options and build the job graph (DataflowRunner: the job as "
                        "Dataflow would get it); nothing is read, written or submitted")
    parser.add_argument("--stop_with_savepoint", metavar="DIR",
                        help="FlinkRunner: on Ctrl-C or SIGTERM take a savepoint into DIR before the job stops (start "
                        "the next watch from it with --savepoint_path=<the path printed>)")
    parser.add_argument("--verbose", action="store_true", help="tracebacks and Beam's own log lines")
    parser.add_argument("--quiet", action="store_true", help="only warnings and the last line")
    return parser


def watch_source(recipe: Recipe, output: str) -> WatchSource:
    w = recipe.watch
    fs, root_path = fsspec.core.url_to_fs(output)
    exclude = url_of(fs, os.path.abspath(root_path) if is_local_fs(fs) else root_path)
    if w.cc_news:
        return WatchSource(cc_news_base=recipe.resolve_path(recipe.input.base))
    patterns = tuple(recipe.resolve_path(p) for p in w.paths)
    for pattern in patterns:
        try:
            fsspec.core.url_to_fs(pattern)
        except (ValueError, ImportError) as exc:
            raise RecipeError(f"recipe key 'watch.paths': {redact_text(pattern)} cannot be read: {exc}") from None
    root = recipe.resolve_path(w.root) if w.root else static_folder(patterns[0])
    return WatchSource(patterns, redact_text(root), None, w.complete_when, w.marker_suffix, exclude)


def static_folder(pattern: str) -> str:
    """The folder part of a pattern before any wildcard, or the folder a pattern without one names
    (a file's folder): what warc_path is relative to by default. A folder that does not exist yet is
    still that folder, so names do not change once it does."""
    cut = min((pattern.index(c) for c in GLOB_CHARS if c in pattern), default=None)
    if cut is None:
        fs, path = fsspec.core.url_to_fs(pattern)
        try:
            is_file = fs.isfile(path)
        except OSError:
            is_file = False
        return pattern.rsplit("/", 1)[0] if is_file else pattern.rstrip("/")
    head = pattern[:cut]
    return head.rsplit("/", 1)[0] if "/" in head else head


def beam_args_for(args: argparse.Namespace, beam_args: list[str]) -> list[str]:
    """The runner: Prism for a local unbounded watch, the DirectRunner for --once; streaming for an
    unbounded watch on any runner."""
    given = JobOptions(beam_args)
    runner = given.view_as(StandardOptions).runner
    extra = []
    if runner is None:
        if args.once:
            extra.append("--runner=DirectRunner")
        else:
            runner = "PrismRunner"
            extra.append("--runner=PrismRunner")
    if runner and runner.rsplit(".", 1)[-1].lower().startswith("prism") and "--prism_location" not in " ".join(
            beam_args) and not args.dry_run:
        from beam_jobs.prism import prism_binary

        extra.append(f"--prism_location={prism_binary()}")
    if not args.once and not given.view_as(StandardOptions).streaming:
        extra.append("--streaming")
    if is_flink(given) and "--max_bundle_size" not in " ".join(beam_args):
        # Beam's Flink runner lets a stage's output watermark pass the elements of a bundle still open
        # (apache/beam#28649): a batch window then closes before all its documents reach it, and they are
        # dropped as late. One element per bundle closes each bundle before the watermark moves on.
        extra.append("--max_bundle_size=1")
    if is_flink(given) and not given.view_as(GoogleCloudOptions).job_name:
        # Named, so that a stop can find it on the cluster (flink_jobs.py).
        extra.append(f"--job_name=warcforge-watch-{int(time.time())}-{os.getpid()}")
    if args.stop_with_savepoint and not is_flink(given):
        raise UsageError("--stop_with_savepoint is for Flink: --runner=FlinkRunner, or PortableRunner with "
                         "--flink_master (or --flink_rest_url) naming the cluster's REST address")
    return [*beam_args, *extra]


def run_watch(argv: list[str], stop: threading.Event) -> dict:
    args, beam_args = parse_with_beam_options(watch_parser(), argv)
    show_lines(args.verbose, args.quiet)
    recipe = load_recipe(args.config)
    if recipe.watch is None:
        raise RecipeError(f"recipe {args.config} has no 'watch' section: say what to follow (watch.paths or "
                          "watch.cc_news: true); 'warcforge build' builds a fixed set of files")
    options = JobOptions(beam_args_for(args, beam_args))
    check_runner_name(options)
    w = recipe.watch
    settings = PollSettings(watch_source(recipe, args.output), _retry_policy(recipe), args.output.rstrip("/"),
                            w.batch_window_s, w.max_file_attempts, w.poll_interval_s)
    header = {"recipe": recorded_recipe(recipe), "build_sha256": recipe.build_digest(),
              "extractor": recipe.extract.extractor, "versions": package_versions()}
    if recipe.quality_rules():
        header["quality_rules"] = recipe.quality_rules()
    plan = WatchPlan(recipe, settings.root, settings, header, start_s=time.time())
    if args.dry_run:
        return dry_run(options, plan, args)
    fs, root = fsspec.core.url_to_fs(args.output)
    if fs.isfile(root):
        raise OutputExistsError(f"--output {args.output} is a file; a watch root is a folder")
    if is_local_fs(fs):
        fs.makedirs(root, exist_ok=True)
    if fs.exists(f"{root.rstrip('/')}/{MANIFEST}"):
        raise OutputExistsError(f"{args.output} holds a dataset ({MANIFEST}); a watch root holds batches/: choose "
                                "another --output")
    ledger = BatchLedger.at(args.output)
    ledger.read()  # a refresh root's ledger, or anything else, is refused here by name
    ttl = float(os.environ.get(LEASE_TTL_VARIABLE, DEFAULT_TTL_S))
    lease = Lease.acquire(fs, root, Holder.of_this_process("warcforge watch", ttl), args.output)
    try:
        with LeaseKeeper(lease) as keeper:
            # A job restored from a savepoint may still hold the files of an unpublished batch: keep them.
            restoring = bool(options.get_all_options().get("savepoint_path"))
            for line in roll_forward(args.output, remove_partial=not restoring):
                log.info("output: %s", line)
            before = ledger.read()
            pipeline = beam.Pipeline(options=options)
            if args.once:
                arrived = poll_once(settings, stop)
                if stop.is_set():
                    return summary(ledger, before, "CANCELLED", True)
                future = [at for _, at in arrived if at > time.time() * 1000]
                if future:
                    log.warning("the last batch published ends after now: this batch is named for a window still "
                                "to come (run --once at most once per batch_window_s to keep names in step)")
                if not arrived:
                    print(f"watch: nothing new under {redact_text(', '.join(settings.source.patterns) or 'CC-NEWS')}",
                          flush=True)
                    return {"batches": [], "failed_files": 0}
                assemble_watch(plan, listed_arrivals(pipeline, arrived))
            else:
                assemble_watch(plan, poll_arrivals(pipeline, plan))
            state = run_until_stopped(pipeline, ledger, before, stop, keeper, stopper(options, args))
            return summary(ledger, before, state, stop.is_set())
    finally:
        lease.release()


def poll_once(settings: PollSettings, stop: threading.Event) -> list:
    """--once: the files complete now; for stable_size, a second listing a poll interval later."""
    poller = Poller(settings)
    first = poller.poll(int(time.time() * 1000), None)
    arrived, given_up = list(first.arrived), set(first.given_up)
    if settings.source.complete_when == STABLE_SIZE and settings.source.cc_news_base is None:
        if stop.wait(settings.poll_interval_s):
            return []
        second = poller.poll(int(time.time() * 1000), first.state)
        arrived, given_up = arrived + second.arrived, given_up | set(second.given_up)
    for url in sorted(given_up):
        log.warning("not reading %s again: it failed %d times (watch.max_file_attempts)", url,
                    settings.max_file_attempts)
    return arrived


def stopper(options: PipelineOptions, args: argparse.Namespace):  # noqa: ANN201 - a callable, or None
    """How to end the job on the cluster, where Beam's cancel does not (Flink): None elsewhere."""
    if not is_flink(options) or args.once:
        return None
    from beam_jobs import flink_jobs

    address = flink_rest_address(options)
    if address is None:  # [local], [auto]: an embedded cluster, ended with the driver
        return None
    base = flink_jobs.rest_base(address)
    name = options.view_as(GoogleCloudOptions).job_name

    def stop_job() -> None:
        for jid in flink_jobs.live_jobs(base, name):
            if args.stop_with_savepoint:
                location = flink_jobs.stop_with_savepoint(base, jid, args.stop_with_savepoint)
                print(f"watch: savepoint {location} (start again from it with --savepoint_path={location})",
                      flush=True)
            else:
                flink_jobs.cancel(base, jid)
        if not flink_jobs.wait_ended(base, name):
            log.warning("watch: Flink job %s has not ended; cancel it on the cluster", name)

    return stop_job


def run_until_stopped(pipeline: beam.Pipeline, ledger: BatchLedger, before: dict[str, BatchEntry],
                      stop: threading.Event, keeper: LeaseKeeper, stop_job=None) -> str:  # noqa: ANN001
    """Run the job, printing each batch as it is published, until it ends or ``stop`` is set (then cancel)."""
    ours = signal.getsignal(signal.SIGINT)
    result = pipeline.run()
    # Beam's job server wrapper takes Ctrl-C to stop the runner at once; the watch cancels the job first.
    signal.signal(signal.SIGINT, ours)
    ended: list = []
    left_running: JobLeftRunningError | None = None  # a stop whose job could not be seen to end
    waiter = threading.Thread(target=lambda: ended.append(_wait(result)), daemon=True)
    waiter.start()
    shown = set(before)
    lost = None
    while waiter.is_alive():
        if stop.wait(1.0):
            break
        try:
            keeper.check()
        except WarcforgeError as exc:  # the lease is gone: another watch may write ROOT; this job must end
            lost = exc
            break
        shown = show_new_batches(ledger, shown)
    if waiter.is_alive():
        if lost is None:
            log.info("watch: stopping: cancelling the job")
        else:
            log.warning("watch: %s; cancelling the job", lost)
        quiet_teardown()
        if stop_job is not None:
            stop_job()  # before the driver's side goes: a LOOPBACK job's workers live in this process
        if (jid := live_job_id(result)) is not None:  # Dataflow runs a streaming job until it is cancelled
            if (problem := cancel_dataflow_job(result)) is not None:
                left_running = JobLeftRunningError(still_running(jid, pipeline.options, problem))
        else:
            try:
                result.cancel()
            except Exception as exc:  # noqa: BLE001 - a job that ended meanwhile cannot be cancelled
                log.debug("cancel: %s", exc)
        waiter.join(STOP_GRACE_S if left_running is None else 0)
    show_new_batches(ledger, shown)
    if lost is not None:
        if left_running is not None:  # the job may go on writing ROOT, which another watch may now hold
            print(f"warcforge: warning: {left_running}", file=ERR, flush=True)
        raise lost
    if left_running is not None:
        raise left_running
    outcome = ended[0] if ended else "RUNNING"
    if isinstance(outcome, BaseException):
        if stop.is_set():
            return "CANCELLED"
        raise outcome
    return str(outcome)


class BeamLines(logging.Filter):
    """Beam's and the runner's own log lines without --verbose: errors only, and none once the job is
    being cancelled (its gRPC streams then end with errors that are expected, not the user's concern)."""

    muted = False

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.muted and record.levelno >= logging.ERROR


BEAM_LINES = BeamLines()


def quiet_teardown() -> None:
    """Beam's SDK worker also prints a failed bundle's traceback straight to stderr: from here on file
    descriptor 2 goes to /dev/null, and warcforge's own lines to a copy of it."""
    global ERR
    if logging.getLogger("warcforge").level <= logging.DEBUG:
        return
    BEAM_LINES.muted = True
    threading.excepthook = lambda args: None
    try:
        sys.stderr.flush()
        ERR = os.fdopen(os.dup(2), "w", buffering=1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        return
    for handler in logging.getLogger("warcforge").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(ERR)


ERR = sys.stderr  # where warcforge's last lines go (a copy of stderr once Beam's are silenced)


def _wait(result: object) -> object:
    try:
        return result.wait_until_finish()
    except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which decides
        return exc


def show_new_batches(ledger: BatchLedger, shown: set[str]) -> set[str]:
    try:
        batches = ledger.read()
    except WarcforgeError:
        return shown
    for name in sorted(set(batches) - shown):
        entry = batches[name]
        failed = f", {len(entry.failed)} files failed" if entry.failed else ""
        print(f"watch: published batch {name}: {len(entry.files)} files, {entry.documents:,} documents, "
              f"{entry.seen_before:,} seen before{failed}; {entry.lag_s:.1f} s after its first file arrived",
              flush=True)
    return shown | set(batches)


def summary(ledger: BatchLedger, before: dict[str, BatchEntry], state: str, stopped: bool) -> dict:
    batches = ledger.read()
    new = {name: batches[name] for name in sorted(set(batches) - set(before))}
    failed = sum(len(e.failed) for e in new.values())
    documents = sum(e.documents for e in new.values())
    how = "stopped" if stopped else f"ended ({state.lower()})"
    print(f"watch: {how}: {len(new)} batches published in this run ({documents:,} documents, "
          f"{sum(len(e.files) for e in new.values())} files, {failed} failed files); {len(batches)} in "
          f"{redact_text(ledger.where)}", flush=True)
    if not stopped and state not in ("DONE", "PipelineState.DONE"):
        raise WarcforgeError(f"the watch pipeline ended in state {state}")
    return {"batches": list(new), "failed_files": failed}


def dry_run(options: PipelineOptions, plan: WatchPlan, args: argparse.Namespace) -> dict:
    source = plan.poll.source
    what = "CC-NEWS under " + source.cc_news_base if source.cc_news_base else ", ".join(source.patterns)
    print(f"watch plan: follow {redact_text(what)} every {plan.poll.poll_interval_s:g} s, batches of "
          f"{plan.poll.window_s} s into {redact_text(args.output)}/batches/, runner {runner_name(options)}",
          flush=True)
    if not is_dataflow(options):
        return {"dry_run": True, "batches": [], "failed_files": 0}
    if "://" not in args.output:
        raise RunnerOptionsError(f"DataflowRunner workers cannot write the local directory {args.output}; use a "
                                 "gs:// --output")
    if source.cc_news_base is None and any("://" not in p for p in source.patterns):
        raise RunnerOptionsError("DataflowRunner workers cannot list local folders; watch.paths must be gs://, "
                                 "s3:// or https:// URLs")
    from beam_jobs.runners import check_runner_options

    check_runner_options(options, [], args.output, True)
    options.view_as(TestOptions).dry_run = True
    pipeline = beam.Pipeline(options=options)
    assemble_watch(plan, poll_arrivals(pipeline, plan))
    pipeline.run()
    report = dry_run_report(options, pipeline.runner.proto_pipeline, [])
    streaming = options.view_as(StandardOptions).streaming
    print(f"dry run: {report['runner']} {'streaming' if streaming else 'batch'} job {report['job_name']} for "
          f"project {report['project']} in {report['region']}: {report['transforms']} transforms, workers "
          f"{', '.join(report['worker_images'])}; nothing was submitted, read or written\n"
          f"stages: {', '.join(report['stages'])}", flush=True)
    return {"dry_run": report | {"streaming": streaming}, "batches": [], "failed_files": 0}


def _retry_policy(recipe: Recipe):  # noqa: ANN202 - the reading stage's RetryPolicy
    from beam_jobs.pipeline import read_settings

    return read_settings(recipe).policy


def show_lines(verbose: bool, quiet: bool) -> None:
    logger = logging.getLogger("warcforge")
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("warcforge: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    if not verbose:  # Beam's own lines (it logs through the root logger's handlers) only with --verbose
        root = logging.getLogger()
        if not root.handlers:
            root.addHandler(logging.StreamHandler(sys.stderr))
        for handler in root.handlers:
            handler.addFilter(BEAM_LINES)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in argv
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        received.append(signum)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        outcome = run_watch(argv, stop)
    except WarcforgeError as exc:
        if verbose:
            traceback.print_exc()
        print(f"warcforge: error: {redact_text(str(exc))}", file=ERR)
        failed = isinstance(exc, LeaseLostError | JobLeftRunningError) or "ended in state" in str(exc)
        return EXIT_FAILED if failed else EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - a runner's own error types: one line, the trace with --verbose
        if verbose:
            traceback.print_exc()
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"warcforge: error: the watch pipeline failed: {redact_text(first)}", file=ERR)
        return EXIT_FAILED
    finally:
        job_status_decided()  # a signal from here on is ignored (beam_jobs.interrupts)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if received:
        name = "SIGINT" if received[0] == signal.SIGINT else "SIGTERM"
        print(f"warcforge: watch stopped ({name}); files not yet in a published batch are read at the next start",
              file=ERR, flush=True)
        return EXIT_OK
    return EXIT_FAILED_SHARDS if outcome.get("failed_files") else EXIT_OK


if __name__ == "__main__":
    collector_on()
    exit_process(main())
