"""The build pipeline's graph: read, extract, deduplicate, write. Assembly only, no rules."""

import operator

import apache_beam as beam

from beam_jobs.recipe import Recipe
from beam_jobs.run_lists import FAILED_SHARDS_LIST, FILE_LIST, listed, write_json_lists
from transforms.common import reasons
from transforms.dedup.cross_crawl import CrossCrawlSettings
from transforms.dedup.stage import CrossCrawlDedup, DedupByUrl, ExactDedup, NearDedup, NearDedupSettings
from transforms.extraction.html_text import ExtractOptions
from transforms.extraction.stage import ExtractSettings, ExtractText
from transforms.filters.quality_rules import FilterSettings, LanguageRule, UrlLists
from transforms.filters.stage import FilterDocuments, RedactPii
from transforms.reading.classify_records import ReadRules
from transforms.reading.resumable_file import RetryPolicy
from transforms.reading.sources import InputFile
from transforms.reading.stage import ReadSettings, ReadWarcShards
from transforms.writing.parquet_file import ParquetSettings
from transforms.writing.schema import (
    DEAD_LETTER_SCHEMA,
    DOCUMENT_SCHEMA,
    INDEX_SCHEMA,
    POINTER_SCHEMA,
    REJECTED_POINTER_SCHEMA,
    REJECTED_SCHEMA,
    dead_letter_row,
    dead_letter_shard_key,
    dead_letter_sort_key,
    document_row,
    document_shard_key,
    document_sort_key,
    index_row,
    index_shard_key,
    index_sort_key,
    pointer_row,
    rejected_pointer_row,
    rejected_row,
    rejected_shard_key,
    rejected_sort_key,
)
from transforms.writing.stage import ShardSpec, WriteParquetShards

DOCUMENTS_DIR = "data"
DEAD_LETTER_DIR = "dead_letter"
REJECTED_DIR = "rejected"
INDEX_DIR = "index"
POINTERS_DIR = "pointers"
REJECTED_POINTERS_DIR = "rejected_pointers"


def write_file_list(written: list[beam.PCollection], staging_root: str,
                    failed_shards: beam.PCollection | None = None) -> None:
    """Every file the writers wrote (or described), as one sorted list in ``_files.json`` under staging; given
    ``failed_shards``, those as ``_failed_shards.json``, gathered with the files: each global gathering costs
    the runner stages of its own. Every writer writes a file for each of its shards, so the gathering is never
    empty and needs no default (a default for an empty input is another stage)."""
    lists = ((FILE_LIST, "path"),) + (((FAILED_SHARDS_LIST, "warc_path"),) if failed_shards is not None else ())
    _ = (
        [*written, *([failed_shards] if failed_shards is not None else [])]
        | "AllWrittenFiles" >> beam.Flatten()
        | "DescribeFiles" >> beam.Map(listed)
        | "CollectFileList" >> beam.combiners.ToList().without_defaults()
        | "WriteFileList" >> beam.Map(write_json_lists, staging_root, lists)
    )


def extract_settings(recipe: Recipe) -> ExtractSettings:
    e = recipe.extract
    options = ExtractOptions(e.main_content, e.alt_texts, e.links, e.list_bullets, e.preserve_formatting)
    return ExtractSettings(options, e.extractor, e.timeout_s)


def filter_settings(recipe: Recipe) -> FilterSettings:
    f = recipe.filters
    # Lists resolve against the recipe's folder, and travel absolute: workers do not share the driver's
    # working directory.
    url = UrlLists(*(tuple(recipe.resolve_path(p) for p in getattr(f.url, kind))
                     for kind in ("domains", "urls", "words", "subwords")))
    language = LanguageRule(tuple(f.language.keep), f.language.min_score, f.language.max_chars)
    return FilterSettings(
        url=url if f.url.enabled else None,
        language=language if f.language.enabled else None,
        gopher_repetition=f.gopher_repetition.params() if f.gopher_repetition.enabled else None,
        gopher_quality=f.gopher_quality.params() if f.gopher_quality.enabled else None,
        c4=f.c4.params() if f.c4.enabled else None,
        fineweb=f.fineweb_quality.params() if f.fineweb_quality.enabled else None,
        rejected_sample_rate=f.rejected_sample_rate,
    )


def read_settings(recipe: Recipe) -> ReadSettings:
    read = recipe.read
    policy = RetryPolicy(max_requests_per_host=read.max_requests_per_host, **read.retry.model_dump())
    return ReadSettings(ReadRules(read.max_payload_bytes, read.keep_truncated), policy,
                        skip_failed_shards=read.on_shard_failure == "skip")


def cross_crawl_settings(recipe: Recipe, earlier_index_files: list[str]) -> CrossCrawlSettings | None:
    """Cross-crawl dedup for a refresh recipe that asks for it; ``earlier_index_files`` are the index
    files of the earlier crawls it is compared with (none for the first crawl: it still writes its index)."""
    mode = recipe.refresh.cross_crawl_dedup if recipe.refresh else "off"
    if mode == "off":
        return None
    near = recipe.dedup.near
    return CrossCrawlSettings(mode, tuple(earlier_index_files), near.bands, near.rows, near.ngram, near.seed)


def document_spec(recipe: Recipe, staging_root: str, write: bool = True) -> ShardSpec:
    """How documents are written: materialize writes them exactly as a build does."""
    return ShardSpec(staging_root, DOCUMENTS_DIR, recipe.output.num_shards, DOCUMENT_SCHEMA, document_row,
                     document_sort_key, document_shard_key, parquet_settings(recipe), reasons.DOCUMENTS,
                     count_by=operator.attrgetter("language"), count_in=reasons.LANGUAGES, write=write)


def rejected_spec(recipe: Recipe, staging_root: str, write: bool = True) -> ShardSpec:
    return ShardSpec(staging_root, REJECTED_DIR, recipe.output.rejected_shards, REJECTED_SCHEMA, rejected_row,
                     rejected_sort_key, rejected_shard_key, parquet_settings(recipe), reasons.REJECTED, write=write)


def parquet_settings(recipe: Recipe) -> ParquetSettings:
    out = recipe.output
    return ParquetSettings(out.compression, out.compression_level, out.row_group_rows)


def document_stages(pages: beam.PCollection, recipe: Recipe) -> tuple:
    """Pages to documents: extract, filter, deduplicate by URL, exactly and nearly, as the recipe says.
    Returns (documents, [rejected documents] or [], the extraction's outputs). The same stages for a
    build and for each batch of a watch (whose windows they keep)."""
    extracted = pages | "ExtractText" >> ExtractText(extract_settings(recipe))
    documents = extracted.documents
    rejected = []
    if recipe.filters.any_document_rule():
        filtered = documents | "FilterDocuments" >> FilterDocuments(filter_settings(recipe))
        documents, rejected = filtered.kept, [filtered.rejected]
    if recipe.dedup.url != "off":
        documents = documents | "DedupByUrl" >> DedupByUrl(recipe.dedup.url)
    if recipe.dedup.exact:
        documents = documents | "ExactDedup" >> ExactDedup(recipe.dedup.survivor)
    if recipe.dedup.near.enabled:
        near = recipe.dedup.near
        documents = documents | "NearDedup" >> NearDedup(NearDedupSettings(
            near.bands, near.rows, near.ngram, near.seed, near.rounds, near.hot_bucket_size, near.survivor))
    return documents, rejected, extracted


def redact_pii(documents: beam.PCollection, recipe: Recipe) -> beam.PCollection:
    pii = recipe.filters.pii
    if not pii.enabled:
        return documents
    return documents | "RedactPii" >> RedactPii(pii.email_placeholder, pii.ip_placeholder)


def assemble(pipeline: beam.Pipeline, recipe: Recipe, inputs: list[InputFile], staging_root: str,
             cross_crawl: CrossCrawlSettings | None = None, pointers: bool = False) -> None:
    """The build's graph. With ``pointers`` the documents (and sampled rejected documents) are written as
    pointers, and the Parquet files a full build would write are only described (for materialize)."""
    out = recipe.output
    settings = parquet_settings(recipe)

    read = (
        pipeline
        | "ListInputFiles" >> beam.Create(inputs, reshuffle=False)  # ReadWarcShards spreads them over workers
        | "ReadWarcShards" >> ReadWarcShards(read_settings(recipe))
    )
    documents, rejected, extracted = document_stages(read.pages, recipe)
    index_keys = None
    if cross_crawl is not None:
        documents, index_keys = documents | "CrossCrawlDedup" >> CrossCrawlDedup(cross_crawl)
    documents = redact_pii(documents, recipe)

    document_files = documents | "WriteDocuments" >> WriteParquetShards(
        document_spec(recipe, staging_root, write=not pointers))
    dead_letter_files = (
        (read.dead_letter, extracted.dead_letter)
        | "AllDeadLetters" >> beam.Flatten()
        | "WriteDeadLetters" >> WriteParquetShards(
            ShardSpec(staging_root, DEAD_LETTER_DIR, out.dead_letter_shards, DEAD_LETTER_SCHEMA,
                      dead_letter_row, dead_letter_sort_key, dead_letter_shard_key, settings,
                      reasons.DEAD_LETTERS)
        )
    )
    written = [document_files, dead_letter_files]
    if index_keys is not None:
        written.append(index_keys | "WriteCrossCrawlIndex" >> WriteParquetShards(
            ShardSpec(staging_root, INDEX_DIR, out.num_shards, INDEX_SCHEMA, index_row, index_sort_key,
                      index_shard_key, settings, reasons.INDEX_KEYS)))
    if rejected:
        written.append(rejected[0] | "WriteRejected" >> WriteParquetShards(
            rejected_spec(recipe, staging_root, write=not pointers)))
    if pointers:
        # The pointer dataset itself; the Parquet files above were only described, for materialize to check.
        written.append(documents | "WritePointers" >> WriteParquetShards(ShardSpec(
            staging_root, POINTERS_DIR, out.num_shards, POINTER_SCHEMA, pointer_row, document_sort_key,
            document_shard_key, settings, reasons.POINTERS, counter_stage=reasons.POINTERS)))
        if rejected:
            written.append(rejected[0] | "WriteRejectedPointers" >> WriteParquetShards(ShardSpec(
                staging_root, REJECTED_POINTERS_DIR, out.rejected_shards, REJECTED_POINTER_SCHEMA,
                rejected_pointer_row, rejected_sort_key, rejected_shard_key, settings, reasons.REJECTED,
                counter_stage=reasons.POINTERS)))
    write_file_list(written, staging_root, read.failed_shards)
