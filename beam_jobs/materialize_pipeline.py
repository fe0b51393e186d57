"""The materialize pipeline's graph: pointers in, records fetched, documents rebuilt and checked, written.

Assembly only: the fetch is the reading stage's, extraction and the document-level rules are the
build's own transforms with the locked recipe's settings, and the check is the materializing stage's.
Dedup is not re-run: the pointers are its survivors, and carry its counts.
"""

from collections.abc import Callable

import apache_beam as beam

from beam_jobs.pipeline import (
    FILE_LIST,
    document_spec,
    extract_settings,
    filter_settings,
    read_settings,
    rejected_spec,
    write_json_list,
)
from beam_jobs.recipe import Recipe
from transforms.common import reasons
from transforms.common.records import Document, RecordPointer, RejectedDocument
from transforms.extraction.stage import ExtractText
from transforms.filters.stage import FilterDocuments, RedactPii
from transforms.materializing.stage import MatchPointers, ReadPointerFiles
from transforms.reading.stage import FetchPointedRecords
from transforms.writing.parquet_file import ParquetSettings
from transforms.writing.schema import MISSING_SCHEMA, missing_row, missing_shard_key, missing_sort_key
from transforms.writing.stage import ShardSpec, WriteParquetShards

MISSING_DIR = "missing"


def _by_id(item: RecordPointer | Document) -> tuple[str, object]:
    return (item.id, item)


def _rejected_by_id(rejected: RejectedDocument) -> tuple[str, RejectedDocument]:
    return (rejected.document.id, rejected)


def _keyed_by_file(urls: dict[str, str]) -> Callable[[RecordPointer], tuple[str, RecordPointer]]:
    def key(pointer: RecordPointer) -> tuple[str, RecordPointer]:
        # A pointer to a file the lock does not name is fetched from nowhere: it fails, and is listed.
        return (urls.get(pointer.warc_path, pointer.warc_path), pointer)
    return key


def assemble_materialize(pipeline: beam.Pipeline, recipe: Recipe, pointer_files: list[str], urls: dict[str, str],
                         staging_root: str, rejected_shards: int) -> None:
    out = recipe.output
    settings = ParquetSettings(out.compression, out.compression_level, out.row_group_rows)
    pointers = (
        pipeline
        | "ListPointerFiles" >> beam.Create(sorted(pointer_files))
        | "ReadPointerFiles" >> ReadPointerFiles()
    )
    fetched = (
        pointers
        | "KeyByFile" >> beam.Map(_keyed_by_file(urls))
        | "FetchPointedRecords" >> FetchPointedRecords(read_settings(recipe))
    )
    documents = (fetched.pages | "ExtractText" >> ExtractText(extract_settings(recipe))).documents
    rejected = pipeline | "NoRejected" >> beam.Create([])
    if recipe.filters.any_document_rule():
        filtered = documents | "FilterDocuments" >> FilterDocuments(filter_settings(recipe))
        documents, rejected = filtered.kept, filtered.rejected
    if recipe.filters.pii.enabled:
        documents = documents | "RedactPii" >> RedactPii(recipe.filters.pii.email_placeholder,
                                                         recipe.filters.pii.ip_placeholder)
    matched = {
        "pointer": pointers | "PointerById" >> beam.Map(_by_id),
        "kept": documents | "KeptById" >> beam.Map(_by_id),
        "rejected": rejected | "RejectedById" >> beam.Map(_rejected_by_id),
        "failed": fetched.fetch_failed,
    } | "MatchPointers" >> MatchPointers()

    written = [
        matched.documents | "WriteDocuments" >> WriteParquetShards(document_spec(recipe, staging_root)),
        matched.missing | "WriteMissing" >> WriteParquetShards(ShardSpec(
            staging_root, MISSING_DIR, 1, MISSING_SCHEMA, missing_row, missing_sort_key, missing_shard_key,
            settings, reasons.MISSING)),
    ]
    if rejected_shards:
        written.append(matched.rejected | "WriteRejected" >> WriteParquetShards(rejected_spec(recipe, staging_root)))
    _ = (
        written
        | "AllWrittenFiles" >> beam.Flatten()
        | "DescribeFiles" >> beam.Map(vars)
        | "CollectFileList" >> beam.combiners.ToList()
        | "WriteFileList" >> beam.Map(write_json_list, staging_root, FILE_LIST, "path")
    )
