"""The watch pipeline's graph: arrived files in batch windows, through the build's stages, published
batch by batch. Assembly only, no rules.

    arrivals (PollForFiles, or a fixed list)  ->  batch windows of watch.batch_window_s
      -> ReadWarcShards -> extract, filter, dedup (document_stages, as a build)
      -> SeenInEarlierBatch (exact dedup across batches, keyed state) -> PII
      -> Parquet shards into batches/<batch>/ -> PublishBatches (manifest last, then the ledger)
"""

from dataclasses import dataclass, replace

import apache_beam as beam
from apache_beam.transforms import window
from apache_beam.transforms.periodicsequence import PeriodicImpulse

from beam_jobs.pipeline import (
    DEAD_LETTER_DIR,
    DOCUMENTS_DIR,
    INDEX_DIR,
    REJECTED_DIR,
    document_spec,
    document_stages,
    parquet_settings,
    read_settings,
    redact_pii,
    rejected_spec,
)
from beam_jobs.recipe import Recipe
from transforms.common import reasons
from transforms.dedup.seen_before import DAY_MS, SeenSettings
from transforms.dedup.stage import SeenInEarlierBatch
from transforms.reading.poller import PollSettings
from transforms.reading.sources import InputFile
from transforms.reading.stage import PollForFilesFn, ReadWarcShards
from transforms.writing.schema import (
    DEAD_LETTER_SCHEMA,
    INDEX_SCHEMA,
    dead_letter_row,
    dead_letter_shard_key,
    dead_letter_sort_key,
    index_row,
    index_shard_key,
    index_sort_key,
)
from transforms.writing.stage import PublishBatches, ShardSpec, WriteParquetShards


@dataclass(frozen=True)
class WatchPlan:
    recipe: Recipe
    root: str  # ROOT: batches/, ledger.json, _watch/
    poll: PollSettings
    header: dict  # what every batch manifest says of the recipe and versions
    start_s: float  # the first poll (epoch seconds)
    stop_s: float | None = None  # None: poll until stopped


def poll_arrivals(pipeline: beam.Pipeline, plan: WatchPlan) -> beam.PCollection:
    """An unbounded stream of arrived files: a tick every poll interval, one poller (a single key)."""
    return (
        pipeline
        | "EveryPollInterval" >> PeriodicImpulse(start_timestamp=plan.start_s, stop_timestamp=plan.stop_s or 1e11,
                                                 fire_interval=plan.poll.poll_interval_s)
        | "OnePoller" >> beam.Map(lambda tick: (0, tick))
        | "PollForFiles" >> beam.ParDo(PollForFilesFn(plan.poll))
    )


def listed_arrivals(pipeline: beam.Pipeline, arrived: list[tuple[InputFile, int]]) -> beam.PCollection:
    """A fixed list of arrived files, each with its arrival time (ms): the bounded form of a watch."""
    return (
        pipeline
        | "ArrivedFiles" >> beam.Create(arrived)
        | "AtArrival" >> beam.Map(lambda pair: window.TimestampedValue(pair[0], pair[1] / 1000))
    )


def assemble_watch(plan: WatchPlan, arrivals: beam.PCollection) -> beam.PCollection:
    """The pipeline after the arrivals; returns the names of the batches published."""
    recipe, root = plan.recipe, plan.root
    out, settings = recipe.output, parquet_settings(recipe)
    files = arrivals | "IntoBatches" >> beam.WindowInto(window.FixedWindows(plan.poll.window_s))
    # A file that fails after its retries goes to its batch's failed_files, to be read again later.
    read = files | "ReadWarcShards" >> ReadWarcShards(replace(read_settings(recipe), skip_failed_shards=True))
    documents, rejected, extracted = document_stages(read.pages, recipe)
    ttl_days = recipe.watch.seen_ttl_days
    seen_settings = SeenSettings(root, None if ttl_days is None else round(ttl_days * DAY_MS))
    documents, kept_keys, seen = documents | "SeenInEarlierBatch" >> SeenInEarlierBatch(
        seen_settings, plan.poll.window_s)
    documents = redact_pii(documents, recipe)

    def write(items: beam.PCollection, label: str, spec: ShardSpec) -> beam.PCollection:
        return items | label >> WriteParquetShards(replace(spec, in_batches=True), every_batch=files)

    written = {
        DOCUMENTS_DIR: write(documents, "WriteDocuments", document_spec(recipe, root)),
        DEAD_LETTER_DIR: write(
            (read.dead_letter, extracted.dead_letter) | "AllDeadLetters" >> beam.Flatten(), "WriteDeadLetters",
            ShardSpec(root, DEAD_LETTER_DIR, out.dead_letter_shards, DEAD_LETTER_SCHEMA, dead_letter_row,
                      dead_letter_sort_key, dead_letter_shard_key, settings, reasons.DEAD_LETTERS)),
        # The digests of the batch's documents: a later watch (a restart) drops their copies as seen_before.
        INDEX_DIR: write(kept_keys, "WriteSeenIndex", ShardSpec(
            root, INDEX_DIR, 1, INDEX_SCHEMA, index_row, index_sort_key, index_shard_key, settings,
            reasons.INDEX_KEYS)),
    }
    if rejected:
        written[REJECTED_DIR] = write(rejected[0], "WriteRejected", rejected_spec(recipe, root))
    return (files, read.failed_shards, seen) | "PublishBatches" >> PublishBatches(root, plan.header, written)
