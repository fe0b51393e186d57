"""WriteParquetShards: rows to a fixed number of Parquet files whose bytes depend only on the rows.

Each row goes to the shard its sort key hashes to, and each shard is sorted by that key before
it is written, so neither bundle boundaries, worker count nor runner change a byte. Every shard
index gets a file, empty or not, so the file list is fixed by the recipe. Files go under a
staging root; publishing them is the job's last step.
"""

import collections
from collections.abc import Callable
from dataclasses import dataclass

import apache_beam as beam
import fsspec
import pyarrow as pa

from transforms.common import reasons
from transforms.common.stage import StageClock, StageCounters
from transforms.writing.parquet_file import ParquetSettings, WrittenFile, parquet_bytes, sha256_hex
from transforms.writing.shards import shard_file_name, shard_of


def write_bytes(url: str, data: bytes) -> None:
    fs, path = fsspec.core.url_to_fs(url)
    fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
    fs.pipe_file(path, data)


@dataclass(frozen=True)
class ShardSpec:
    staging_root: str
    subdir: str
    num_shards: int
    schema: pa.Schema
    to_row: Callable[[object], dict]
    sort_key: Callable[[object], tuple]
    shard_key: Callable[[object], str]
    settings: ParquetSettings
    counted_as: str
    # Optional: rows counted per value of count_by(item) (None: not counted), in the counter namespace count_in.
    count_by: Callable[[object], str | None] | None = None
    count_in: str = ""
    # False: the file's bytes are made and described (sha256, rows) but not written. A pointer build
    # describes the full dataset it points at this way, for materialize to check against.
    write: bool = True
    counter_stage: str = reasons.WRITE  # namespace of the files/rows counters


class WriteShardFn(beam.DoFn):
    def __init__(self, spec: ShardSpec) -> None:
        self.spec = spec

    def setup(self) -> None:
        self.counters = StageCounters(self.spec.counter_stage)
        self.clock = StageClock(StageCounters(reasons.PROGRESS), reasons.WRITE)
        self.by_value = StageCounters(self.spec.count_in) if self.spec.count_by is not None else None

    def process(self, shard: tuple):  # noqa: ANN201 - a DoFn generator
        index, items = shard
        spec = self.spec
        with self.clock:
            ordered = sorted((i for i in items if i is not None), key=spec.sort_key)
            rows = [spec.to_row(item) for item in ordered]
            data = parquet_bytes(rows, spec.schema, spec.settings)
            sha256 = sha256_hex(data)
            relative = shard_file_name(spec.subdir, index, spec.num_shards, sha256)
            if spec.write:
                write_bytes(f"{spec.staging_root}/{relative}", data)
        self.counters.inc(reasons.FILES)
        self.counters.inc(spec.counted_as, len(rows))
        if self.by_value is not None:
            for value, n in collections.Counter(map(spec.count_by, ordered)).items():
                if value is not None:
                    self.by_value.inc(value, n)
        yield WrittenFile(path=relative, rows=len(rows), bytes=len(data), sha256=sha256)


class WriteParquetShards(beam.PTransform):
    """PCollection[item] -> PCollection[WrittenFile], one per shard index."""

    def __init__(self, spec: ShardSpec) -> None:
        super().__init__()
        self.spec = spec

    def expand(self, items: beam.PCollection) -> beam.PCollection:
        num_shards, shard_key = self.spec.num_shards, self.spec.shard_key
        keyed = items | "KeyByShard" >> beam.Map(lambda item: (shard_of(shard_key(item), num_shards), item))
        every_index = (
            items.pipeline
            | "EveryShardIndex" >> beam.Create([(i, None) for i in range(num_shards)])
        )
        return (
            (keyed, every_index)
            | "WithEmptyShards" >> beam.Flatten()
            | "GroupByShard" >> beam.GroupByKey()
            | "SortAndWriteShard" >> beam.ParDo(WriteShardFn(self.spec))
        )
