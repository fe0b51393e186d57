"""``warcforge materialize POINTERS --output DIR``: a pointer dataset back to the dataset it points at.

A pointer dataset (``build --pointers``) holds, per document, where its record lies and what its
text hashes to, its lock, its dead letters (which hold no content) and the manifest the full build
wrote (``materializes``). Materialize fetches each record with Range requests (grouped by file, in
file order, through the build's retrying reader), re-runs extraction and the document-level steps
of the locked recipe, checks every text against its pointer, and writes the Parquet files. When
every file comes out as the full build's (same sha256), the manifest is that build's, byte for
byte. A record that cannot be fetched or does not match is listed in ``missing/`` and counted; the
dataset is then published as it came out, its manifest says what is missing, and the exit status is 4.
"""

import argparse
import hashlib
import json
import os
import sys
import time

import apache_beam as beam
import fsspec
from apache_beam.runners.runner import PipelineState

from beam_jobs.build import show_progress
from beam_jobs.build_args import EXIT_CODES, parse_with_beam_options
from beam_jobs.command import RunFailedError, collector_on, exit_process, run_command
from beam_jobs.dataset_card import dataset_card
from beam_jobs.flink_jobs import earlier_cluster_jobs, name_cluster_job
from beam_jobs.forked_workers import allow_forks_in_this_process
from beam_jobs.interrupts import Interrupts
from beam_jobs.job_options import JobOptions
from beam_jobs.lock import LOCK_FILE, LockDriftError, drift_message, lock_differences, locked_inputs, read_lock
from beam_jobs.materialize_pipeline import MISSING_DIR, assemble_materialize
from beam_jobs.pipeline import FILE_LIST
from beam_jobs.runners import check_runner_name, direct_batch_runner
from beam_jobs.scratch import temp_files_in_scratch_dir
from beam_jobs.unfinished_job import stop_unfinished_job
from transforms.common import reasons
from transforms.common.errors import MissingInputError, WarcforgeError
from transforms.common.secrets import redact_argv, redact_options, redact_text
from transforms.writing.dataset_check import check_dataset
from transforms.writing.lease import DEFAULT_TTL_S, Holder
from transforms.writing.output_dir import OutputDir
from transforms.writing.publish import MANIFEST, dumps_json, is_manifest
from transforms.writing.stage import write_bytes

POINTER_SECTIONS = ("pointers", "rejected_pointers")


class NotAPointerDatasetError(WarcforgeError):
    """The folder given to materialize holds no pointer dataset."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warcforge materialize", allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Fetch the records a pointer dataset names and rebuild the documents it points at, checked "
        "against each pointer's text sha256. Beam pipeline options are accepted too.",
        epilog=f"""examples:
  warcforge materialize pointers/ --output out/
  warcforge materialize s3://bucket/pointers --output out/ --input-root /mirror/commoncrawl
  (a pointer dataset is what 'warcforge build --config recipe.yaml --output pointers/ --pointers' writes)

{EXIT_CODES}""")
    parser.add_argument("pointers", metavar="POINTERS", help="a pointer dataset (build --pointers): folder or URL")
    parser.add_argument("--output", required=True, help="output directory (local path or fsspec URL)")
    parser.add_argument("--input-root", metavar="FOLDER_OR_URL",
                        help="where the pointed files lie (a mirror, a local copy): a crawl's base, or the folder "
                        "the files were locked in; default: where the lock says")
    parser.add_argument("--allow-drift", action="store_true",
                        help="run even if installed package versions or URL lists differ from the lock")
    parser.add_argument("--overwrite", action="store_true", help="replace the warcforge dataset in --output")
    parser.add_argument("--quiet", action="store_true", help="no progress lines, only the summary and errors")
    parser.add_argument("--verbose", action="store_true", help="on failure, print the whole traceback")
    return parser


def read_pointer_manifest(location: str) -> dict:
    url = f"{location.rstrip('/')}/{MANIFEST}"
    try:
        with fsspec.open(url, "rb") as stream:
            manifest = json.load(stream)
    except FileNotFoundError:
        raise NotAPointerDatasetError(
            f"{redact_text(location)} holds no manifest.json: not a pointer dataset") from None
    except (OSError, ValueError) as exc:
        raise NotAPointerDatasetError(f"{redact_text(url)} cannot be read ({exc})") from None
    if not is_manifest(manifest) or "pointers" not in manifest["files"] or not is_manifest(
            manifest.get("materializes")):
        raise NotAPointerDatasetError(f"{redact_text(location)} is a dataset, not a pointer dataset "
                                      "(build one with 'warcforge build --pointers')")
    return manifest


def check_pointer_dataset(location: str) -> None:
    """Every pointer, dead-letter and lock file as its manifest says (sha256, rows, schema, the lock's
    digest): a damaged pointer dataset would rebuild another dataset, so it is refused before any fetch."""
    fs, root = fsspec.core.url_to_fs(location)
    problems = check_dataset(fs, root).problems
    if problems:
        more = f" (and {len(problems) - 1} more; 'warcforge verify' lists them)" if len(problems) > 1 else ""
        raise NotAPointerDatasetError(f"{redact_text(location)} does not match its manifest: "
                                      f"{redact_text(problems[0])}{more}")


@temp_files_in_scratch_dir()
def run_materialize(argv: list[str], interrupts: Interrupts | None = None) -> dict:
    args, beam_args = parse_with_beam_options(build_parser(), argv)
    show_progress(args.quiet)
    started = time.time()
    source = args.pointers.rstrip("/")
    pointed = read_pointer_manifest(source)
    check_pointer_dataset(source)
    lock = read_lock(f"{source}/{LOCK_FILE}")
    recipe = lock.recipe()
    drift, _ = lock_differences(lock, recipe, None, args.input_root)
    if drift and not args.allow_drift:
        raise LockDriftError(drift_message(lock, drift))
    urls = {f.warc_path: f.url for f in locked_inputs(lock, recipe, args.input_root)}
    options = JobOptions(beam_args)
    check_runner_name(options)
    full = pointed["materializes"]
    holder = Holder.of_this_process("warcforge materialize", float(os.environ.get("WARCFORGE_LEASE_TTL_S",
                                                                                   DEFAULT_TTL_S)))
    with OutputDir(args.output).open(args.overwrite, holder) as session:
        cluster_job = name_cluster_job(options, "materialize")  # cancelled if this does not finish (flink_jobs)
        err = interrupts.current_stderr() if interrupts else sys.stderr
        earlier = frozenset() if cluster_job is None else earlier_cluster_jobs(options, cluster_job, err)
        staging = session.new_staging()
        finished = False  # the pipeline's job ended: nothing of it is left to cancel
        result = None  # once the runner took the job: if it is not on the cluster, say so
        try:
            for entry in full["files"]["dead_letter"]:  # no content: carried by the pointer dataset as they are
                write_bytes(f"{staging}/{entry['path']}", _read(f"{source}/{entry['path']}"))
            pointer_files = [f"{source}/{f['path']}" for section in POINTER_SECTIONS
                             for f in pointed["files"].get(section, [])]
            pipeline = beam.Pipeline(runner=direct_batch_runner(options), options=options)
            assemble_materialize(pipeline, recipe, pointer_files, urls, staging,
                                 rejected_shards=len(full["files"]["rejected"]))
            result = pipeline.run()
            state = result.wait_until_finish()
            finished = True
            if state != PipelineState.DONE:
                raise RunFailedError("the materialize pipeline did not finish; nothing was published")
            counts = _counts(result)
            produced = json.loads(_read(f"{staging}/{FILE_LIST}"))
            manifest = _manifest(full, produced, counts)
            run_info = {"pointers": redact_text(source), "output": redact_text(args.output),
                        "argv": redact_argv(argv), "drift": drift, "seconds": round(time.time() - started, 3),
                        "pipeline_options": redact_options(options.get_all_options(drop_default=True))}
            # The build's totals, as every dataset's stats.json repeats them, and this run's fetch counts.
            stats = {"counts": manifest["counts"], "documents": manifest["documents"],
                     "dead_letters": manifest["dead_letters"], "materialize": counts,
                     "manifest_sha256": hashlib.sha256(dumps_json(manifest)).hexdigest()}
            side_files = {"stats.json": dumps_json(stats), "run_info.json": dumps_json(run_info),
                          "README.md": dataset_card(manifest).encode("utf-8"), LOCK_FILE: lock.raw}
            with (interrupts or Interrupts(verbose=True)).held():
                session.publish(staging, manifest, side_files)
                if interrupts is not None:
                    interrupts.published = True
        except BaseException:
            try:
                if not finished:  # before staging goes: its job would write on there
                    left = stop_unfinished_job(options, cluster_job, result, redact_text(staging), err, earlier)
                    if interrupts is not None:
                        interrupts.left_behind = left
            finally:
                session.discard(staging)
            raise
    missing = manifest.get("materialized", {}).get("missing", 0)
    print(f"warcforge materialize: {manifest['documents']:,} documents from {counts.get('records_fetched', 0):,} "
          f"records fetched; {missing:,} missing; output {redact_text(args.output)} in "
          f"{time.time() - started:,.1f} s", flush=True)
    # Anything but the full build's own manifest is not what was asked for: never exit 0 then.
    return {"documents": manifest["documents"], "failed_shards": [], "missing_documents": missing,
            "incomplete": manifest is not full}


def _manifest(full: dict, produced: list[dict], counts: dict) -> dict:
    """The full build's manifest when every file came out the same; otherwise the files as they came
    out, with what is missing said in ``materialized``."""
    by_section: dict[str, list[dict]] = {"data": [], "rejected": [], MISSING_DIR: []}
    for entry in produced:
        by_section[entry["path"].split("/", 1)[0]].append(entry)
    missing = sum(f["rows"] for f in by_section[MISSING_DIR])
    if not missing and by_section["data"] == full["files"]["data"] and by_section["rejected"] == full["files"][
            "rejected"]:
        return full
    manifest = {**full, "files": {**full["files"], **by_section}}
    manifest["documents"] = sum(f["rows"] for f in by_section["data"])
    expected = {f["path"] for section in ("data", "rejected") for f in full["files"][section]}
    came_out = {f["path"] for section in ("data", "rejected") for f in by_section[section]}
    manifest["materialized"] = {"missing": missing, "expected_documents": full["documents"],
                                "files_not_as_built": sorted(expected ^ came_out), "counts": counts}
    return manifest


def _counts(result: beam.runners.runner.PipelineResult) -> dict[str, int]:
    from apache_beam.metrics.metric import MetricsFilter

    found: dict[str, int] = {}
    for counter in result.metrics().query(MetricsFilter().with_namespace(reasons.MATERIALIZE))["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        found[counter.key.metric.name] = found.get(counter.key.metric.name, 0) + int(value or 0)
    return dict(sorted(found.items()))


def _read(url: str) -> bytes:
    try:
        with fsspec.open(url, "rb") as stream:
            return stream.read()
    except FileNotFoundError:
        raise MissingInputError(f"{redact_text(url)} is missing from the pointer dataset") from None


def main(argv: list[str] | None = None) -> int:
    return run_command(run_materialize, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    collector_on()
    allow_forks_in_this_process()
    exit_process(main())
