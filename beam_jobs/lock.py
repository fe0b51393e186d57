"""Locks: everything that decides a build's bytes, written down so the build can be repeated and checked.

``warcforge lock`` resolves a recipe and writes a lock: the recipe with every default filled in
and its digest, the digest of each URL list it names, every input file (its ``warc_path``, size
and the strongest identity the server gives; a sha256 with ``--hash-inputs``), a crawl's paths
file digest, and the versions of every package that changes bytes (and the language model's
sha256). ``warcforge build --lock`` builds exactly that and refuses, before reading a record,
when anything differs; ``--allow-drift`` builds anyway and the manifest lists each difference.
"""

import argparse
import hashlib
import json
import logging
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import fsspec

from beam_jobs.pipeline import read_settings
from beam_jobs.recipe import Recipe, load_recipe, parse_recipe
from beam_jobs.recipe_file import folder_of
from beam_jobs.run_report import package_versions, recorded_recipe
from transforms.common.atomic_files import replace_atomically
from transforms.common.errors import MissingInputError, RecipeError, WarcforgeError
from transforms.common.secrets import redact_text
from transforms.reading import common_crawl
from transforms.reading.file_identity import describe_file, file_sha256
from transforms.reading.input_root import join_root
from transforms.reading.request_failures import display_url
from transforms.reading.resumable_file import RetryPolicy
from transforms.reading.sources import InputFile, resolve_inputs
from transforms.writing.publish import dumps_json

LOCK_FORMAT = "warcforge-lock/1"
log = logging.getLogger("warcforge")
LOCK_FILE = "warcforge.lock"  # the name a locked build publishes its lock under
MAX_LISTED_DIFFERENCES = 20


class LockDriftError(WarcforgeError):
    """What the lock names is not what this machine has; nothing was read."""


@dataclass(frozen=True)
class Lock:
    data: dict
    raw: bytes  # the file as read: its sha256 is the lock's digest
    location: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    def recipe(self) -> Recipe:
        """The locked recipe. Relative paths in it (URL lists) resolve where they did when it was locked
        (the recipe's folder, recorded in the lock); their sha256 is checked against the lock's."""
        folder = self.data.get("recipe_folder") or folder_of(self.location)
        return parse_recipe(self.data["recipe"], source=f"lock {self.location}", folder=folder, from_json=True)


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def _paths_file(recipe: Recipe, policy: RetryPolicy) -> tuple[dict, list[InputFile]]:
    """A crawl source: its paths file (URL and sha256) and the files the recipe selects from it."""
    selection = recipe.resolved_input()
    listing = common_crawl.paths_file_url(selection.base, selection.crawl, selection.kind)
    data = common_crawl.fetch_bytes(listing, policy)
    chosen = common_crawl.select_shards(common_crawl.parse_paths_file(data), selection.first, selection.sample,
                                        selection.seed, selection.files)
    if not chosen:
        raise MissingInputError(f"{listing} lists no files")
    files = [InputFile(common_crawl.join_base(selection.base, path), None, path) for path in chosen]
    return {"url": redact_text(listing), "sha256": hashlib.sha256(data).hexdigest()}, files


def _describe_all(files: list[InputFile], policy: RetryPolicy, hash_inputs: bool) -> list[dict]:
    def describe(file: InputFile) -> dict:
        entry = {"warc_path": file.warc_path, **describe_file(file.url, policy)}
        if hash_inputs:
            entry["sha256"] = file_sha256(file.url, policy, entry["size"])
        return entry

    with ThreadPoolExecutor(max_workers=max(1, policy.max_requests_per_host)) as pool:
        return list(pool.map(describe, files))


def make_lock(recipe: Recipe, hash_inputs: bool = False) -> dict:
    """Resolve the recipe and describe everything that decides its output."""
    policy = read_settings(recipe).policy
    if recipe.input.crawl is not None:
        paths_file, files = _paths_file(recipe, policy)
        source = {"crawl": recipe.input.crawl, "kind": recipe.input.kind, "paths_file": paths_file}
    else:
        files = resolve_inputs(recipe.resolved_input(), policy)
        signed = next((f for f in files if "://" in f.url and "?" in f.url), None)
        if signed is not None:
            # A lock names files by a stable place; a signature expires, and is a credential that must not be written.
            raise RecipeError(f"input {redact_text(signed.url)} has a query string (a presigned URL?): a lock cannot "
                              "record it; name the files by a stable URL (s3://, gs://, https:// without a signature) "
                              "with credentials from the environment")
        if not files[0].root and len(files) > 1:
            raise RecipeError("the inputs lie on different hosts or filesystems: a lock names them relative to one "
                              "root; copy them under one folder or URL prefix")
        source = {"root": files[0].root}
    recorded = recorded_recipe(recipe)
    return {
        "format": LOCK_FORMAT,
        "recipe": recorded,
        "recipe_sha256": _digest(recorded),
        "url_lists": recipe.url_list_digests(),
        "recipe_folder": redact_text(recipe.resolve_path(".")),
        "source": source,
        "inputs": _describe_all(files, policy, hash_inputs),
        "versions": package_versions(),
    }


def read_lock(location: str) -> Lock:
    """A lock file, checked by shape; a lock whose recipe no longer matches its digest is refused."""
    try:
        with fsspec.open(location, "rb") as stream:
            raw = stream.read()
    except OSError as exc:
        raise RecipeError(f"lock {location} cannot be read ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise RecipeError(f"lock {location} is not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != LOCK_FORMAT:
        raise RecipeError(f"lock {location} is not a warcforge lock (format {LOCK_FORMAT} expected)")
    for key, kind in (("recipe", dict), ("recipe_sha256", str), ("url_lists", dict), ("source", dict),
                      ("inputs", list), ("versions", dict)):
        if not isinstance(data.get(key), kind):
            raise RecipeError(f"lock {location}: key '{key}' is missing or not a {kind.__name__}")
    if _digest(data["recipe"]) != data["recipe_sha256"]:
        raise RecipeError(f"lock {location}: its recipe does not match its recipe_sha256 (edited by hand?)")
    if not data["inputs"] or not all(isinstance(i, dict) and isinstance(i.get("warc_path"), str)
                                     for i in data["inputs"]):
        raise RecipeError(f"lock {location}: 'inputs' must list files, each with a warc_path")
    return Lock(data, raw, location)


def locked_inputs(lock: Lock, recipe: Recipe, input_root: str | None = None) -> list[InputFile]:
    """The files the lock names, where they lie now: under ``input_root`` when given, else where the
    lock says (the crawl's base, or the root of the files when locked)."""
    source = lock.data["source"]
    if "crawl" in source:
        base = recipe.resolve_path(input_root or recipe.input.base)
        if "<redacted>" in base:
            raise RecipeError(f"lock {lock.location}: its crawl base {base} had credentials; give --input-root")
        return [InputFile(common_crawl.join_base(base, i["warc_path"]), i.get("size"), i["warc_path"])
                for i in lock.data["inputs"]]
    locked_root = source.get("root") or ""
    if input_root and not locked_root:
        raise RecipeError(f"lock {lock.location} names its inputs by full URL (they had no common root): "
                          "--input-root cannot place them")
    root = input_root or locked_root
    if root and "://" not in root:
        root = os.path.abspath(os.path.expanduser(root))  # workers do not share the driver's directory
    if "<redacted>" in root:
        raise RecipeError(f"lock {lock.location}: its input root {root} had credentials; give --input-root")
    # warc_path is relative to the lock's root wherever the files are read from now: the manifest names
    # that root, so a build from a copy or a mirror publishes the same manifest.
    return [InputFile(join_root(root, i["warc_path"]) if root else i["warc_path"], i.get("size"), i["warc_path"],
                      locked_root) for i in lock.data["inputs"]]


def lock_differences(lock: Lock, recipe: Recipe, files: list[InputFile] | None,
                     input_root: str | None = None) -> tuple[list[str], list[InputFile] | None]:
    """Every way this machine differs from the lock, one line each: packages, URL lists, the crawl's
    paths file (at ``input_root`` when the crawl has moved), and each input's size, server identity and
    (when locked) sha256; and the files with the sizes they have now (a build that allows drift reads
    them as they are). ``files`` None leaves the inputs out (materialize checks each record's text
    instead of reading whole files)."""
    locked = lock.data
    found = []
    installed = package_versions()
    for name in sorted(set(locked["versions"]) | set(installed)):
        was, now = locked["versions"].get(name, "absent"), installed.get(name, "absent")
        if was != now:
            found.append(f"package {name}: locked {was}, installed {now}")
    lists_now = recipe.url_list_digests()
    for location in sorted(set(locked["url_lists"]) | set(lists_now)):
        if locked["url_lists"].get(location) != lists_now.get(location):
            found.append(f"URL list {location}: its sha256 differs from the lock's")
    policy = read_settings(recipe).policy
    paths_file = locked["source"].get("paths_file")
    if paths_file:
        found += _paths_file_difference(recipe, paths_file, input_root, policy)
    if files is None:
        return found, None
    compared = _input_differences(locked["inputs"], files, policy)
    return found + [line for lines, _ in compared for line in lines], [file for _, file in compared]


def _paths_file_difference(recipe: Recipe, locked: dict, input_root: str | None, policy: RetryPolicy) -> list[str]:
    """The crawl's paths file against the lock's sha256: at the mirror first (``input_root``), then at the
    base it was locked from. A mirror that holds only the locked files has none; then the files themselves
    are what is checked, and the log says so."""
    bases = [recipe.resolve_path(input_root)] if input_root else []
    bases.append(recipe.resolved_input().base)
    for base in bases:
        listing = common_crawl.paths_file_url(base, recipe.input.crawl, recipe.input.kind)
        try:
            data = common_crawl.fetch_bytes(listing, policy)
        except MissingInputError:
            if base != bases[-1]:
                continue  # not at the mirror: at the base it was locked from?
            if not input_root:
                raise
            log.warning("lock: the crawl's paths file is neither at %s nor at %s; only the locked files are "
                        "checked", redact_text(bases[0]), redact_text(base))
            return []
        if hashlib.sha256(data).hexdigest() != locked.get("sha256"):
            return [f"paths file {display_url(listing)}: its sha256 differs from the lock's"]
        return []
    return []


def _input_differences(entries: list[dict], files: list[InputFile],
                       policy: RetryPolicy) -> list[tuple[list[str], InputFile]]:
    def compare(pair: tuple[dict, InputFile]) -> tuple[list[str], InputFile]:
        entry, file = pair
        now = describe_file(file.url, policy)
        file = replace(file, size=now["size"])
        where = f"input {file.warc_path}"
        if entry.get("size") is not None and now["size"] is not None and entry["size"] != now["size"]:
            return [f"{where}: {now['size']:,} bytes, the lock says {entry['size']:,}"], file
        problems = [f"{where}: {key} is {now[key]}, the lock says {entry[key]}"
                    for key in sorted(set(entry) & set(now) - {"warc_path", "size"}) if entry[key] != now[key]]
        if not problems and "sha256" in entry:
            sha256 = file_sha256(file.url, policy, now["size"])
            if sha256 != entry["sha256"]:
                problems.append(f"{where}: sha256 is {sha256}, the lock says {entry['sha256']}")
        return problems, file

    with ThreadPoolExecutor(max_workers=max(1, policy.max_requests_per_host)) as pool:
        return list(pool.map(compare, zip(entries, files, strict=True)))


def drift_message(lock: Lock, differences: list[str]) -> str:
    shown = [f"  {line}" for line in differences[:MAX_LISTED_DIFFERENCES]]
    if len(differences) > MAX_LISTED_DIFFERENCES:
        shown.append(f"  and {len(differences) - MAX_LISTED_DIFFERENCES} more")
    count = f"{len(differences)} difference{'s' if len(differences) != 1 else ''}"
    return (f"this machine differs from lock {redact_text(lock.location)} ({count}); nothing was read "
            "(--allow-drift builds anyway and records them in the manifest):\n" + "\n".join(shown))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warcforge lock", allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Resolve a recipe and write a lock: the recipe with defaults and its digest, every input file "
        "with its size and identity, the crawl's paths-file digest, and the versions of every package that changes "
        "bytes. 'warcforge build --lock LOCK' then builds exactly that.",
        epilog="""examples:
  warcforge lock --config configs/sample.yaml -o sample.lock
  warcforge lock --config recipe.yaml --input 'crawl/*.warc.gz' -o ds.lock --hash-inputs
  warcforge build --lock ds.lock --output out/""")
    parser.add_argument("--config", required=True, help="recipe YAML file")
    parser.add_argument("-o", "--output", required=True, metavar="LOCK", help="where to write the lock (JSON)")
    parser.add_argument("--input", action="append", metavar="PATH_OR_URL",
                        help="input file, glob or URL; repeatable; replaces the recipe's input.paths")
    parser.add_argument("--input-root", metavar="FOLDER_OR_URL",
                        help="with --input: the folder warc_path is recorded relative to")
    parser.add_argument("--hash-inputs", action="store_true",
                        help="read every input file and record its sha256 (build --lock then checks it too)")
    parser.add_argument("--verbose", action="store_true", help="on failure, print the whole traceback")
    return parser


def run_lock(argv: list[str], interrupts: object = None) -> dict:
    args = build_parser().parse_args(argv)
    started = time.time()
    recipe = load_recipe(args.config)
    if args.input:
        recipe = recipe.with_inputs(args.input, args.input_root)
    if recipe.input.paths is None and recipe.input.crawl is None:
        raise RecipeError(f"recipe {args.config} is a refresh recipe: lock one crawl (give input.crawl) instead")
    lock = make_lock(recipe, args.hash_inputs)
    data = dumps_json(lock)
    try:
        fs, path = fsspec.core.url_to_fs(args.output)
        replace_atomically(fs, path, data)  # a lock is whole or absent, never half written
    except OSError as exc:
        raise MissingInputError(f"cannot write lock {args.output} ({exc.strerror or exc})") from None
    size = sum(i.get("size") or 0 for i in lock["inputs"])
    print(f"warcforge lock: {len(lock['inputs']):,} input files ({size / 1e6:,.1f} MB"
          f"{', sha256 of each' if args.hash_inputs else ''}), recipe sha256 {lock['recipe_sha256'][:12]}, "
          f"written to {redact_text(args.output)} (sha256 {hashlib.sha256(data).hexdigest()[:12]}) in "
          f"{time.time() - started:.1f} s", flush=True)
    return {"documents": None, "failed_shards": []}


def main(argv: list[str] | None = None) -> int:
    from beam_jobs.command import run_command

    return run_command(run_lock, sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
