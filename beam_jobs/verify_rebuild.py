"""``warcforge verify DIR --rebuild N``: rebuild a few input files and find their documents in the dataset.

N input files are chosen by seed from the manifest's inputs and built again, alone, with the
dataset's own recipe (its lock when it has one). Then, for those files:

- every published document that came from them must come out of the rebuild, with every column
  equal, byte for byte, except the two dedup figures (``duplicate_count``, ``near_dup_cluster_size``),
  which count copies across the whole dataset and so may only be larger in the published row;
- every document the rebuild produces that is not published must be accounted for by dedup across
  files: its exact-dedup key, its normalized URL (``dedup.url``) or one of its MinHash bands
  (``dedup.near``, also through other rebuilt documents that are accounted for) is shared with a
  published document. Built alone, a file keeps every document whose duplicates lie in other files;
  the survivor of each such group is published, from this file or another.

Anything else is one line naming the document and the file.
"""

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator

import fsspec
import pyarrow.parquet as pq

from beam_jobs.build import BuildRequest, build_dataset
from beam_jobs.job_options import JobOptions
from beam_jobs.lock import LOCK_FILE, LOCK_FORMAT, Lock, read_lock
from beam_jobs.recipe import Recipe, parse_recipe
from transforms.common.errors import WarcforgeError
from transforms.common.secrets import redact_text
from transforms.dedup.minhash import MinHasher, shingles
from transforms.dedup.normalize import exact_dedup_key, normalize_capture_url
from transforms.reading.common_crawl import sample_key

DEDUP_FIGURES = ("duplicate_count", "near_dup_cluster_size")


class RebuildFailedError(WarcforgeError):
    """The rebuild could not be made (an input could not be read, a pointer dataset has no documents)."""


def choose_inputs(warc_paths: list[str], count: int, seed: int) -> list[str]:
    """``count`` of the files, chosen by seed (the same choice whatever the list's order)."""
    return sorted(sorted(warc_paths, key=lambda path: sample_key(seed, path))[:count])


def _dataset_lock(location: str, manifest: dict, chosen: list[str]) -> Lock:
    """The dataset's lock restricted to the chosen files; for an unlocked dataset, one made from its manifest."""
    try:
        lock = read_lock(f"{location}/{LOCK_FILE}")
        data = dict(lock.data)
    except Exception:  # noqa: BLE001 - no lock published: the manifest says what was built
        recipe = parse_recipe(manifest["recipe"], source=f"{location}/manifest.json", from_json=True)
        source = ({"crawl": recipe.input.crawl, "kind": recipe.input.kind} if recipe.input.crawl
                  else {"root": manifest.get("input_root", "")})
        # Relative URL lists are looked for in the working directory; the manifest says what they must hold.
        data = {"format": LOCK_FORMAT, "recipe": manifest["recipe"], "recipe_sha256": manifest["recipe_sha256"],
                "url_lists": manifest.get("url_lists", {}), "recipe_folder": os.getcwd(), "source": source,
                "inputs": manifest["inputs"], "versions": manifest["versions"]}
        lock = Lock(data, b"", f"{location}/manifest.json")
    data["inputs"] = [entry for entry in data["inputs"] if entry["warc_path"] in set(chosen)]
    return Lock(data, lock.raw, lock.location)


def rebuild(location: str, manifest: dict, chosen: list[str], input_root: str | None, work: str,
            beam_args: list[str]) -> list[dict]:
    """Build the chosen files alone into ``work``; their rows. Refused (LockDriftError) when this
    machine's packages differ from the dataset's: such a rebuild proves nothing either way."""
    lock = _dataset_lock(location, manifest, chosen)
    recipe = lock.recipe()
    request = BuildRequest(recipe.with_output_format("parquet"), f"{location} (verify --rebuild)", work, False,
                           JobOptions(beam_args), ["verify", "--rebuild"], lock=lock, input_root=input_root)
    with contextlib.redirect_stdout(sys.stderr):  # the build's summary is progress here, not the answer
        built = build_dataset(request)
    if built["failed_shards"]:
        unread = ", ".join(f"{f['warc_path']} ({f['reason']})" for f in built["failed_shards"])
        raise RebuildFailedError(f"the rebuild could not read {unread}: nothing can be concluded about its documents")
    return _rows(work, [f["path"] for f in built["files"]["data"]])


def _rows(location: str, paths: list[str], warc_paths: set[str] | None = None) -> list[dict]:
    rows = []
    wanted = None if warc_paths is None else [("warc_path", "in", sorted(warc_paths))]
    for path in paths:
        with fsspec.open(f"{location}/{path}", "rb") as stream:
            rows += pq.read_table(stream, filters=wanted).to_pylist()
    return rows


def _published_keys(location: str, manifest: dict, recipe: Recipe) -> Iterator[set]:
    """Every key of every published document that dedup grouped by: exact keys, URL keys, MinHash bands."""
    near = recipe.dedup.near
    hasher = MinHasher(near.bands, near.rows, near.seed) if near.enabled else None
    for entry in manifest["files"]["data"]:
        with fsspec.open(f"{location}/{entry['path']}", "rb") as stream:
            table = pq.read_table(stream, columns=["id", "text", "url"])
        for row in table.to_pylist():
            yield _keys(row, recipe, hasher)


def _keys(row: dict, recipe: Recipe, hasher: MinHasher | None) -> set:
    keys = set()
    if recipe.dedup.exact:
        keys.add(("exact", exact_dedup_key(row["text"])))
    if recipe.dedup.url != "off":
        keys.add(("url", normalize_capture_url(row["url"], row["id"])))
    if hasher is not None:
        signature = hasher.signature(shingles(row["text"], recipe.dedup.near.ngram))
        keys.update(("band", band, key) for band, key in enumerate(hasher.band_keys(signature)))
    return keys


def compare(published: list[dict], rebuilt: list[dict], location: str, manifest: dict, recipe: Recipe) -> list[str]:
    """One line per document that is not as the rebuild says it must be."""
    problems = []
    by_id = {row["id"]: row for row in rebuilt}
    for row in published:
        again = by_id.get(row["id"])
        if again is None:
            problems.append(f"document {row['id']} from {row['warc_path']}: published, but rebuilding its file does "
                            "not produce it")
            continue
        for column, value in row.items():
            if column in DEDUP_FIGURES:
                if value < again[column]:
                    problems.append(f"document {row['id']} from {row['warc_path']}: {column} is {value}, the "
                                    f"rebuild of its file alone counts {again[column]}")
            elif value != again[column]:
                problems.append(f"document {row['id']} from {row['warc_path']}: column {column} differs from the "
                                f"rebuild ({_digest(value)} published, {_digest(again[column])} rebuilt)")
    published_ids = {row["id"] for row in published}
    unaccounted = [row for row in rebuilt if row["id"] not in published_ids]
    if unaccounted:
        problems += _unaccounted(unaccounted, location, manifest, recipe)
    return problems


def _unaccounted(rows: list[dict], location: str, manifest: dict, recipe: Recipe) -> list[str]:
    near = recipe.dedup.near
    hasher = MinHasher(near.bands, near.rows, near.seed) if near.enabled else None
    wanted = {row["id"]: _keys(row, recipe, hasher) for row in rows}
    known: set = set()
    every_wanted = set().union(*wanted.values())
    for keys in _published_keys(location, manifest, recipe):
        known |= keys & every_wanted
    # A rebuilt document removed as a near duplicate may reach the published survivor through another
    # rebuilt document: accept what shares a band with what is accepted, until nothing changes.
    accepted: set[str] = set()
    changed = True
    while changed:
        changed = False
        for doc_id, keys in wanted.items():
            if doc_id not in accepted and keys & known:
                accepted.add(doc_id)
                known |= {key for key in keys if key[0] == "band"}
                changed = True
    return [f"document {row['id']} from {row['warc_path']}: the rebuild of its file produces it, but it is not "
            "published and shares no dedup key with a published document" for row in rows if row["id"] not in accepted]


def _digest(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return f"sha256:{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}"


def verify_by_rebuild(location: str, manifest: dict, count: int, seed: int, input_root: str | None,
                      beam_args: list[str]) -> tuple[list[str], list[str]]:
    """(problems, the files rebuilt)."""
    if "data" not in manifest["files"]:
        raise RebuildFailedError("a pointer dataset holds no documents to compare: 'warcforge materialize' it, which "
                                 "checks every document against its pointer")
    chosen = choose_inputs([entry["warc_path"] for entry in manifest["inputs"]], count, seed)
    with tempfile.TemporaryDirectory(prefix="warcforge-verify-") as work:
        rebuilt = rebuild(location, manifest, chosen, input_root, f"{work}/rebuilt", beam_args)
    recipe = parse_recipe(manifest["recipe"], source=redact_text(location), from_json=True)
    published = _rows(location, [f["path"] for f in manifest["files"]["data"]], set(chosen))
    return compare(published, rebuilt, location, manifest, recipe), chosen
