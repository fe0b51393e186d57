"""The hot-bucket check, one job on any runner: 200,000 boilerplate pages that share every bucket,
40 unrelated pages, and what near dedup must report about them."""

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from testbed.hot_bucket_corpus import BoilerplateDocs
from tests.filter_texts import distinct_words
from transforms.common.records import Document, Provenance
from transforms.dedup.stage import NearDedup, NearDedupSettings

MEMBERS, OTHERS = 200_000, 40
SETTINGS = NearDedupSettings(bands=2, rows=4, rounds=1, hot_bucket_size=1000)


def doc(text: str, doc_id: str, date: str = "2024-01-01T00:00:00Z") -> Document:
    prov = Provenance("f.warc.gz", 0, 1, None, date, "https://x/", None, "response")
    return Document(doc_id, text, prov, "text/html", "utf-8", "")


def unrelated_pages() -> list[Document]:
    return [doc(" ".join(distinct_words(60, syllables=4, offset=1000 + 60 * i)), f"f{i:031x}") for i in range(OTHERS)]


def add_hot_bucket_job(pipeline: beam.Pipeline) -> None:
    """The boilerplate and the unrelated pages through near dedup, with the survivors asserted:
    the first boilerplate page with a cluster of all of them, and every unrelated page alone."""
    unrelated = unrelated_pages()
    survivors = ((pipeline | BoilerplateDocs(MEMBERS), pipeline | "Unrelated" >> beam.Create(unrelated))
                 | beam.Flatten()
                 | NearDedup(SETTINGS)
                 | beam.Map(lambda d: (d.id, d.near_dup_cluster_size)))
    assert_that(survivors, equal_to([(f"{0:032x}", MEMBERS)] + [(d.id, 1) for d in unrelated]))


def assert_no_worker_grouped_the_bucket(result: beam.runners.runner.PipelineResult) -> None:
    metrics = result.metrics().query()
    sizes = [d.committed or d.attempted for d in metrics["distributions"] if d.key.metric.name == "bucket_group_size"]
    assert sizes and max(size.max for size in sizes) <= SETTINGS.hot_bucket_size
    assert sum(size.count for size in sizes) == 2 * OTHERS  # every unrelated page's 2 buckets, grouped alone
    counters = {c.key.metric.name: c.committed or c.attempted for c in metrics["counters"]
                if c.key.metric.namespace == "near_dedup"}
    assert counters == {"in": MEMBERS + OTHERS, "out": 1 + OTHERS, "near_duplicate": MEMBERS - 1, "hot_buckets": 2}
