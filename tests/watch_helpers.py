"""Helpers for the watch tests: a watch recipe, running ``warcforge watch``, and reading batches back."""

import glob
import json
import subprocess
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.conftest import WARCFORGE


def write_watch_recipe(path: Path, folder: Path, **watch: object) -> Path:
    recipe = {"name": "watched", "watch": {"paths": [str(folder / "*.warc.gz")], "poll_interval_s": 0.5,
                                           "batch_window_s": 2, **watch}}
    path.write_text(json.dumps(recipe))
    return path


def watch_once(recipe: Path, output: Path, *extra: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([WARCFORGE, "watch", "--config", str(recipe), "--output", str(output), "--once", *extra],
                          capture_output=True, text=True, timeout=timeout)


def ledger(output: Path) -> dict:
    path = output / "ledger.json"
    return json.loads(path.read_text())["batches"] if path.exists() else {}


def batch_manifests(output: Path) -> dict[str, dict]:
    return {name: json.loads((output / "batches" / name / "manifest.json").read_text()) for name in ledger(output)}


def document_rows(paths: list[str]) -> list[tuple]:
    """(id, text, warc_path) of every document in these Parquet files, sorted."""
    if not paths:
        return []
    table = pa.concat_tables([pq.read_table(p, columns=["id", "text", "warc_path"]) for p in paths])
    return sorted(zip(*(table.column(c).to_pylist() for c in ("id", "text", "warc_path")), strict=True))


def published_documents(output: Path) -> list[tuple]:
    """Documents of the batches the ledger lists (a folder it does not list is not published)."""
    paths = [str(output / "batches" / name / f["path"]) for name, manifest in batch_manifests(output).items()
             for f in manifest["files"]["data"]]
    return document_rows(paths)


def build_documents(output: Path) -> list[tuple]:
    return document_rows(sorted(glob.glob(str(output / "data" / "*.parquet"))))


def wait_for_file(output: Path, warc_path: str, timeout: float) -> float:
    """Seconds until a published batch lists the file."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if any(warc_path in [i["warc_path"] for i in m["inputs"]] for m in batch_manifests(output).values()):
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{warc_path} was not published within {timeout} s")


def assert_same_documents_as_build(output: Path, built: Path) -> None:
    """The batches together hold the build's documents: the same texts, each once. Where a text has
    copies in files of different batches, the watch keeps the earliest batch's copy (published before
    the later copy arrived) and the build the survivor rule's, so only there may the id and warc_path differ."""
    watched = {text: (doc_id, warc_path) for doc_id, text, warc_path in published_documents(output)}
    assert len(watched) == len(published_documents(output)), "a text published twice"
    table = pa.concat_tables([pq.read_table(p, columns=["id", "text", "warc_path", "duplicate_count"])
                              for p in sorted(glob.glob(str(built / "data" / "*.parquet")))])
    rows = zip(*(table.column(c).to_pylist() for c in ("id", "text", "warc_path", "duplicate_count")), strict=True)
    built_docs = {text: (doc_id, warc_path, copies) for doc_id, text, warc_path, copies in rows}
    missing, extra = built_docs.keys() - watched.keys(), watched.keys() - built_docs.keys()
    assert not missing and not extra, (
        f"{len(missing)} documents of the build not in a batch (from {sorted({built_docs[t][1] for t in missing})}), "
        f"{len(extra)} in a batch not in the build (from {sorted({watched[t][1] for t in extra})})")
    differing = [text for text, (doc_id, warc_path) in watched.items() if built_docs[text][:2] != (doc_id, warc_path)]
    assert all(built_docs[text][2] > 1 for text in differing), "a document without copies changed id"
