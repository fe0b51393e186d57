"""Checking a published dataset against its manifest: what ``warcforge verify`` reports.

Every check returns problems, one line each, naming the file and what is wrong; none raises for a
damaged dataset, so one run lists everything that is wrong. Files are streamed once: a data file can
be a gigabyte, and its Parquet footer is read from the same open file after its bytes are hashed.
"""

import hashlib
import itertools
import json
import posixpath
import re
from dataclasses import dataclass

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.common import reasons
from transforms.common.atomic_files import read_bytes
from transforms.common.errors import WarcforgeError
from transforms.writing.publish import DATASET_DIRS, JOURNAL, MANIFEST, MANIFEST_FORMAT, is_dataset_path
from transforms.writing.schema import (
    DEAD_LETTER_SCHEMA,
    DOCUMENT_SCHEMA,
    INDEX_SCHEMA,
    MISSING_SCHEMA,
    POINTER_SCHEMA,
    REJECTED_POINTER_SCHEMA,
    REJECTED_SCHEMA,
)
from transforms.writing.shards import CONTENT_HASH_CHARS

SCHEMAS = {"data": DOCUMENT_SCHEMA, "dead_letter": DEAD_LETTER_SCHEMA, "rejected": REJECTED_SCHEMA,
           "index": INDEX_SCHEMA, "pointers": POINTER_SCHEMA, "rejected_pointers": REJECTED_POINTER_SCHEMA,
           "missing": MISSING_SCHEMA}
# The write stage counts each section's rows under its own name.
WRITE_COUNTERS = {"data": reasons.DOCUMENTS, "dead_letter": reasons.DEAD_LETTERS, "rejected": reasons.REJECTED,
                  "index": reasons.INDEX_KEYS}
# Stages that documents flow through, in pipeline order (beam_jobs/pipeline.py). c4_lines counts lines and
# pii replacements, not documents: neither is in the funnel. A stage a recipe leaves out has no counts.
FUNNEL = (reasons.READ, reasons.EXTRACT, reasons.FILTER, reasons.DEDUP_URL, reasons.DEDUP_EXACT, reasons.NEAR_DEDUP,
          reasons.CROSS_CRAWL)
_SHARD_NAME = re.compile(rf"^part-\d{{5,}}-of-\d{{5,}}-([0-9a-f]{{{CONTENT_HASH_CHARS}}})\.parquet$")
_CHUNK = 8 << 20
LOCK_FILE = "warcforge.lock"  # published beside a locked build's manifest (beam_jobs.lock writes it)


class NotADatasetError(WarcforgeError):
    """The directory holds no manifest.json: there is nothing to check it against."""


@dataclass
class DatasetCheck:
    problems: list[str]
    files: int = 0
    documents: int = 0


def check_dataset(fs: fsspec.AbstractFileSystem, root: str) -> DatasetCheck:
    """Every problem in the dataset at ``root``; raises ``NotADatasetError`` when it has no manifest."""
    root = root.rstrip("/") or "/"
    manifest_bytes = read_bytes(fs, posixpath.join(root, MANIFEST))
    if manifest_bytes is None:
        raise NotADatasetError(f"{MANIFEST} not found: not a warcforge dataset")
    manifest = _json_object(manifest_bytes)
    if manifest.get("format") != MANIFEST_FORMAT or not isinstance(manifest.get("files"), dict):
        return DatasetCheck([f"{MANIFEST}: not a warcforge manifest (no format {MANIFEST_FORMAT!r} with files)"])
    entries, problems = listed_entries(manifest)
    problems += check_recipe(manifest)
    if "materializes" in manifest:  # a pointer dataset: the manifest it rebuilds must be consistent too
        problems += [f"{MANIFEST}: materializes: {p.split(': ', 1)[1]}" for p in check_recipe(manifest["materializes"])]
    for section, entry in entries:
        problems += check_file(fs, root, section, entry)
    problems += unlisted_files(fs, root, {entry["path"] for _, entry in entries})
    problems += check_counts(manifest, entries)
    problems += check_stats(read_bytes(fs, posixpath.join(root, "stats.json")), manifest, manifest_bytes,
                            fs.exists(posixpath.join(root, JOURNAL)))
    problems += check_lock(read_bytes(fs, posixpath.join(root, LOCK_FILE)), manifest)
    documents = sum(entry["rows"] for section, entry in entries if section == _sections(manifest)[0])
    return DatasetCheck(problems, len(entries), documents)


def _sections(manifest: dict) -> tuple[str, str]:
    """Where documents and sampled rejected documents are: data/ and rejected/, or in a pointer dataset
    pointers/ and rejected_pointers/ (counted as the documents they point at)."""
    return ("pointers", "rejected_pointers") if "pointers" in manifest.get("files", {}) else ("data", "rejected")


def listed_entries(manifest: dict) -> tuple[list[tuple[str, dict]], list[str]]:
    """The well-formed (section, entry) pairs to check, and problems with the listing itself."""
    entries, problems, seen = [], [], set()
    for section, listed in manifest["files"].items():
        if section not in SCHEMAS or not isinstance(listed, list):
            problems.append(f"{MANIFEST}: files.{section} is not a list of files in one of {', '.join(DATASET_DIRS)}")
            continue
        for i, entry in enumerate(listed):
            fields = entry if isinstance(entry, dict) else {}
            path = fields.get("path")
            if not (isinstance(path, str) and isinstance(fields.get("sha256"), str)
                    and all(type(fields.get(key)) is int for key in ("rows", "bytes"))):
                problems.append(f"{MANIFEST}: files.{section}[{i}] is not {{path, rows, bytes, sha256}}")
            elif not is_dataset_path(path) or posixpath.dirname(path) != section:
                # Never opened: a hand-edited manifest must not make verify read outside the dataset.
                problems.append(f"{MANIFEST}: files.{section} lists {path!r}, which is not a file in {section}/")
            elif path in seen:
                problems.append(f"{path}: listed more than once in the manifest")
            else:
                seen.add(path)
                entries.append((section, entry))
    return entries, problems + _check_names(entries)


def _check_names(entries: list[tuple[str, dict]]) -> list[str]:
    """A file's name carries the start of its content's sha256 (``shards.shard_file_name``)."""
    problems = []
    for _, entry in entries:
        name = _SHARD_NAME.match(posixpath.basename(entry["path"]))
        if name is None:
            problems.append(f"{entry['path']}: not a part-NNNNN-of-NNNNN-<sha256 prefix>.parquet name")
        elif name[1] != entry["sha256"][:CONTENT_HASH_CHARS]:
            problems.append(f"{entry['path']}: the name's hash {name[1]} does not begin the manifest's sha256 "
                            f"{entry['sha256']}")
    return problems


def check_recipe(manifest: dict) -> list[str]:
    canonical = json.dumps(manifest.get("recipe"), sort_keys=True, separators=(",", ":")).encode("utf-8")
    actual = hashlib.sha256(canonical).hexdigest()
    if manifest.get("recipe_sha256") == actual:
        return []
    return [f"{MANIFEST}: recipe_sha256 is {manifest.get('recipe_sha256')}, the recorded recipe's is {actual}"]


def check_file(fs: fsspec.AbstractFileSystem, root: str, section: str, entry: dict) -> list[str]:
    """One listed file, read once: its size and sha256 as it streams, then its Parquet footer."""
    path, problems = entry["path"], []
    digest, size = hashlib.sha256(), 0
    try:
        with fs.open(posixpath.join(root, path), "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
            try:
                footer = pq.ParquetFile(f)
                rows, schema = footer.metadata.num_rows, footer.schema_arrow
            except (pa.ArrowException, ValueError, OSError) as exc:
                rows, schema = None, None
                problems.append(f"{path}: not a readable Parquet file ({exc})")
    except FileNotFoundError:
        return [f"{path}: listed in the manifest, but missing"]
    except OSError as exc:
        return [f"{path}: cannot be read ({exc})"]
    if size != entry["bytes"]:
        problems.append(f"{path}: size is {size} bytes, the manifest says {entry['bytes']}")
    if digest.hexdigest() != entry["sha256"]:
        problems.append(f"{path}: sha256 is {digest.hexdigest()}, the manifest says {entry['sha256']}")
    if rows is not None and rows != entry["rows"]:
        problems.append(f"{path}: {rows} rows, the manifest says {entry['rows']}")
    if schema is not None and not schema.equals(SCHEMAS[section], check_metadata=False):
        problems.append(f"{path}: schema is not the {section} schema ({_schema_difference(schema, SCHEMAS[section])})")
    return problems


def _schema_difference(found: pa.Schema, expected: pa.Schema) -> str:
    fields, wanted = {f.name: f for f in found}, {f.name: f for f in expected}
    differ = [name for name in dict.fromkeys([*wanted, *fields]) if fields.get(name) != wanted.get(name)]
    return f"differs in {', '.join(differ)}" if differ else "columns in another order"


def _json_object(data: bytes) -> dict:
    """The JSON object in ``data``; an empty dict for anything else, which then fails every check."""
    try:
        obj = json.loads(data)
    except ValueError:
        return {}
    return obj if isinstance(obj, dict) else {}


def unlisted_files(fs: fsspec.AbstractFileSystem, root: str, listed: set[str]) -> list[str]:
    problems = []
    for folder in DATASET_DIRS:
        for found in sorted(fs.find(posixpath.join(root, folder))):
            name = posixpath.relpath(found, root) if root != "/" else found.lstrip("/")
            if name not in listed:
                problems.append(f"{name}: not listed in the manifest")
    return problems


def check_counts(manifest: dict, entries: list[tuple[str, dict]]) -> list[str]:
    """Rows against the totals and the write counters, and the funnel: what a stage passed on is what the
    next stage took in, and what it took in and did not pass on is counted under one of its drop reasons."""
    counts = manifest.get("counts")
    if not isinstance(counts, dict) or not all(isinstance(c, dict) and all(type(n) is int for n in c.values())
                                               for c in counts.values()):
        return [f"{MANIFEST}: counts is not {{stage: {{reason: n}}}}"]

    def n(stage: str, reason: str) -> int:  # a counter that never counted is absent
        return counts.get(stage, {}).get(reason, 0)

    rows = {section: sum(e["rows"] for s, e in entries if s == section) for section in SCHEMAS}
    if "materialized" in manifest:
        # materialize could not bring every document back: the totals are the full build's, the rows fewer.
        missing = manifest["materialized"].get("missing")
        if missing:
            return [f"{MANIFEST}: incomplete: {missing} pointed documents could not be materialized (see missing/)"]
        return [f"{MANIFEST}: incomplete: the materialized files are not the ones the full build wrote"]
    documents, rejected = _sections(manifest)
    rows["data"], rows["rejected"] = rows[documents], rows[rejected]
    shown = {"data": documents, "rejected": rejected}
    # Each dead letter is a record counted under a dead-letter reason (of read or extract).
    dead = sum(v for c in counts.values() for reason, v in c.items() if reason in reasons.DEAD_LETTER_REASONS)
    expected = [("documents", manifest.get("documents"), rows["data"], f"rows in {documents}/"),
                ("dead_letters", manifest.get("dead_letters"), rows["dead_letter"], "rows in dead_letter/"),
                *((f"counts.write.{c}", n(reasons.WRITE, c), rows[s], f"rows in {shown.get(s, s)}/")
                  for s, c in WRITE_COUNTERS.items()),
                ("counts.write.files", n(reasons.WRITE, reasons.FILES), len(entries), "files listed"),
                ("the sum of dead-letter reasons in counts", dead, rows["dead_letter"], "rows in dead_letter/")]
    problems = [f"{MANIFEST}: {name} is {found}, but there are {want} {what}" for name, found, want, what in expected
                if found != want]
    present = [stage for stage in FUNNEL if stage in counts]
    # reasons.NOT_DROPS are the counters outside the balance: shards, kept-but-truncated pages, and read errors
    # and failed files, which are counted without an `in` (transforms/reading/stage.py).
    for stage in present:
        dropped = sum(v for reason, v in counts[stage].items() if reason not in reasons.NOT_DROPS)
        if n(stage, reasons.IN) - n(stage, reasons.OUT) != dropped:
            problems.append(f"{MANIFEST}: counts.{stage}: in {n(stage, reasons.IN)} - out {n(stage, reasons.OUT)} "
                            f"is not the {dropped} its drop reasons count")
    for stage, after in itertools.pairwise([*present, reasons.WRITE]):
        taken = reasons.DOCUMENTS if after == reasons.WRITE else reasons.IN
        if n(stage, reasons.OUT) != n(after, taken):
            problems.append(f"{MANIFEST}: counts.{stage}.out is {n(stage, reasons.OUT)}, "
                            f"counts.{after}.{taken} is {n(after, taken)}")
    return problems


def check_lock(lock_bytes: bytes | None, manifest: dict) -> list[str]:
    """A locked dataset publishes its lock beside the manifest, which names the lock's sha256."""
    named = manifest.get("lock_sha256")
    if lock_bytes is None:
        return [f"{LOCK_FILE}: missing; {MANIFEST} names lock {named}"] if named else []
    actual = hashlib.sha256(lock_bytes).hexdigest()
    if named != actual:
        return [f"{LOCK_FILE}: sha256 is {actual}, {MANIFEST} names {named}"]
    return []


def check_stats(stats_bytes: bytes | None, manifest: dict, manifest_bytes: bytes,
                publishing: bool = False) -> list[str]:
    """stats.json names the manifest it was written with and repeats its totals. It is written right after
    the manifest: only while a publish journal is there (a killed publish, finished by the next build) may it
    be missing."""
    if stats_bytes is None:
        return [] if publishing else ["stats.json: missing (every build writes it with its manifest)"]
    stats = _json_object(stats_bytes)
    if not stats:
        return ["stats.json: not a JSON object"]
    problems = []
    actual = hashlib.sha256(manifest_bytes).hexdigest()
    # Builds before stats.json named its manifest have no manifest_sha256: the totals are still compared.
    if "manifest_sha256" in stats and stats["manifest_sha256"] != actual:
        problems.append(f"stats.json: manifest_sha256 is {stats['manifest_sha256']}, {MANIFEST}'s sha256 is {actual}")
    for key in ("counts", "documents", "dead_letters"):
        if stats.get(key) != manifest.get(key):
            problems.append(f"stats.json: {key} is not the manifest's")
    return problems
