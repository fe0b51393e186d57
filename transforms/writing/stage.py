"""WriteParquetShards: rows to a fixed number of Parquet files whose bytes depend only on the rows.

Each row goes to the shard its key hashes to, and each shard is sorted by its sort key before it
is written, so neither bundle boundaries, worker count nor runner change a byte. An item crosses the
shuffle packed (``transforms.common.packed``) beside its sort key: the shard's writer sorts the keys,
not the items, and unpacks one item at a time as the Parquet writer takes its row, so no worker holds
a shard's items decoded, and each item is packed and unpacked once. Every shard index gets a file,
empty or not, so the file list is fixed by the recipe. Files go under a staging root; publishing them
is the job's last step.
"""

import collections
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import itemgetter

import apache_beam as beam
import fsspec
import pyarrow as pa
from apache_beam.metrics import Metrics

from transforms.common import reasons
from transforms.common.batch_ledger import BATCHES_DIR, BatchLedger, FileHistory
from transforms.common.batches import batch_name, window_ms
from transforms.common.packed import pack, pickled, unpack
from transforms.common.secrets import redact_text
from transforms.common.stage import StageClock, StageCounters
from transforms.writing.batch_publish import batch_manifest, publish_batch
from transforms.writing.parquet_file import ParquetSettings, WrittenFile, parquet_bytes, sha256_hex
from transforms.writing.shards import shard_file_name, shard_of

log = logging.getLogger("warcforge.watch")


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
    # A shard's rows are in the order of their sort keys (of values that compare with each other's),
    # rows whose keys are equal in the order of their items' pickles.
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
    # warcforge watch: files go to staging_root/batches/<batch>/<subdir>/, the batch named by the window.
    in_batches: bool = False


def shard_entry(item: object, spec: ShardSpec) -> tuple[int, tuple[tuple, bytes]]:
    """(its shard, (its sort key, the item packed)): what an item crosses the shuffle to its writer as.

    Packed (transforms/common/packed.py): the documents of a whole output wait in the shuffle, in the
    DirectRunner's own process, at about a third of their text's size."""
    return shard_of(spec.shard_key(item), spec.num_shards), (spec.sort_key(item), pack(item))


def _order_ties(keyed: list[tuple[tuple, bytes]]) -> None:
    """Puts each run of items with equal sort keys (one record read twice) in the order of their pickles,
    so the order never depends on the order the shuffle gave, nor on whether the items crossed it
    compressed (``transforms.common.packed``)."""
    start = 0
    for end in range(1, len(keyed) + 1):
        if end < len(keyed) and keyed[end][0] == keyed[start][0]:
            continue
        if end - start > 1:
            keyed[start:end] = sorted(keyed[start:end], key=lambda part: pickled(part[1]))
        start = end


class WriteShardFn(beam.DoFn):
    """(shard, its (sort key, packed item) pairs and its marker) -> the shard's file, rows in sort order."""

    def __init__(self, spec: ShardSpec) -> None:
        self.spec = spec

    def setup(self) -> None:
        self.counters = StageCounters(self.spec.counter_stage)
        self.clock = StageClock(StageCounters(reasons.PROGRESS), reasons.WRITE)
        self.by_value = StageCounters(self.spec.count_in) if self.spec.count_by is not None else None

    def process(self, shard: tuple, batch=beam.DoFn.WindowParam):  # noqa: ANN001, ANN201 - a DoFn generator
        index, parts = shard
        spec = self.spec
        root = spec.staging_root
        if spec.in_batches:
            root = f"{root}/{BATCHES_DIR}/{batch_name(*window_ms(batch))}"
        with self.clock:
            keyed = sorted((part for part in parts if part is not None), key=itemgetter(0))  # None: the marker
            _order_ties(keyed)
            rows = len(keyed)
            tally: collections.Counter = collections.Counter()
            data = parquet_bytes(self._rows_in_order(keyed, tally), spec.schema, spec.settings)
            sha256 = sha256_hex(data)
            relative = shard_file_name(spec.subdir, index, spec.num_shards, sha256)
            if spec.write:
                write_bytes(f"{root}/{relative}", data)
        if self.by_value is not None:
            for value, n in sorted(tally.items()):
                self.by_value.inc(value, n)
        self.counters.inc(reasons.FILES)
        self.counters.inc(spec.counted_as, rows)
        yield WrittenFile(path=relative, rows=rows, bytes=len(data), sha256=sha256)

    def _rows_in_order(self, keyed: list, tally: collections.Counter) -> Iterator[dict]:
        """Each item's row, unpacked as the writer takes it; its packed form is let go once it is."""
        count_by = self.spec.count_by
        for position, (_, packed) in enumerate(keyed):
            keyed[position] = None
            item = unpack(packed)
            if count_by is not None and (value := count_by(item)) is not None:
                tally[value] += 1
            yield self.spec.to_row(item)


class WriteParquetShards(beam.PTransform):
    """PCollection[item] -> PCollection[WrittenFile], one per shard index."""

    def __init__(self, spec: ShardSpec, every_batch: beam.PCollection | None = None) -> None:
        """``every_batch`` (watch): a collection with an element in every batch window, each of which
        gets every shard file; without it the one global window does."""
        super().__init__()
        self.spec, self.every_batch = spec, every_batch

    def expand(self, items: beam.PCollection) -> beam.PCollection:
        num_shards = self.spec.num_shards
        if self.every_batch is None:
            # Without Create's own reshuffle: the markers go straight to the GroupByKey.
            every_index = items.pipeline | "EveryShardIndex" >> beam.Create(
                [(i, None) for i in range(num_shards)], reshuffle=False)
        else:
            every_index = self.every_batch | "EveryShardIndex" >> beam.FlatMap(
                lambda _: [(i, None) for i in range(num_shards)])
        # Typed Any, as the markers are: with the value typed, Flink's streaming runner took a marker's None
        # as a null, which its state for the grouping refuses (the watch tests in tests/test_flink.py).
        keyed = items | "KeyByShard" >> beam.Map(shard_entry, self.spec).with_output_types(beam.typehints.Any)
        return (
            (keyed, every_index)
            | "WithEmptyShards" >> beam.Flatten()
            | "GroupByShard" >> beam.GroupByKey()
            | "SortAndWriteShard" >> beam.ParDo(WriteShardFn(self.spec))
        )


INPUT, FAILED, WRITTEN, SEEN = "input", "failed", "written", "seen_before"


class PublishBatchFn(beam.DoFn):
    """All of one batch's parts (one key per window) -> its manifest and ledger entry."""

    def __init__(self, root: str, header: dict) -> None:
        self.root, self.header = root, header

    def setup(self) -> None:
        self.counters = StageCounters(reasons.WATCH)
        self.lag = Metrics.distribution(reasons.WATCH, reasons.LAG_MS)

    def process(self, keyed: tuple, batch=beam.DoFn.WindowParam):  # noqa: ANN001, ANN201 - a DoFn generator
        _, parts = keyed
        inputs, failed, files, seen = [], [], collections.defaultdict(list), 0
        arrivals = []
        for kind, payload in parts:
            if kind == INPUT:
                shard, arrived_ms = payload
                inputs.append({"url": redact_text(shard.url), "warc_path": shard.warc_path, "size": shard.size})
                arrivals.append(arrived_ms)
            elif kind == FAILED:
                failed.append(payload)
            elif kind == WRITTEN:
                files[payload[0]].append(payload[1])
            else:
                seen += payload
        start_ms, end_ms = window_ms(batch)
        history = FileHistory.of(BatchLedger.at(self.root).read())
        manifest = batch_manifest(self.header, start_ms, end_ms, inputs, failed, files, seen, history)
        if not publish_batch(self.root, manifest, min(arrivals, default=None)):
            self.counters.inc(reasons.BATCHES_ALREADY_PUBLISHED)
            log.info("batch %s: already published", manifest["batch"])
            return
        now_ms = int(time.time() * 1000)
        for arrived_ms in arrivals:
            self.lag.update(max(0, now_ms - arrived_ms))
        self.counters.inc(reasons.BATCHES_PUBLISHED)
        self.counters.inc(reasons.FILES_DONE, len(manifest["inputs"]))
        self.counters.inc(reasons.FILES_FAILING, len(manifest["failed_files"]))
        log.debug("published batch %s: %d files, %d documents, %d seen before, %d files failed", manifest["batch"],
                 len(manifest["inputs"]), manifest["documents"], seen, len(manifest["failed_files"]))
        yield manifest["batch"]


def _arrival(shard: object, at=beam.DoFn.TimestampParam) -> tuple[str, tuple]:  # noqa: ANN001
    return INPUT, (shard, at.micros // 1000)


class PublishBatches(beam.PTransform):
    """Per batch window: the files given to it, those that failed, the files written and the count of
    documents seen before -> one publish, once the window has closed. Returns the batch names."""

    def __init__(self, root: str, header: dict, written: dict[str, beam.PCollection]) -> None:
        super().__init__()
        self.root, self.header, self.written = root, header, written

    def expand(self, pcolls: tuple) -> beam.PCollection:
        arrived, failed, seen = pcolls
        parts = [
            arrived | "TagInputs" >> beam.Map(_arrival),
            failed | "TagFailed" >> beam.Map(lambda f: (FAILED, f)),
            seen | "TagSeenBefore" >> beam.Map(lambda n: (SEEN, n)),
        ]
        for subdir, files in sorted(self.written.items()):
            parts.append(files | f"Tag{subdir.title().replace('_', '')}Files" >> beam.Map(
                lambda f, subdir=subdir: (WRITTEN, (subdir, f))))
        return (
            parts
            | "AllPartsOfTheBatch" >> beam.Flatten()
            | "OneKeyPerBatch" >> beam.Map(lambda part: (0, part))
            | "GatherTheBatch" >> beam.GroupByKey()
            | "PublishTheBatch" >> beam.ParDo(PublishBatchFn(self.root, self.header))
        )
