"""What ``warcforge report`` reads from a dataset's Parquet files: a deterministic sample, summed up as it is read.

A section (data/, rejected/, dead_letter/, pointers/) is read whole when it holds ``SAMPLE_LIMIT`` rows or
fewer. A larger one is sampled by files: evenly spaced files in path order, the limit shared among them,
each read from its start (its first row groups). The manifest's row counts decide the plan, so the same
dataset always gives the same sample, and nothing is read twice.
"""

import math
import posixpath
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transforms.writing.publish import is_dataset_path

SAMPLE_LIMIT = 50_000  # rows read per section, at most
MIN_SAMPLED_FILES = 50  # a sampled section is read from at least this many files (where it has them)
BATCH_ROWS = 4096
EXAMPLES = 5  # rows shown in full (the text cut) per section
EXCERPT_CHARS = 300
EXAMPLE_COLUMNS = ("id", "url", "language", "text", "warc_path", "warc_offset", "filter_stage", "filter_reason")


@dataclass
class SectionSample:
    """What was read of one section: how many rows, and what the charts and tables need of them."""

    rows: int = 0
    files: int = 0  # files read
    has_text: bool = False
    has_url: bool = False
    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # characters per text
    domains: Counter = field(default_factory=Counter)
    duplicate_count: Counter = field(default_factory=Counter)
    near_dup_cluster_size: Counter = field(default_factory=Counter)
    examples: list[dict] = field(default_factory=list)


def plan_sample(entries: list[dict], limit: int = SAMPLE_LIMIT) -> list[tuple[str, int]]:
    """(path, rows to read from the file's start) for each file read, in path order."""
    files = sorted((e for e in entries if e.get("rows", 0) > 0), key=lambda e: e["path"])
    total = sum(e["rows"] for e in files)
    if total <= limit:
        return [(e["path"], e["rows"]) for e in files]
    n = len(files)
    # Enough files to hold the limit at the average file's size, and never fewer than MIN_SAMPLED_FILES:
    # a few huge files are read a little each rather than one of them a lot.
    k = min(n, max(MIN_SAMPLED_FILES, math.ceil(limit * n / total)))
    picked = [files[i * n // k] for i in range(k)]
    plan, left = [], limit
    for j, entry in enumerate(picked):
        take = min(entry["rows"], math.ceil(left / (k - j)))
        plan.append((entry["path"], take))
        left -= take
    return plan


def domain(url: str | None) -> str | None:
    """The URL's host, lower case, without a leading ``www.``; None when it has none."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


def read_section(fs: fsspec.AbstractFileSystem, root: str, entries: list[dict], columns: tuple[str, ...],
                 limit: int = SAMPLE_LIMIT, examples: int = EXAMPLES) -> SectionSample:
    """The sample of a section's files (manifest entries) that ``plan_sample`` chooses, reading only ``columns``."""
    plan = plan_sample([e for e in entries if is_dataset_path(e.get("path"))], limit)
    total = sum(rows for _, rows in plan)
    wanted = sorted({i * total // examples for i in range(min(examples, total))})
    sample, lengths, position = SectionSample(files=len(plan)), [], 0
    for batch in _batches(fs, root, plan, columns):
        names = batch.schema.names
        sample.has_text |= "text" in names
        sample.has_url |= "url" in names
        if "text" in names:
            lengths.append(pc.utf8_length(batch.column("text")).to_numpy(zero_copy_only=False))
        if "url" in names:
            sample.domains.update(d for d in map(domain, batch.column("url").to_pylist()) if d is not None)
        for name in ("duplicate_count", "near_dup_cluster_size"):
            if name in names:
                getattr(sample, name).update(batch.column(name).to_pylist())
        for at in (p for p in wanted if position <= p < position + batch.num_rows):
            sample.examples.append(_example(batch.slice(at - position, 1)))
        position += batch.num_rows
    sample.rows = position
    if lengths:
        sample.lengths = np.concatenate(lengths).astype(np.int64)
    return sample


def _batches(fs: fsspec.AbstractFileSystem, root: str, plan: list[tuple[str, int]],
             columns: tuple[str, ...]) -> Iterator[pa.RecordBatch]:
    for path, rows in plan:
        with fs.open(posixpath.join(root, path), "rb") as f:
            parquet = pq.ParquetFile(f)
            present = [c for c in columns if c in parquet.schema_arrow.names]
            left = rows
            for batch in parquet.iter_batches(batch_size=min(BATCH_ROWS, rows), columns=present):
                batch = batch.slice(0, left)
                left -= batch.num_rows
                yield batch
                if left <= 0:
                    break


def _example(row: pa.RecordBatch) -> dict:
    values = {name: row.column(name)[0].as_py() for name in EXAMPLE_COLUMNS if name in row.schema.names}
    text = values.get("text")
    if isinstance(text, str) and len(text) > EXCERPT_CHARS:
        values["text"] = text[:EXCERPT_CHARS].rstrip() + "…"
    return values
