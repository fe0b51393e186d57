"""The build job: ``warcforge build`` and ``python -m beam_jobs.build`` (for cluster launchers).

Unknown flags are Beam pipeline options (``--runner``, ``--direct_num_workers``, ...).
"""

import argparse
import json
import logging
import sys
import time
from datetime import datetime, timezone

import apache_beam as beam
import fsspec
from apache_beam.options.pipeline_options import PipelineOptions, TestOptions
from apache_beam.runners.runner import PipelineState

from beam_jobs.pipeline import FAILED_SHARDS_LIST, FILE_LIST, assemble, filter_settings, read_settings
from beam_jobs.recipe import Recipe, load_recipe
from beam_jobs.run_report import build_manifest, collect_counts, format_summary
from beam_jobs.runners import check_runner_options, dry_run_report
from transforms.common.errors import MissingInputError, WarcforgeError
from transforms.filters.url_filter import load_list
from transforms.reading.sources import resolve_inputs
from transforms.reading.stage import ShardFailedError
from transforms.writing.publish import OutputDir, dumps_json
from transforms.writing.stage import write_bytes

EXIT_USAGE = 2
EXIT_FAILED = 1
EXIT_FAILED_SHARDS = 3  # published, but some files could not be read (read.on_shard_failure: skip)
INPUT_LIST = "inputs.json"


class RunFailedError(WarcforgeError):
    """The pipeline did not finish successfully; nothing was published."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warcforge build",
        description="Turn WARC/WET/ARC shards into deduplicated, deterministic Parquet training shards. "
        "Flags not listed here are passed to Beam as pipeline options.",
    )
    parser.add_argument("--config", required=True, help="recipe YAML file, e.g. configs/sample.yaml")
    parser.add_argument("--output", required=True, help="output directory (local path or fsspec URL)")
    parser.add_argument(
        "--input", action="append", metavar="PATH_OR_URL",
        help="input file, glob or URL; repeatable; replaces the recipe's input.paths",
    )
    parser.add_argument(
        "--overwrite", action="store_true",
        help="replace an existing warcforge output in --output (default: refuse a non-empty directory)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines, only the summary and errors")
    parser.add_argument(
        "--dry-run", action="store_true",
        help="DataflowRunner only: build and check the job graph, print it, and stop; nothing is submitted, "
        "read or written",
    )
    return parser


def show_progress(quiet: bool) -> None:
    """Progress lines (one per file read) on stderr, from warcforge's loggers only: Beam's stay as Beam sets them."""
    logger = logging.getLogger("warcforge")
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("warcforge: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


def run_build(argv: list[str]) -> dict:
    """Run the job; returns the manifest. Raises WarcforgeError for anything the user must fix."""
    args, beam_args = build_parser().parse_known_args(argv)
    show_progress(args.quiet)
    started = time.time()
    recipe = load_recipe(args.config)
    if args.input:
        recipe = recipe.with_inputs(args.input)
    options = PipelineOptions(beam_args)
    output = OutputDir(args.output)
    if not args.dry_run:
        output.check_writable(args.overwrite)
    check_blocklists(recipe)
    inputs = resolve_inputs(recipe.input, read_settings(recipe).policy)
    check_runner_options(options, inputs, args.output, args.dry_run)
    input_list = [{"url": f.url, "warc_path": f.warc_path, "size": f.size} for f in inputs]
    logging.getLogger("warcforge").info(
        "build: %d input files (%.1f MB), recipe %s, output %s",
        len(inputs), sum(f.size or 0 for f in inputs) / 1e6, args.config, args.output,
    )
    if args.dry_run:
        return dry_run(options, recipe, inputs, output)

    staging = output.new_staging()
    try:
        # The resolved input list is fixed before any record is read, and kept with the run.
        write_bytes(f"{staging}/{INPUT_LIST}", dumps_json(input_list))
        pipeline = beam.Pipeline(options=options)
        assemble(pipeline, recipe, inputs, staging)
        result = pipeline.run()
        state = result.wait_until_finish()
        if state != PipelineState.DONE:
            raise RunFailedError(f"pipeline ended in state {state}; nothing was published")
        counts = collect_counts(result)
        files = _read_json(f"{staging}/{FILE_LIST}")
        failed = _read_json(f"{staging}/{FAILED_SHARDS_LIST}")
        manifest = build_manifest(recipe, input_list, counts, files, failed)
        finished = time.time()
        run_info = {
            "started_at": _iso(started),
            "finished_at": _iso(finished),
            "seconds": round(finished - started, 3),
            "recipe_path": args.config,
            "output": args.output,
            "argv": argv,
            "pipeline_options": options.get_all_options(drop_default=True),
        }
        stats = {"counts": counts, "documents": manifest["documents"], "dead_letters": manifest["dead_letters"]}
        output.publish(
            staging,
            [f["path"] for f in files] + [INPUT_LIST],
            {"stats.json": stats, "run_info.json": run_info},
            manifest,
            args.overwrite,
        )
    except BaseException:
        output.discard(staging)
        raise
    print(format_summary(manifest, args.output, time.time() - started), flush=True)
    return manifest


def dry_run(options: PipelineOptions, recipe: Recipe, inputs: list, output: OutputDir) -> dict:
    """Build the Dataflow job without submitting it: Beam's runner translates and checks the whole graph."""
    options.view_as(TestOptions).dry_run = True
    pipeline = beam.Pipeline(options=options)
    assemble(pipeline, recipe, inputs, output.staging_url())
    pipeline.run()
    report = dry_run_report(options, pipeline.runner.proto_pipeline, inputs)
    print(f"dry run: {report['runner']} job {report['job_name']} for project {report['project']} in "
          f"{report['region']}: {report['transforms']} transforms, {report['inputs']} input files, workers "
          f"{', '.join(report['worker_images'])}; nothing was submitted, read or written\n"
          f"stages: {', '.join(report['stages'])}", flush=True)
    return {"dry_run": report, "failed_shards": []}


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
    try:
        manifest = run_build(sys.argv[1:] if argv is None else argv)
    except WarcforgeError as exc:
        print(f"warcforge: error: {exc}", file=sys.stderr)
        return EXIT_FAILED if isinstance(exc, RunFailedError) else EXIT_USAGE
    except ShardFailedError as exc:
        print(f"warcforge: error: {exc}; nothing was published (read.on_shard_failure: fail)", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # a runner wraps worker errors in its own types: name the cause, not a trace
        cause = str(exc).strip().splitlines()
        shard_failure = next((line for line in cause if "shard failed:" in line), None)
        print(f"warcforge: error: pipeline failed: {shard_failure or (cause[0] if cause else type(exc).__name__)};"
              " nothing was published", file=sys.stderr)
        return EXIT_FAILED
    if manifest["failed_shards"]:
        print(f"warcforge: {len(manifest['failed_shards'])} shards failed and were skipped; see failed_shards "
              "in manifest.json", file=sys.stderr)
        return EXIT_FAILED_SHARDS
    return 0


if __name__ == "__main__":
    sys.exit(main())
