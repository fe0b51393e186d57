"""Common Crawl's layout: crawl ids, paths files, shard selection, and the list of crawls.

A crawl's files are listed in ``<base>/crawl-data/<crawl>/<kind>.paths.gz``, one path per line
relative to the base, so the same list works for the HTTPS endpoint, ``s3://commoncrawl/`` and
any mirror. The relative path is what a document's ``warc_path`` records for crawl sources.
"""

import gzip
import hashlib
import json
import re
from dataclasses import dataclass

from transforms.common.errors import MissingInputError, ShardUnavailable
from transforms.reading.request_failures import display_url
from transforms.reading.resumable_file import ResumableFile, RetryPolicy

DATA_BASE = "https://data.commoncrawl.org/"
INDEX_URL = "https://index.commoncrawl.org/collinfo.json"
CRAWL_ID = re.compile(r"^CC-MAIN-\d{4}(?:-\d{2,4})?$")


def paths_file_url(base: str, crawl: str, kind: str) -> str:
    return f"{base.rstrip('/')}/crawl-data/{crawl}/{kind}.paths.gz"


def join_base(base: str, relative: str) -> str:
    return f"{base.rstrip('/')}/{relative.lstrip('/')}"


def fetch_bytes(url: str, policy: RetryPolicy) -> bytes:
    """A small file (a paths list, collinfo.json), with the same retries as the shards: Common
    Crawl answers 503 under load. A host that cannot be reached fails within seconds, in words."""
    stream = ResumableFile(url, policy)
    try:
        return stream.read()
    except ShardUnavailable as exc:
        raise MissingInputError(f"cannot fetch {display_url(url)}: {exc.reason}") from None
    finally:
        stream.close()


def read_paths_file(url: str, policy: RetryPolicy) -> list[str]:
    return parse_paths_file(fetch_bytes(url, policy))


def parse_paths_file(data: bytes) -> list[str]:
    """The paths a paths file lists, gzip-compressed (as Common Crawl serves it) or not."""
    if data.startswith(b"\x1f\x8b"):
        data = gzip.decompress(data)
    return [line.strip() for line in data.decode("utf-8").splitlines() if line.strip()]


def sample_key(seed: int, path: str) -> str:
    return hashlib.sha256(f"{seed}\0{path}".encode()).hexdigest()


def select_shards(paths: list[str], first: int | None = None, sample: int | None = None, seed: int = 0,
                  files: list[str] | None = None) -> list[str]:
    """All paths, the first N, a seeded sample of N (the same whatever the list's order), or named ones."""
    if files is not None:
        known = set(paths)
        missing = [f for f in files if f not in known]
        if missing:
            raise MissingInputError(f"not in the crawl's paths file: {', '.join(missing[:5])}"
                                    + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
        return list(dict.fromkeys(files))
    if first is not None:
        return paths[:first]
    if sample is not None:
        chosen = set(sorted(paths, key=lambda p: sample_key(seed, p))[:sample])
        return [p for p in paths if p in chosen]
    return list(paths)


@dataclass(frozen=True)
class Crawl:
    id: str
    name: str
    start: str
    end: str


def list_crawls(index_url: str, policy: RetryPolicy) -> list[Crawl]:
    """Crawls from collinfo.json, newest first (by the end of their capture window, then id)."""
    entries = json.loads(fetch_bytes(index_url, policy))
    crawls = [Crawl(e["id"], e.get("name", e["id"]), e.get("from", ""), e.get("to", "")) for e in entries]
    if any(not crawl.end for crawl in crawls):
        return crawls  # without capture windows to sort by, collinfo.json's own order (newest first) stands
    return sorted(crawls, key=lambda c: (c.end, c.start, c.id), reverse=True)


def select_crawls(newest_first: list[str], since: str | None = None, newest: int | None = None,
                  named: list[str] | None = None) -> list[str]:
    """The crawls a refresh builds, oldest first: ``named`` ones, or those from ``since`` on (that
    crawl and every newer one), of which the ``newest`` N. A crawl the list does not hold is an error."""
    listed = set(newest_first)
    unknown = [crawl for crawl in (named or []) + ([since] if since else []) if crawl not in listed]
    if unknown:
        raise MissingInputError(f"crawl {unknown[0]} is not in Common Crawl's list of crawls")
    if named is not None:
        chosen = [crawl for crawl in newest_first if crawl in set(named)]
    else:
        chosen = newest_first[: newest_first.index(since) + 1] if since else list(newest_first)
        chosen = chosen[:newest] if newest else chosen
    return list(reversed(chosen))
