"""``warcforge refresh``: build and publish each selected Common Crawl crawl once, into ``ROOT/<crawl id>/``.

The recipe's ``refresh`` section picks crawls from ``collinfo.json``; the ledger under ROOT
(``transforms.writing.ledger``) says which are published. Each crawl not yet published is built,
oldest first, as ``warcforge build`` builds one output (its own lease, staging and atomic publish),
and entered in the ledger only after its publish succeeded. The whole refresh holds the lease of
ROOT, so two refreshes never build the same crawl. A crawl published with a recipe that built it
differently is refused, both digests named, unless ``--rebuild`` names it.
"""

import argparse
import hashlib
import json
import logging
import os
import posixpath
import signal
import sys
import time
from datetime import datetime, timezone

import fsspec
from apache_beam.options.pipeline_options import PipelineOptions

from beam_jobs.build import LEASE_TTL_VARIABLE, BuildRequest, build_dataset, show_progress
from beam_jobs.build_args import EXIT_CODES, parse_with_beam_options
from beam_jobs.command import collector_on, exit_process, run_command
from beam_jobs.crawls import INDEX_URL_VARIABLE
from beam_jobs.forked_workers import allow_forks_in_this_process
from beam_jobs.interrupts import Interrupts, Terminated
from beam_jobs.job_options import JobOptions
from beam_jobs.pipeline import read_settings
from beam_jobs.progress import MODES, resolve_mode
from beam_jobs.recipe import Recipe, load_recipe
from beam_jobs.refresh_plan import ALL, Plan, Published, comparable_earlier, make_plan
from beam_jobs.runners import check_runner_name
from beam_jobs.scratch import temp_files_in_scratch_dir
from transforms.common.atomic_files import read_bytes
from transforms.common.errors import OutputExistsError, RecipeError
from transforms.common.fs_urls import is_local_fs
from transforms.common.secrets import redact_text
from transforms.reading.common_crawl import INDEX_URL, list_crawls, select_crawls
from transforms.reading.sources import resolve_inputs
from transforms.writing.lease import DEFAULT_TTL_S, Holder, Lease, LeaseKeeper
from transforms.writing.ledger import Ledger, LedgerEntry
from transforms.writing.publish import MANIFEST

log = logging.getLogger("warcforge")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warcforge refresh", allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Build and publish every crawl the recipe's refresh section selects that is not yet published "
        "under ROOT, oldest first, each into ROOT/<crawl id>/. Beam pipeline options are accepted too.",
        epilog=f"""examples:
  warcforge refresh --config refresh.yaml --output s3://bucket/cc --dry-run
  warcforge refresh --config refresh.yaml --output s3://bucket/cc
  warcforge refresh --config refresh.yaml --output s3://bucket/cc --rebuild CC-MAIN-2025-13

{EXIT_CODES}""",
    )
    parser.add_argument("--config", required=True, help="a recipe with a refresh section")
    parser.add_argument("--output", required=True, metavar="ROOT", help="the root: local path or fsspec URL")
    parser.add_argument("--index-url", default=os.environ.get(INDEX_URL_VARIABLE, INDEX_URL),
                        help=f"collinfo.json (default: ${INDEX_URL_VARIABLE}, else {INDEX_URL})")
    parser.add_argument("--rebuild", action="append", metavar="CRAWL_ID", default=[],
                        help="rebuild this published crawl (repeatable), or 'all'")
    parser.add_argument("--dry-run", action="store_true", help="print what would be built, and stop")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--progress", choices=MODES, default="auto",
                        help="while each crawl builds: a live bar (on a terminal), a line every 30 s, or nothing; "
                        "auto: a bar on a terminal, else lines (default)")
    parser.add_argument("--verbose", action="store_true", help="on failure, print the whole traceback")
    return parser


@temp_files_in_scratch_dir()
def run_refresh(argv: list[str], interrupts: Interrupts | None = None) -> dict:
    """Refresh ROOT; returns what was published: crawls and failed shards."""
    args, beam_args = parse_with_beam_options(build_parser(), argv)
    progress = resolve_mode(args.progress, args.quiet)
    show_progress(args.quiet or progress == "bar")
    recipe = load_recipe(args.config)
    if recipe.refresh is None:
        raise RecipeError(f"recipe {args.config} has no refresh section; say which crawls to build "
                          "(refresh.since, refresh.newest or refresh.crawls), or use 'warcforge build'")
    options = JobOptions(beam_args)
    check_runner_name(options)
    policy = read_settings(recipe).policy
    crawls = list_crawls(args.index_url, policy)
    listed = [crawl.id for crawl in crawls]
    selection = recipe.refresh
    selected = select_crawls(listed, selection.since, selection.newest, selection.crawls)
    unknown = [c for c in args.rebuild if c != ALL and c not in selected]
    if unknown:
        raise RecipeError(f"--rebuild {unknown[0]}: not one of the crawls the recipe selects ({', '.join(selected)})")
    fs, root = fsspec.core.url_to_fs(args.output)
    root = root.rstrip("/")
    ledger = Ledger(fs, root, args.output)
    listed_windows = {crawl.id: (crawl.start, crawl.end) for crawl in crawls}
    digest = recipe.build_digest()  # reads the recipe's blocklists: once per run
    if args.dry_run:
        todo = make_refresh_plan(recipe, digest, selected, args.rebuild, ledger, listed_windows).todo
        return dry_run(recipe, todo, args.output, policy)
    if is_local_fs(fs):
        fs.makedirs(root, exist_ok=True)
    if fs.exists(f"{root}/{MANIFEST}"):
        raise OutputExistsError(f"{args.output} holds a dataset ({MANIFEST}); a refresh root holds one folder per "
                                "crawl: choose another --output")
    ttl = float(os.environ.get(LEASE_TTL_VARIABLE, DEFAULT_TTL_S))
    lease = Lease.acquire(fs, root, Holder.of_this_process("warcforge refresh", ttl), args.output)
    interrupts = interrupts or Interrupts(verbose=True)
    try:
        with LeaseKeeper(lease) as keeper:
            plan = make_refresh_plan(recipe, digest, selected, args.rebuild, ledger, listed_windows)
            entries = ledger.read()
            skipped = [{"crawl": c, "failed_shards": entries[c].failed_shards} for c in plan.with_skipped_files]
            for crawl in plan.with_skipped_files:
                log.warning("refresh: %s was published with skipped input files; --rebuild %s to try them again",
                            crawl, crawl)
            if not plan.todo:
                print(f"refresh: nothing new: the {len(selected)} selected crawls ({', '.join(selected)}) are "
                      f"published in {redact_text(args.output)}", flush=True)
                return {"crawls": [], "failed_shards": skipped}
            outcome = publish_crawls(recipe, digest, plan, listed_windows, args, argv, options, ledger, keeper,
                                     interrupts)
            outcome["failed_shards"] += skipped
            return outcome
    finally:
        lease.release()


def windows_of(ledger: Ledger, listed_windows: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """Capture windows of every crawl known: listed now, or recorded in the ledger."""
    known = {crawl: (entry.crawl_start, entry.crawl_end) for crawl, entry in ledger.read().items()}
    return {**known, **listed_windows}


def published_now(ledger: Ledger) -> dict[str, Published]:
    return {crawl: Published(entry, read_bytes(ledger.fs, posixpath.join(ledger.root, crawl, MANIFEST)))
            for crawl, entry in ledger.read().items()}


def make_refresh_plan(recipe: Recipe, digest: str, selected: list[str], rebuild: list[str], ledger: Ledger,
                      listed_windows: dict[str, tuple[str, str]]) -> Plan:
    cross = recipe.refresh.cross_crawl_dedup != "off"
    return make_plan(selected, published_now(ledger), digest, rebuild, cross, windows_of(ledger, listed_windows),
                     recipe.extract.extractor, recipe.quality_rules())


def earlier_crawls(crawl: str, digest: str, ledger: Ledger, windows: dict[str, tuple[str, str]],
                   ) -> tuple[tuple[dict, ...], tuple[str, ...]]:
    """The published crawls ``crawl`` is deduplicated against (oldest first, with their manifests'
    sha256), and their cross-crawl index files."""
    published = published_now(ledger)
    compared, index_files = [], []
    for name in comparable_earlier(crawl, published, digest, windows):  # intact: the ledger's sha256 holds
        compared.append({"crawl": name, "manifest_sha256": published[name].entry.manifest_sha256})
        files = json.loads(published[name].manifest_bytes)["files"].get("index", [])
        index_files += [ledger.url_of(posixpath.join(name, f["path"])) for f in files]
    return tuple(compared), tuple(index_files)


def publish_crawls(recipe: Recipe, digest: str, plan: Plan, listed_windows: dict[str, tuple[str, str]],
                   args: argparse.Namespace, argv: list[str], options: PipelineOptions, ledger: Ledger,
                   keeper: LeaseKeeper, interrupts: Interrupts) -> dict:
    outcome: dict = {"crawls": [], "failed_shards": []}
    for crawl in plan.todo:
        keeper.check()
        started = time.time()
        interrupts.published = False  # this crawl's build may be interrupted until its publish
        output = f"{args.output.rstrip('/')}/{crawl}"
        log.info("refresh: building %s (%s) into %s", crawl, plan.why[crawl], redact_text(output))
        windows = windows_of(ledger, listed_windows)
        compared, index_files = (earlier_crawls(crawl, digest, ledger, windows)
                                 if recipe.refresh.cross_crawl_dedup != "off" else (None, ()))
        request = BuildRequest(recipe.for_crawl(crawl), args.config, output, True, options, argv,
                               earlier_crawls=compared, earlier_index_files=index_files,
                               progress=resolve_mode(args.progress, args.quiet))
        try:
            manifest = build_dataset(request, interrupts)
        except Exception:
            if outcome["crawls"]:
                log.warning("refresh: published before this failure, and entered in the ledger: %s",
                            ", ".join(outcome["crawls"]))
            raise
        manifest_bytes = read_bytes(ledger.fs, posixpath.join(ledger.root, crawl, MANIFEST))
        start, end = listed_windows.get(crawl, ("", ""))
        ledger.record(crawl, LedgerEntry(
            build_sha256=digest, manifest_sha256=hashlib.sha256(manifest_bytes).hexdigest(),
            documents=manifest["documents"], dead_letters=manifest["dead_letters"],
            failed_shards=len(manifest["failed_shards"]),
            published_at=datetime.now(tz=timezone.utc).isoformat(timespec="seconds"),
            seconds=round(time.time() - started, 3), crawl_start=start, crawl_end=end))
        outcome["crawls"].append(crawl)
        outcome["failed_shards"] += manifest["failed_shards"]
        print(f"refresh: published {crawl} ({manifest['documents']:,} documents) and entered it in the ledger",
              flush=True)
        if interrupts.received is not None and crawl != plan.todo[-1]:
            # The signal waited for this crawl's publish; the crawls after it are left for the next run.
            interrupts.published = False
            raise KeyboardInterrupt() if interrupts.received == signal.SIGINT else Terminated()
    return outcome


def dry_run(recipe: Recipe, todo: list[str], root: str, policy: object) -> dict:
    if not todo:
        print(f"refresh: nothing new in {redact_text(root)}", flush=True)
    for crawl in todo:
        files = resolve_inputs(recipe.for_crawl(crawl).resolved_input(), policy)
        sizes = [f.size for f in files]
        size = f"{sum(sizes) / 1e9:,.1f} GB" if None not in sizes else "sizes not listed"
        print(f"refresh: would build {crawl}: {len(files):,} files ({size}) into {redact_text(root)}/{crawl}",
              flush=True)
    return {"crawls": todo, "failed_shards": [], "dry_run": True}


def main(argv: list[str] | None = None) -> int:
    return run_command(run_refresh, sys.argv[1:] if argv is None else argv,
                       unpublished="crawls published before the signal stay published, the others are left for "
                                   "the next refresh")


if __name__ == "__main__":
    collector_on()
    allow_forks_in_this_process()
    exit_process(main())
