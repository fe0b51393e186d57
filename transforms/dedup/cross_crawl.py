"""Keys that say a document was published before, in an earlier crawl: for ``refresh.cross_crawl_dedup``.

``exact``: the normalized-text digest of exact dedup, one key per document. ``near``: its MinHash
LSH band keys, as near dedup makes them; a document sharing any band with an earlier crawl's
document is a near-duplicate of it (the same rule near dedup applies within a crawl). Each
published crawl keeps its documents' keys as a Parquet index (``index/`` in its output); a later
crawl's build joins its documents against those keys by key, in Beam.
"""

from dataclasses import dataclass

import fsspec
import pyarrow.parquet as pq

from transforms.common.records import INDEX_KEY
from transforms.dedup.minhash import MinHasher, shingles
from transforms.dedup.normalize import exact_dedup_key

EXACT, NEAR = "exact", "near"


@dataclass(frozen=True)
class CrossCrawlSettings:
    mode: str  # exact or near
    earlier_index_files: tuple[str, ...]  # URLs of earlier crawls' index files
    bands: int = 14
    rows: int = 8
    ngram: int = 5
    seed: int = 1


class DocumentKeys:
    """The keys of one document under the mode; the MinHash tables are built once."""

    def __init__(self, settings: CrossCrawlSettings) -> None:
        self.settings = settings
        self.hasher = MinHasher(settings.bands, settings.rows, settings.seed) if settings.mode == NEAR else None

    def of(self, text: str) -> list[str]:
        if self.hasher is None:
            return [exact_dedup_key(text)]
        signature = self.hasher.signature(shingles(text, self.settings.ngram))
        return [f"{band:02d}{key:016x}" for band, key in enumerate(self.hasher.band_keys(signature))]


def read_index_keys(url: str) -> list[str]:
    """Every key of one index file."""
    with fsspec.open(url, "rb") as stream:
        return pq.read_table(stream, columns=[INDEX_KEY]).column(INDEX_KEY).to_pylist()
