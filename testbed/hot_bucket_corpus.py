"""A hot bucket to order: near-identical boilerplate pages that share every LSH bucket.

Generated inside the pipeline from chunk starts, spread over workers by a shuffle, so that no
worker starts with the whole bucket and a runner that bounds bundles can show what near dedup
itself holds. Used by the hot-bucket benchmark and by the Flink test.
"""

import apache_beam as beam

from transforms.common.records import Document, Provenance

BOILERPLATE = "the same boilerplate page with a cookie notice and a footer repeated on every site " * 3
CHUNK = 1000


def boilerplate_doc(i: int) -> Document:
    provenance = Provenance("hot-bucket.warc.gz", i, 1, None, "2024-01-01T00:00:00Z", f"https://ex.com/{i}", None,
                            "response")
    return Document(f"{i:032x}", BOILERPLATE + f"item {i:07d}", provenance, "text/html", "utf-8", "")


class BoilerplateDocs(beam.PTransform):
    """``members`` boilerplate documents, ids 0 to members - 1, made in chunks after a shuffle."""

    def __init__(self, members: int) -> None:
        super().__init__()
        self.members = members

    def expand(self, begin: beam.pvalue.PBegin) -> beam.PCollection:
        members = self.members
        return (begin
                | "ChunkStarts" >> beam.Create(range(0, members, CHUNK))
                | "SpreadChunks" >> beam.Reshuffle()
                | "Documents" >> beam.FlatMap(
                    lambda start: (boilerplate_doc(i) for i in range(start, min(start + CHUNK, members)))))
