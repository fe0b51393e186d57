"""The build pipeline's graph: read, extract, deduplicate, write. Assembly only, no rules."""

import json

import apache_beam as beam

from transforms import reasons
from transforms.dedup_exact import ExactDedup
from transforms.extract_text import ExtractText
from transforms.html_text import ExtractOptions
from transforms.inputs import InputFile
from transforms.parquet_file import ParquetSettings
from transforms.read_warc import ReadSettings, ReadWarcShards
from transforms.recipe import Recipe
from transforms.resilient_read import RetryPolicy
from transforms.schema import (
    DEAD_LETTER_SCHEMA,
    DOCUMENT_SCHEMA,
    dead_letter_row,
    dead_letter_shard_key,
    dead_letter_sort_key,
    document_row,
    document_shard_key,
    document_sort_key,
)
from transforms.warc_read import ReadRules
from transforms.write_shards import ShardSpec, WriteParquetShards, write_bytes

DOCUMENTS_DIR = "data"
DEAD_LETTER_DIR = "dead_letter"
FILE_LIST = "_files.json"
FAILED_SHARDS_LIST = "_failed_shards.json"


def write_json_list(items: list[dict], staging_root: str, name: str, sort_key: str) -> None:
    listing = sorted(items, key=lambda item: item[sort_key])
    write_bytes(f"{staging_root}/{name}", json.dumps(listing).encode("utf-8"))


def read_settings(recipe: Recipe) -> ReadSettings:
    read = recipe.read
    policy = RetryPolicy(max_requests_per_host=read.max_requests_per_host, **read.retry.model_dump())
    return ReadSettings(ReadRules(read.max_payload_bytes, read.keep_truncated), policy,
                        skip_failed_shards=read.on_shard_failure == "skip")


def assemble(pipeline: beam.Pipeline, recipe: Recipe, inputs: list[InputFile], staging_root: str) -> None:
    out = recipe.output
    settings = ParquetSettings(out.compression, out.compression_level, out.row_group_rows)

    read = (
        pipeline
        | "ListInputFiles" >> beam.Create(inputs)
        | "ReadWarcShards" >> ReadWarcShards(read_settings(recipe))
    )
    extracted = read.pages | "ExtractText" >> ExtractText(ExtractOptions(**recipe.extract.model_dump()))
    documents = extracted.documents
    if recipe.dedup.exact:
        documents = documents | "ExactDedup" >> ExactDedup(recipe.dedup.survivor)

    document_files = documents | "WriteDocuments" >> WriteParquetShards(
        ShardSpec(staging_root, DOCUMENTS_DIR, out.num_shards, DOCUMENT_SCHEMA, document_row,
                  document_sort_key, document_shard_key, settings, reasons.DOCUMENTS)
    )
    dead_letter_files = (
        (read.dead_letter, extracted.dead_letter)
        | "AllDeadLetters" >> beam.Flatten()
        | "WriteDeadLetters" >> WriteParquetShards(
            ShardSpec(staging_root, DEAD_LETTER_DIR, out.dead_letter_shards, DEAD_LETTER_SCHEMA,
                      dead_letter_row, dead_letter_sort_key, dead_letter_shard_key, settings,
                      reasons.DEAD_LETTERS)
        )
    )
    _ = (
        (document_files, dead_letter_files)
        | "AllWrittenFiles" >> beam.Flatten()
        | "DescribeFiles" >> beam.Map(vars)
        | "CollectFileList" >> beam.combiners.ToList()
        | "WriteFileList" >> beam.Map(write_json_list, staging_root, FILE_LIST, "path")
    )
    _ = (
        read.failed_shards
        | "CollectFailedShards" >> beam.combiners.ToList()
        | "WriteFailedShards" >> beam.Map(write_json_list, staging_root, FAILED_SHARDS_LIST, "warc_path")
    )
