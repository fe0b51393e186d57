"""The ledger of a refresh root: which crawls are published under it, built how, when.

``ROOT/ledger.json`` holds one entry per published crawl (``ROOT/<crawl id>/``): the digest of
how it was built (``Recipe.build_digest``), the sha256 of its ``manifest.json``, its counts and
its times. An entry is written only after that crawl's publish succeeded, by replacing the whole
file atomically, so a crawl in the ledger is complete and a crawl not in it is rebuilt.
"""

import posixpath
from dataclasses import asdict, dataclass

import fsspec

from transforms.common.fs_urls import url_of
from transforms.common.tagged_json import read_tagged, write_tagged

LEDGER = "ledger.json"
LEDGER_FORMAT = "warcforge-ledger/1"


@dataclass(frozen=True)
class LedgerEntry:
    build_sha256: str  # how the crawl was built: the recipe without its crawl and crawl selection
    manifest_sha256: str
    documents: int
    dead_letters: int
    failed_shards: int
    published_at: str
    seconds: float
    # The crawl's capture window (collinfo.json's from/to): which crawls are earlier, even once
    # Common Crawl no longer lists it.
    crawl_start: str = ""
    crawl_end: str = ""


class Ledger:
    def __init__(self, fs: fsspec.AbstractFileSystem, root: str, where: str) -> None:
        self.fs, self.root, self.where = fs, root, where
        self.path = posixpath.join(root, LEDGER)

    def url_of(self, relative: str) -> str:
        """A file under the root, as a URL workers can open."""
        return url_of(self.fs, posixpath.join(self.root, relative))

    def read(self) -> dict[str, LedgerEntry]:
        found = read_tagged(self.fs, self.path, LEDGER_FORMAT, "crawls", lambda entry: LedgerEntry(**entry),
                            lambda why: f"{self.where}/{LEDGER} is not a warcforge ledger ({why}); refusing to "
                            "refresh into this root")
        return found or {}

    def record(self, crawl: str, entry: LedgerEntry) -> None:
        """Add or replace one crawl's entry; the caller holds the root's lease."""
        crawls = {name: asdict(e) for name, e in self.read().items()}
        crawls[crawl] = asdict(entry)
        write_tagged(self.fs, self.path, LEDGER_FORMAT, "crawls", crawls)
