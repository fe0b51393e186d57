"""The ledger of a watch root: which batches are published under ``ROOT/batches/``, with what.

``ROOT/ledger.json`` holds one entry per published batch: the sha256 of its ``manifest.json``, its
window, the input files it holds, the files that failed in it, and its counts. An entry is
written only after the batch's manifest, by replacing the whole file atomically, so a batch in
the ledger is complete. Only one writer changes it at a time: the publish step of the one watch
that holds the root's lease (its publishes go through a single key), or that watch's driver
before the pipeline starts.

The poller reads it to skip files already published and to retry failed ones (up to a cap).
"""

import posixpath
from dataclasses import asdict, dataclass, field

import fsspec

from transforms.common.batches import parse_iso_ms
from transforms.common.fs_urls import url_of
from transforms.common.tagged_json import read_tagged, write_tagged

LEDGER = "ledger.json"
WATCH_LEDGER_FORMAT = "warcforge-watch-ledger/1"
BATCHES_DIR = "batches"
MANIFEST = "manifest.json"
WATCH_STATE_DIR = "_watch"  # the poller's claims: which batch each file was given to


@dataclass(frozen=True)
class BatchEntry:
    manifest_sha256: str
    window_start: str
    window_end: str
    files: list[str]  # input files published in this batch (their URLs, credentials redacted)
    failed: list[dict] = field(default_factory=list)  # {"url", "reason", "attempt"}: files that failed in it
    documents: int = 0
    dead_letters: int = 0
    seen_before: int = 0
    published_at: str = ""
    lag_s: float = 0.0  # from the batch's first file arriving to its publish (not part of the dataset: it varies)


class BatchLedger:
    def __init__(self, fs: fsspec.AbstractFileSystem, root: str, where: str) -> None:
        self.fs, self.root, self.where = fs, root.rstrip("/"), where
        self.path = posixpath.join(self.root, LEDGER)

    @classmethod
    def at(cls, url: str) -> "BatchLedger":
        fs, root = fsspec.core.url_to_fs(url)
        return cls(fs, root, url)

    def batch_path(self, name: str) -> str:
        return posixpath.join(self.root, BATCHES_DIR, name)

    def url_of(self, relative: str) -> str:
        """A file under ``ROOT/batches/``, as a URL workers can open."""
        return url_of(self.fs, posixpath.join(self.root, BATCHES_DIR, relative))

    def read(self) -> dict[str, BatchEntry]:
        found = read_tagged(self.fs, self.path, WATCH_LEDGER_FORMAT, "batches", lambda entry: BatchEntry(**entry),
                            lambda why: f"{self.where}/{LEDGER} is not a warcforge watch ledger ({why}); refusing "
                            "to publish batches into this root")
        return found or {}

    def record(self, name: str, entry: BatchEntry) -> None:
        """Add one batch's entry (the caller is the root's one writer)."""
        batches = {n: asdict(e) for n, e in self.read().items()}
        batches[name] = asdict(entry)
        write_tagged(self.fs, self.path, WATCH_LEDGER_FORMAT, "batches", batches)


@dataclass(frozen=True)
class FileHistory:
    """What the ledger says of the input files: published ones, and failed attempts of the others."""

    published: frozenset[str]
    failed_attempts: dict[str, int]  # url -> attempts that failed, for files not (yet) published
    last_reason: dict[str, str]
    published_until_ms: int = 0  # the end of the latest published batch window: no new file may go before it

    @classmethod
    def of(cls, batches: dict[str, BatchEntry]) -> "FileHistory":
        published = frozenset(url for entry in batches.values() for url in entry.files)
        attempts: dict[str, int] = {}
        reasons: dict[str, str] = {}
        for name in sorted(batches):
            for failed in batches[name].failed:
                url = failed["url"]
                if url not in published:
                    attempts[url] = max(attempts.get(url, 0), int(failed.get("attempt", 1)))
                    reasons[url] = str(failed.get("reason", ""))
        until = max((parse_iso_ms(entry.window_end) for entry in batches.values()), default=0)
        return cls(published, attempts, reasons, until)
