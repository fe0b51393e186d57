"""ReadWarcShards: input files in, HTML pages (and WET texts) out, every other record counted.

Shards are spread over workers by a Reshuffle before reading, and each file is streamed record by
record; raw HTML is never shuffled. Broken records go to the ``dead_letter`` output.
"""

import logging
import time

import apache_beam as beam
import fsspec

from transforms import reasons
from transforms.counting import StageCounters
from transforms.inputs import InputFile
from transforms.records import PageRecord
from transforms.warc_read import ReadLimits, read_shard

DEAD_LETTER = "dead_letter"
PAGES = "pages"
log = logging.getLogger("warcforge.read")


class ReadShardFn(beam.DoFn):
    def __init__(self, limits: ReadLimits) -> None:
        self.limits = limits

    def setup(self) -> None:
        self.counters = StageCounters(reasons.READ)

    def process(self, shard: InputFile):  # noqa: ANN201 - a DoFn generator
        self.counters.inc(reasons.SHARDS)
        started, records, pages = time.monotonic(), 0, 0
        with fsspec.open(shard.url, "rb") as stream:
            for decided in read_shard(stream, shard.url, shard.size, self.limits):
                if isinstance(decided, PageRecord):
                    records, pages = records + 1, pages + 1
                    self.counters.inc(reasons.IN)
                    self.counters.inc(reasons.OUT)
                    yield decided
                    continue
                if decided.reason != reasons.SHARD_READ_ERROR:
                    records += 1
                    self.counters.inc(reasons.IN)
                self.counters.inc(decided.reason)
                if decided.reason in reasons.DEAD_LETTER_REASONS:
                    yield beam.pvalue.TaggedOutput(DEAD_LETTER, decided)
        seconds = time.monotonic() - started
        log.info("read %s: %d records, %d pages, %.1f MB in %.1f s", shard.url, records, pages, shard.size / 1e6,
                 seconds)


class ReadWarcShards(beam.PTransform):
    """PCollection[InputFile] -> outputs ``pages`` (PageRecord) and ``dead_letter`` (Rejected)."""

    def __init__(self, limits: ReadLimits) -> None:
        super().__init__()
        self.limits = limits

    def expand(self, shards: beam.PCollection):  # noqa: ANN201 - Beam reads this hint; a tuple of outputs has none
        return (
            shards
            | "SpreadShardsOverWorkers" >> beam.Reshuffle()
            | "ReadAndClassifyRecords" >> beam.ParDo(ReadShardFn(self.limits)).with_outputs(DEAD_LETTER, main=PAGES)
        )
