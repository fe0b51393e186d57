"""The build pipeline's graph: read, extract, deduplicate, write. Assembly only, no rules."""

import json

import apache_beam as beam

from transforms import reasons
from transforms.dedup_exact import ExactDedup
from transforms.extract_text import ExtractText
from transforms.html_text import ExtractOptions
from transforms.inputs import InputFile
from transforms.parquet_file import ParquetSettings, WrittenFile
from transforms.read_warc import ReadWarcShards
from transforms.recipe import Recipe
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
from transforms.warc_read import ReadLimits
from transforms.write_shards import ShardSpec, WriteParquetShards, write_bytes

DOCUMENTS_DIR = "data"
DEAD_LETTER_DIR = "dead_letter"
FILE_LIST = "_files.json"


def write_file_list(files: list[WrittenFile], staging_root: str) -> None:
    listing = [vars(f) for f in sorted(files, key=lambda f: f.path)]
    write_bytes(f"{staging_root}/{FILE_LIST}", json.dumps(listing).encode("utf-8"))


def assemble(pipeline: beam.Pipeline, recipe: Recipe, inputs: list[InputFile], staging_root: str) -> None:
    out = recipe.output
    settings = ParquetSettings(out.compression, out.compression_level, out.row_group_rows)

    read = (
        pipeline
        | "ListInputFiles" >> beam.Create(inputs)
        | "ReadWarcShards" >> ReadWarcShards(ReadLimits(recipe.read.max_payload_bytes))
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
        | "CollectFileList" >> beam.combiners.ToList()
        | "WriteFileList" >> beam.Map(write_file_list, staging_root)
    )
