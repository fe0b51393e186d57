"""Dedup across the batches of a watch: a text published in an earlier batch is not published again.

Exact dedup works inside one batch; across batches each normalized-text digest remembers the
earliest batch that kept it. The decision for a batch waits until the batch is complete (its
window closed), and then goes in batch order, so which copy is kept depends only on the batches,
never on which worker got there first: the earliest batch keeps the text, every later batch
counts it as ``seen_before``.

Two memories answer "kept in an earlier batch?": the runner's keyed state (one entry per digest
kept while this watch runs; RocksDB on Flink), and the digests of batches published before it
started (their ``index/`` files, loaded once per worker). With ``seen_ttl_days`` a digest is
forgotten once its batch is that much older than the batch asking: state and memory stop growing
with the life of the watch and hold the documents of the last ``seen_ttl_days`` days.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

from transforms.common.batch_ledger import MANIFEST, BatchLedger
from transforms.common.batches import parse_iso_ms

DAY_MS = 86_400_000


@dataclass(frozen=True)
class SeenSettings:
    root: str  # the watch root: published batches' index files
    ttl_ms: int | None  # None: remember forever
    index_dir: str = "index"


@dataclass(frozen=True)
class Waiting:
    """A document waiting for its batch to close: its batch window, and the document."""

    start_ms: int
    end_ms: int
    item: object


def still_remembered(kept_start_ms: int | None, asking_start_ms: int, ttl_ms: int | None) -> bool:
    return kept_start_ms is not None and (ttl_ms is None or asking_start_ms - kept_start_ms <= ttl_ms)


def decide(waiting: list[Waiting], kept_start_ms: int | None, prior_start_ms: int | None, due_ms: int,
           ttl_ms: int | None) -> tuple[list[Waiting], list[Waiting], list[Waiting], int | None]:
    """Decide the waiting documents whose batch closed by ``due_ms`` (window end - 1 ms <= due),
    earliest batch first. Returns (kept, seen before, still waiting, the batch now keeping the text)."""
    kept, seen, rest = [], [], []
    for w in sorted(waiting, key=lambda w: (w.start_ms, w.end_ms)):
        if w.end_ms - 1 > due_ms:
            rest.append(w)
            continue
        earlier = [s for s in (kept_start_ms, prior_start_ms)
                   if s is not None and s < w.start_ms and still_remembered(s, w.start_ms, ttl_ms)]
        if earlier:
            seen.append(w)
        else:
            kept.append(w)
            if kept_start_ms is None or not still_remembered(kept_start_ms, w.start_ms, ttl_ms):
                kept_start_ms = w.start_ms
    return kept, seen, rest, kept_start_ms


def published_digests(settings: SeenSettings, now_ms: int,
                      read_keys: Callable[[str], list[str]]) -> dict[str, int]:
    """{digest: start of the earliest published batch holding it} over the batches the TTL still
    covers at ``now_ms``; ``read_keys(url)`` reads one index file's keys."""
    ledger = BatchLedger.at(settings.root)
    found: dict[str, int] = {}
    for name, entry in sorted(ledger.read().items(), key=lambda item: parse_iso_ms(item[1].window_start)):
        start = parse_iso_ms(entry.window_start)
        if settings.ttl_ms is not None and now_ms - start > settings.ttl_ms:
            continue
        with ledger.fs.open(f"{ledger.batch_path(name)}/{MANIFEST}", "rb") as stream:
            listed = json.load(stream).get("files", {}).get(settings.index_dir, [])
        for file in listed:
            for key in read_keys(ledger.url_of(f"{name}/{file['path']}")):
                found.setdefault(key, start)
    return found
