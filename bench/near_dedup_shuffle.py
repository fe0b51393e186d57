"""Bytes that near dedup moves per document, counted by Flink on the loopback session cluster.

Two corpora: the real pages alone, and the same pages with planted near-duplicate pairs (the worst
case: most documents share buckets, so every round has work). Each corpus goes through two jobs on
Flink (FlinkRunner, LOOPBACK SDK workers, 2 slots): the documents read from pickled shards and
counted, and the same with NearDedup between read and count. Near dedup's bytes are the first job's
minus the second's, divided by the documents in, from Flink's REST API:

- ``shuffled``: what crossed a repartitioning exchange (hash-partitioned, as a GroupByKey's input
  is): the read-bytes of the job vertices that read only through such exchanges. This is the
  shuffle proper, the bytes that go between machines in a cluster.
- ``all``: every vertex's write-bytes, which also counts forward exchanges between tasks of the
  same slot. Beam's Flink runner sends everything a fused stage outputs to the consumers of each of
  its outputs, and a GroupByKey is three exchanges (pre-group, shuffle, then to its consumer).

Cross-check (``coder``): the same two jobs on the DirectRunner's portable runner, counting the bytes
its SDK worker writes into the runner's grouping buffers: every element that enters a shuffle (after
combiner lifting), encoded by its PCollection's coder with its window, as the SDK sends it.
"""

import pickle
import random
from pathlib import Path
from unittest import mock

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import execution, fn_runner

from bench.flink_session import flink_options, rest
from transforms.common.ids import document_id, text_sha256
from transforms.common.records import Document, Provenance
from transforms.dedup.clusters import pack_document
from transforms.dedup.stage import NearDedup, NearDedupSettings

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "build" / "bench-near-dedup"
SHARDS = 4


def planted_documents(pairs: list[tuple[str, str, float]]) -> list[Document]:
    docs = []
    for i, (a, b, _) in enumerate(pairs):
        for side, text in (("a", a), ("b", b)):
            url = f"https://planted.example/{i}/{side}"
            date = f"2024-01-{1 + i % 28:02d}T00:00:{i % 60:02d}Z"
            provenance = Provenance("planted.warc.gz", 2 * i + (side == "b"), len(text), None, date, url, None,
                                    "response")
            docs.append(Document(document_id(None, url, date, None), text, provenance, "text/html", "utf-8",
                                 text_sha256(text)))
    return docs


def write_shards(docs: list[Document], name: str) -> list[str]:
    """The documents as pickled shards that both jobs read (a Create of the documents would carry
    them inside the job's graph), in a fixed random order so that Beam's size sampling, which takes
    the first elements of each bundle, sees a fair mix."""
    docs = list(docs)
    random.Random(1).shuffle(docs)
    folder = WORK / name
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for shard in range(SHARDS):
        path = folder / f"docs-{shard}.pkl"
        path.write_bytes(pickle.dumps(docs[shard::SHARDS], protocol=pickle.HIGHEST_PROTOCOL))
        paths.append(str(path))
    return paths


def _load(path: str) -> list[Document]:
    return pickle.loads(Path(path).read_bytes())


def _job(pipeline: beam.Pipeline, paths: list[str], settings: NearDedupSettings | None) -> None:
    docs = pipeline | "Shards" >> beam.Create(paths) | "ReadShard" >> beam.FlatMap(_load)
    if settings is not None:
        docs = docs | "NearDedup" >> NearDedup(settings)
    _ = docs | "CountDocuments" >> beam.combiners.Count.Globally()


def flink_bytes(port: int, jar: str, paths: list[str], settings: NearDedupSettings | None) -> dict:
    """Run the job on the session cluster: the bytes it exchanged, all and shuffled, and its vertices."""
    before = {j["jid"] for j in rest(port, "/jobs/overview")["jobs"]}
    pipeline = beam.Pipeline(options=PipelineOptions(flink_options(port, jar, "--environment_type=LOOPBACK")))
    _job(pipeline, paths, settings)
    pipeline.run().wait_until_finish()
    (job,) = [j for j in rest(port, "/jobs/overview")["jobs"] if j["jid"] not in before]
    if job["state"] != "FINISHED":
        raise RuntimeError(f"Flink job {job['jid']} ended {job['state']}")
    vertices = {v["id"]: v for v in rest(port, f"/jobs/{job['jid']}")["vertices"]}
    plan = rest(port, f"/jobs/{job['jid']}/plan")["plan"]["nodes"]
    repartitioned = [node["id"] for node in plan
                     if node.get("inputs") and all(i["ship_strategy"] != "Forward" for i in node["inputs"])]
    return {"all": sum(v["metrics"]["write-bytes"] for v in vertices.values()),
            "shuffled": sum(vertices[i]["metrics"]["read-bytes"] for i in repartitioned),
            "vertices": len(vertices)}


def coder_bytes(paths: list[str], settings: NearDedupSettings | None) -> int:
    """Encoded bytes of the elements that enter a shuffle, on the DirectRunner's portable runner."""
    written = []
    append = execution.GroupingBuffer.append

    def counted(buffer: execution.GroupingBuffer, elements_data: bytes) -> None:
        written.append(len(elements_data))
        append(buffer, elements_data)

    pipeline = beam.Pipeline(runner=fn_runner.FnApiRunner())
    _job(pipeline, paths, settings)
    with mock.patch.object(execution.GroupingBuffer, "append", counted):
        pipeline.run().wait_until_finish()
    return sum(written)


def per_document(corpora: dict[str, list[Document]], settings: NearDedupSettings, port: int, jar: str) -> dict:
    """corpus -> {all, shuffled, coder: bytes per document in; vertices: the job's, with near dedup;
    packed, text: mean bytes of a packed document and of its text in UTF-8}."""
    figures = {}
    for name, docs in corpora.items():
        paths = write_shards(docs, name)
        with_near, without = flink_bytes(port, jar, paths, settings), flink_bytes(port, jar, paths, None)
        coder = coder_bytes(paths, settings) - coder_bytes(paths, None)
        figures[name] = {"all": (with_near["all"] - without["all"]) / len(docs),
                         "shuffled": (with_near["shuffled"] - without["shuffled"]) / len(docs),
                         "coder": coder / len(docs), "vertices": with_near["vertices"], "documents": len(docs),
                         "packed": sum(len(pack_document(d)) for d in docs) / len(docs),
                         "text": sum(len(d.text.encode("utf-8", "surrogatepass")) for d in docs) / len(docs)}
        print(name, figures[name], flush=True)
    return figures
