"""The materialize pipeline's graph: pointers in, records fetched, documents rebuilt and checked, written.

Assembly only: the fetch is the reading stage's, extraction and the document-level rules are the
build's own transforms with the locked recipe's settings, and the check is the materializing stage's.
Dedup is not re-run: the pointers are its survivors, and carry its counts.
"""

import apache_beam as beam

from beam_jobs.pipeline import (
    document_spec,
    extract_settings,
    filter_settings,
    read_settings,
    rejected_spec,
    write_file_list,
)
from beam_jobs.recipe import Recipe
from transforms.common import reasons
from transforms.common.records import Document, RecordPointer, RejectedDocument
from transforms.extraction.stage import ExtractText
from transforms.filters.stage import FilterDocuments, RedactPii
from transforms.materializing.pointer_match import place_key
from transforms.materializing.stage import MatchPointers, ReadPointerFiles, RouteByFileFn
from transforms.reading.stage import FetchPointedRecords
from transforms.writing.parquet_file import ParquetSettings
from transforms.writing.schema import MISSING_SCHEMA, missing_row, missing_shard_key, missing_sort_key
from transforms.writing.stage import ShardSpec, WriteParquetShards

MISSING_DIR = "missing"


def _pointer_place(pointer: RecordPointer) -> tuple[str, RecordPointer]:
    return (place_key(pointer.id, pointer.warc_path, pointer.warc_offset), pointer)


def _document_place(doc: Document) -> tuple[str, Document]:
    return (place_key(doc.id, doc.provenance.warc_path, doc.provenance.warc_offset), doc)


def _rejected_place(rejected: RejectedDocument) -> tuple[str, RejectedDocument]:
    return (_document_place(rejected.document)[0], rejected)


def _failure_place(failure: tuple) -> tuple[str, tuple]:
    return (_pointer_place(failure[0])[0], failure)


def assemble_materialize(pipeline: beam.Pipeline, recipe: Recipe, pointer_files: list[str], urls: dict[str, str],
                         staging_root: str, rejected_shards: int) -> None:
    out = recipe.output
    settings = ParquetSettings(out.compression, out.compression_level, out.row_group_rows)
    pointers = (
        pipeline
        | "ListPointerFiles" >> beam.Create(sorted(pointer_files))
        | "ReadPointerFiles" >> ReadPointerFiles()
    )
    routed = pointers | "RouteByFile" >> beam.ParDo(RouteByFileFn(urls)).with_outputs(RouteByFileFn.UNKNOWN,
                                                                                         main="known")
    fetched = routed.known | "FetchPointedRecords" >> FetchPointedRecords(read_settings(recipe))
    failed = (fetched.fetch_failed, routed.unknown) | "AllFailures" >> beam.Flatten()
    documents = (fetched.pages | "ExtractText" >> ExtractText(extract_settings(recipe))).documents
    rejected = pipeline | "NoRejected" >> beam.Create([])
    if recipe.filters.any_document_rule():
        filtered = documents | "FilterDocuments" >> FilterDocuments(filter_settings(recipe))
        documents, rejected = filtered.kept, filtered.rejected
    if recipe.filters.pii.enabled:
        documents = documents | "RedactPii" >> RedactPii(recipe.filters.pii.email_placeholder,
                                                         recipe.filters.pii.ip_placeholder)
    matched = {
        "pointer": pointers | "PointerByPlace" >> beam.Map(_pointer_place),
        "kept": documents | "KeptByPlace" >> beam.Map(_document_place),
        "rejected": rejected | "RejectedByPlace" >> beam.Map(_rejected_place),
        "failed": failed | "FailureByPlace" >> beam.Map(_failure_place),
    } | "MatchPointers" >> MatchPointers()

    written = [
        matched.documents | "WriteDocuments" >> WriteParquetShards(document_spec(recipe, staging_root)),
        matched.missing | "WriteMissing" >> WriteParquetShards(ShardSpec(
            staging_root, MISSING_DIR, 1, MISSING_SCHEMA, missing_row, missing_sort_key, missing_shard_key,
            settings, reasons.MISSING)),
    ]
    if rejected_shards:
        written.append(matched.rejected | "WriteRejected" >> WriteParquetShards(rejected_spec(recipe, staging_root)))
    write_file_list(written, staging_root)
