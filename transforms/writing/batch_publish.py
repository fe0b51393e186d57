"""Publishing one batch of a watch: its manifest last, then its ledger entry.

A batch's Parquet files are written straight into ``ROOT/batches/<batch>/`` (names carry their
content hash, so a batch computed again writes the same names). The batch is published when its
``manifest.json`` is written and its entry added to ``ROOT/ledger.json``; readers take the
batches the ledger lists. A publish first checks the ledger, so a batch computed twice (a replay
after a failure) is published once. A watch starting up finishes what a stop left between the
two steps (``roll_forward``): a folder with a complete manifest is entered, any other unlisted
folder removed (its batch is computed again from the claims).
"""

import hashlib
import json
import logging
import posixpath
import re
from dataclasses import asdict
from datetime import datetime, timezone

from transforms.common.atomic_files import read_bytes, remove_tree, replace_atomically
from transforms.common.batch_ledger import BATCHES_DIR, MANIFEST, BatchEntry, BatchLedger, FileHistory
from transforms.common.batches import batch_name, iso, parse_iso_ms
from transforms.writing.parquet_file import WrittenFile
from transforms.writing.publish import dumps_json

BATCH_FORMAT = "warcforge-watch-batch/1"
BATCH_NAME = re.compile(r"^\d{8}T\d{6}Z-\d{8}T\d{6}Z$")
DATA, DEAD_LETTER, REJECTED, INDEX = "data", "dead_letter", "rejected", "index"
log = logging.getLogger("warcforge.watch")


def batch_manifest(header: dict, start_ms: int, end_ms: int, inputs: list[dict], failed: list[dict],
                   files: dict[str, list[WrittenFile]], seen_before: int, history: FileHistory) -> dict:
    """What one batch holds; ``inputs`` are the files given to it ({"url", "warc_path", "size"}),
    ``failed`` those of them that could not be read (ReadWarcShards' failed_shards)."""
    failed_urls = {f["url"] for f in failed}
    listed = {subdir: sorted((asdict(f) for f in written), key=lambda f: f["path"])
              for subdir, written in sorted(files.items())}
    rows = {subdir: sum(f["rows"] for f in written) for subdir, written in listed.items()}
    return header | {
        "format": BATCH_FORMAT,
        "batch": batch_name(start_ms, end_ms),
        "window_start": iso(start_ms),
        "window_end": iso(end_ms),
        "inputs": sorted(({**f, "attempt": history.failed_attempts.get(f["url"], 0) + 1} for f in inputs
                          if f["url"] not in failed_urls), key=lambda f: f["url"]),
        "failed_files": sorted(({"url": f["url"], "warc_path": f["warc_path"], "reason": f["reason"],
                                 "attempt": history.failed_attempts.get(f["url"], 0) + 1} for f in failed),
                               key=lambda f: f["url"]),
        "files": listed,
        "documents": rows.get(DATA, 0),
        "dead_letters": rows.get(DEAD_LETTER, 0),
        "rejected": rows.get(REJECTED, 0),
        "seen_before": seen_before,
    }


def entry_of(manifest: dict, data: bytes, published_at: str, lag_s: float = 0.0) -> BatchEntry:
    return BatchEntry(
        manifest_sha256=hashlib.sha256(data).hexdigest(), window_start=manifest["window_start"],
        window_end=manifest["window_end"], files=[f["url"] for f in manifest["inputs"]],
        failed=[{"url": f["url"], "reason": f["reason"], "attempt": f["attempt"]} for f in manifest["failed_files"]],
        documents=manifest["documents"], dead_letters=manifest["dead_letters"], seen_before=manifest["seen_before"],
        published_at=published_at, lag_s=lag_s)


def publish_batch(root: str, manifest: dict, first_arrival_ms: int | None = None) -> bool:
    """Write the manifest, then the ledger entry; False when the ledger already lists the batch."""
    ledger = BatchLedger.at(root)
    name = manifest["batch"]
    if name in ledger.read():
        return False
    folder = ledger.batch_path(name)
    for written in (f for section in manifest["files"].values() for f in section):
        # Never a manifest naming a file that is not there, whatever happened to the folder meanwhile.
        try:
            size = ledger.fs.size(posixpath.join(folder, written["path"]))
        except FileNotFoundError:
            size = None
        if size != written["bytes"]:
            raise RuntimeError(f"batch {name}: {written['path']} is missing or not as written; not published")
    data = dumps_json(manifest)
    replace_atomically(ledger.fs, posixpath.join(ledger.batch_path(name), MANIFEST), data)
    now = datetime.now(timezone.utc)
    lag_s = 0.0 if first_arrival_ms is None else max(0.0, round(now.timestamp() - first_arrival_ms / 1000, 3))
    ledger.record(name, entry_of(manifest, data, _iso(now), lag_s))
    return True


def roll_forward(root: str, remove_partial: bool = True) -> list[str]:
    """Enter each batch a stop left with its manifest but no ledger entry; remove other unlisted
    batch folders (``remove_partial``: not when a job is restored from a savepoint, whose state may
    still name their files). Only folders named as batches are touched. Returns what was done, one
    line each. Run by the one watch holding the lease."""
    ledger = BatchLedger.at(root)
    fs = ledger.fs
    listed = ledger.read()
    done = []
    folder = posixpath.join(ledger.root, BATCHES_DIR)
    present = fs.ls(folder, detail=False) if fs.exists(folder) else []
    names = sorted(posixpath.basename(p.rstrip("/")) for p in present)
    for name in names:
        path = ledger.batch_path(name)
        if name in listed or not BATCH_NAME.match(name) or not fs.isdir(path):
            continue  # published, or not a batch: left as it is
        data = read_bytes(fs, posixpath.join(path, MANIFEST))
        manifest = _complete_manifest(fs, path, data)
        if manifest is not None:
            ledger.record(name, entry_of(manifest, data, _now_iso()))
            done.append(f"batch {name}: its manifest was written but not entered in the ledger; entered")
        elif remove_partial:
            remove_tree(fs, path)
            done.append(f"batch {name}: not published (no complete manifest); removed, to be computed again")
    return done


def _complete_manifest(fs, path: str, data: bytes | None) -> dict | None:  # noqa: ANN001 - an fsspec filesystem
    if data is None:
        return None
    try:
        manifest = json.loads(data)
        if manifest.get("format") != BATCH_FORMAT:
            return None
        listed = [f for written in manifest["files"].values() for f in written]
        parse_iso_ms(manifest["window_start"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    for f in listed:
        try:
            if fs.size(posixpath.join(path, f["path"])) != f["bytes"]:
                return None
        except FileNotFoundError:
            return None
    return manifest


def _now_iso() -> str:
    return _iso(datetime.now(timezone.utc))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
