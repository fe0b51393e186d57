"""Dedup across the batches of a watch: a text published in an earlier batch is not published again.

Exact dedup works inside one batch; across batches each normalized-text digest remembers the
earliest batch that kept it, and a document of a later batch with that digest is counted as
``seen_before`` and dropped. Documents reach this step only once their batch is complete (exact
dedup groups each batch when its window closes), and the copies of one text go through one key
of exact dedup, whose batches close in window order: so a text is kept by the earliest batch
that holds it. (With near dedup between the two, batches whose windows close within moments of
each other may arrive out of order; a text is then kept by both, and counted as
``seen_later_first``.)

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
class InBatch:
    """A document with its batch window."""

    start_ms: int
    end_ms: int
    item: object


def still_remembered(kept_start_ms: int | None, asking_start_ms: int, ttl_ms: int | None) -> bool:
    return kept_start_ms is not None and (ttl_ms is None or asking_start_ms - kept_start_ms <= ttl_ms)


def kept_earlier(kept_start_ms: int | None, published_start_ms: int | None, start_ms: int,
                 ttl_ms: int | None) -> bool:
    """Whether a batch before the one starting at ``start_ms`` kept the text (and is still remembered)."""
    return any(s is not None and s < start_ms and still_remembered(s, start_ms, ttl_ms)
               for s in (kept_start_ms, published_start_ms))


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
