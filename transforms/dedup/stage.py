"""Deduplication's Beam transforms: DedupByUrl, ExactDedup, NearDedup and CrossCrawlDedup.

ExactDedup keeps one survivor per group of documents with the same normalized text. A combiner
keeps only the best copy and a count per key, so a group of a million copies costs one document
of memory, and it pre-combines before the shuffle in a table of bounded size
(``transforms.common.stage.CombinePerKeyBounded``: Beam's own pre-combine keeps up to 100,000
whole documents per bundle).

DedupByUrl keeps one capture per normalized URL (``dedup.url``), the newest or the longest, with a
combiner as exact dedup does.

NearDedup: MinHash LSH clusters resolved inside Beam, with no step that gathers them on one worker.

1. Each document gets its rank (``survivor.compact_rank``: 16 or 24 bytes that sort the preferred
   survivor first: smallest id, newest, or longest, ties broken by id) and one 8-byte key per LSH
   bucket ``(band, band hash)``; the document itself travels packed (``clusters.pack_document``).
2. Bucket sizes are counted (a combiner); a bucket with more than ``hot_bucket_size`` members (a
   boilerplate page copied a million times) is hot: its memberships are never grouped together,
   each goes alone and its label reaches its members by side input, so no group exceeds that size.
3. Clusters are the connected components of "shares a bucket", found by min-label propagation
   (``clusters``): the memberships are grouped by bucket once; each round, every bucket of two or
   more documents sends its smallest member label to its members, and every member takes the
   smallest label of its buckets. A bucket of one document never changes a label, so it is left
   out, and a document in no such bucket never takes part: it keeps its own rank and survives
   alone. After ``rounds`` rounds a document whose label is its own rank survives, with the number
   of documents that took its rank; the others are removed as near-duplicates of a better-ranked
   document. A component whose members are more than ``rounds`` bucket-hops from its best document
   can keep more than one survivor: the rounds bound the work and can only keep too much, never
   remove a document that has no near-duplicate.
4. Every element is bytes or an int under Beam's own coders (nothing is pickled by the runner),
   and the stages are few: on Flink, each output of a fused stage is shipped to each of that
   stage's consumers, so the documents leave their stage beside only their bucket keys.
"""

import sys
from dataclasses import dataclass, replace

import apache_beam as beam
from apache_beam import coders, typehints
from apache_beam.metrics import Metrics
from apache_beam.transforms import userstate, window
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.utils.timestamp import Timestamp

from transforms.common import reasons
from transforms.common.records import Document
from transforms.common.stage import CombinePerKeyBounded, StageCounters
from transforms.dedup.clusters import (
    HOT,
    bucket_round,
    hot_bucket_of,
    membership_key,
    node_label,
    pack_document,
    split_buckets,
    survivors,
    tally,
    unpack_document,
    verdict,
    verdict_votes,
)
from transforms.dedup.cross_crawl import CrossCrawlSettings, DocumentKeys, read_index_keys
from transforms.dedup.minhash import MinHasher, shingles
from transforms.dedup.normalize import exact_dedup_key, normalize_capture_url
from transforms.dedup.seen_before import InBatch, SeenSettings, kept_earlier, published_digests, still_remembered
from transforms.dedup.survivor import compact_rank, survivor_key


class KeepSurvivor(beam.CombineFn):
    def __init__(self, rule: str) -> None:
        self.rule = rule

    def create_accumulator(self) -> tuple:
        return (None, 0)

    def _better(self, a: Document | None, b: Document | None) -> Document | None:
        if a is None or b is None:
            return a if b is None else b
        return a if survivor_key(a, self.rule) <= survivor_key(b, self.rule) else b

    def add_input(self, accumulator: tuple, doc: Document) -> tuple:
        best, count = accumulator
        return (self._better(best, doc), count + doc.duplicate_count)

    def merge_accumulators(self, accumulators: list) -> tuple:
        best, count = None, 0
        for other_best, other_count in accumulators:
            best, count = self._better(best, other_best), count + other_count
        return (best, count)

    def extract_output(self, accumulator: tuple) -> Document:
        best, count = accumulator
        return replace(best, duplicate_count=count)


# What a pre-combine table entry holds beside the text, measured with tracemalloc: the document's other
# fields and provenance, its key, and the entry's own tuple, list and dict slot (about 1.6 kB in all).
_ENTRY_BESIDE_TEXT = 2048


def survivor_weight(accumulator: tuple) -> int:
    """About the memory a (best document, count) accumulator holds in the pre-combine's table."""
    best = accumulator[0]
    return _ENTRY_BESIDE_TEXT + (sys.getsizeof(best.text) if best is not None else 0)


class CountDedupFn(beam.DoFn):
    def __init__(self, counted: str, stage: str = reasons.DEDUP_EXACT, removed: str = reasons.EXACT_DUPLICATE,
                 ) -> None:
        self.counted, self.stage, self.removed = counted, stage, removed

    def setup(self) -> None:
        self.counters = StageCounters(self.stage)

    def process(self, item: Document | tuple):  # noqa: ANN201 - a DoFn generator
        if self.counted == reasons.IN:
            self.counters.inc(reasons.IN)
            yield item
            return
        doc, copies = item if isinstance(item, tuple) else (item, item.duplicate_count)
        self.counters.inc(reasons.OUT)
        if copies > 1:
            self.counters.inc(self.removed, copies - 1)
        yield doc


class ExactDedup(beam.PTransform):
    def __init__(self, survivor_rule: str) -> None:
        super().__init__()
        self.survivor_rule = survivor_rule

    def expand(self, docs: beam.PCollection) -> beam.PCollection:
        return (
            docs
            | "CountIn" >> beam.ParDo(CountDedupFn(reasons.IN))
            | "KeyByNormalizedText" >> beam.Map(lambda doc: (exact_dedup_key(doc.text), doc))
            | "KeepOneSurvivorPerText" >> CombinePerKeyBounded(KeepSurvivor(self.survivor_rule), survivor_weight)
            | "DropKeys" >> beam.Values()
            | "CountSurvivorsAndCopies" >> beam.ParDo(CountDedupFn(reasons.OUT))
        )


URL_RULES = {"newest": "latest", "longest": "longest"}


class KeepCapture(beam.CombineFn):
    def __init__(self, rule: str) -> None:
        self.rule = URL_RULES[rule]

    def create_accumulator(self) -> tuple:
        return (None, 0)

    def add_input(self, accumulator: tuple, doc: Document) -> tuple:
        return self.merge_accumulators([accumulator, (doc, 1)])

    def merge_accumulators(self, accumulators: list) -> tuple:
        best, count = None, 0
        for doc, n in accumulators:
            count += n
            if doc is not None and (best is None or survivor_key(doc, self.rule) < survivor_key(best, self.rule)):
                best = doc
        return (best, count)

    def extract_output(self, accumulator: tuple) -> tuple:
        return accumulator


class DedupByUrl(beam.PTransform):
    def __init__(self, rule: str) -> None:
        super().__init__()
        self.rule = rule

    def expand(self, docs: beam.PCollection) -> beam.PCollection:
        return (
            docs
            | "CountIn" >> beam.ParDo(CountDedupFn(reasons.IN, reasons.DEDUP_URL, reasons.URL_DUPLICATE))
            | "KeyByUrl" >> beam.Map(lambda d: (normalize_capture_url(d.provenance.url, d.id), d))
            | "KeepOneCapturePerUrl" >> CombinePerKeyBounded(KeepCapture(self.rule), survivor_weight)
            | "DropKeys" >> beam.Values()
            | "CountKept" >> beam.ParDo(CountDedupFn(reasons.OUT, reasons.DEDUP_URL, reasons.URL_DUPLICATE))
        )


@dataclass(frozen=True)
class NearDedupSettings:
    bands: int = 14
    rows: int = 8
    ngram: int = 5
    seed: int = 1
    rounds: int = 4
    hot_bucket_size: int = 10_000
    survivor: str = "smallest_id"


# Near dedup's elements are bytes (ranks, bucket keys, packed documents) and ints under Beam's own
# coders (BytesCoder, VarIntCoder, TupleCoder), never Beam's pickling coder: the runner shuffles 8-,
# 16- and 24-byte keys as they are. The final join's values are a packed document or a verdict, which Beam's
# FastPrimitivesCoder writes with a one-byte type tag.
KEYED = typehints.Tuple[bytes, bytes]
MESSAGE = typehints.Tuple[bytes, typehints.Tuple[bytes, bytes]]
VOTE = typehints.Tuple[bytes, int]
JOINED = typehints.Tuple[bytes, typehints.Union[bytes, int]]


class SignFn(beam.DoFn):
    """A document -> (its rank, the document packed) and, tagged, (its rank, its bucket keys)."""

    BUCKETS = "buckets"

    def __init__(self, settings: NearDedupSettings) -> None:
        self.settings = settings

    def setup(self) -> None:
        self.hasher = MinHasher(self.settings.bands, self.settings.rows, self.settings.seed)

    def process(self, doc: Document):  # noqa: ANN201 - a DoFn generator
        node = compact_rank(doc, self.settings.survivor)
        signature = self.hasher.signature(shingles(doc.text, self.settings.ngram))
        yield beam.pvalue.TaggedOutput(self.BUCKETS, (node, self.hasher.bucket_keys(signature)))
        yield node, pack_document(doc)


def each_membership(grouped: tuple):  # noqa: ANN201 - a generator for FlatMap
    node, bucket_keys = grouped
    for keys in bucket_keys:
        for bucket in split_buckets(keys):
            yield bucket, node


def route_memberships(element: tuple, hot: dict):  # noqa: ANN201 - a generator for FlatMap
    node, keys = element
    for bucket in split_buckets(keys):
        yield membership_key(bucket, node, bucket in hot), node


class KeepHotBucketsFn(beam.DoFn):
    def __init__(self, limit: int) -> None:
        self.limit = limit

    def setup(self) -> None:
        self.counters = StageCounters(reasons.NEAR_DEDUP)

    def process(self, count: tuple):  # noqa: ANN201 - a DoFn generator
        if count[1] > self.limit:
            self.counters.inc(reasons.HOT_BUCKETS)
            yield count


class BucketRoundFn(beam.DoFn):
    """A grouped bucket -> its smallest label to each member; a hot membership -> a HOT message to its
    member and (tagged) the member's label towards the bucket's smallest (a combiner)."""

    HOT_LABELS = "hot_labels"

    def __init__(self, first: bool) -> None:
        self.first = first  # round 1 groups bare members, whose label is their own rank

    def setup(self) -> None:
        self.group_sizes = Metrics.distribution(reasons.NEAR_DEDUP, "bucket_group_size")

    def process(self, grouped: tuple):  # noqa: ANN201 - a DoFn generator
        key, members = grouped
        members = [(node, node) for node in members] if self.first else list(members)
        bucket = hot_bucket_of(key)
        if bucket is None:
            self.group_sizes.update(len(members))
            yield from bucket_round(key, members)
            return
        for node, label in members:
            yield node, (bucket, HOT)
            yield beam.pvalue.TaggedOutput(self.HOT_LABELS, (bucket, label))


class NodeRoundFn(beam.DoFn):
    """A member's messages -> its new label: to its buckets for the next round, or after the last
    round as verdict votes."""

    def __init__(self, last: bool) -> None:
        self.last = last

    def process(self, grouped: tuple, hot_labels: dict):  # noqa: ANN201 - a DoFn generator
        node, messages = grouped
        label, cold, hot = node_label(messages, hot_labels)
        if self.last:
            yield from verdict_votes(node, label)
            return
        for bucket in cold:
            yield bucket, (node, label)
        for bucket in hot:
            yield membership_key(bucket, node, hot=True), (node, label)


class VerdictFn(beam.CombineFn):
    def create_accumulator(self) -> tuple:
        return tally()

    def add_input(self, accumulator: tuple, vote: int) -> tuple:
        return tally([vote], [accumulator])

    def merge_accumulators(self, accumulators: list) -> tuple:
        return tally(tallies=accumulators)

    def extract_output(self, accumulator: tuple) -> int:
        return verdict(accumulator)

    def get_accumulator_coder(self) -> coders.Coder:
        return coders.TupleCoder([coders.VarIntCoder(), coders.BooleanCoder()])


class KeepSurvivorsFn(beam.DoFn):
    def setup(self) -> None:
        self.counters = StageCounters(reasons.NEAR_DEDUP)

    def process(self, grouped: tuple):  # noqa: ANN201 - a DoFn generator
        _, values = grouped
        documents, verdicts = [], []
        for value in values:
            (documents if isinstance(value, bytes) else verdicts).append(value)
        documents = [unpack_document(packed) for packed in documents]
        kept = survivors(documents, verdicts)
        self.counters.inc(reasons.IN, len(documents))
        if len(kept) < len(documents):
            self.counters.inc(reasons.NEAR_DUPLICATE, len(documents) - len(kept))
        self.counters.inc(reasons.OUT, len(kept))
        for doc, size in kept:
            yield replace(doc, near_dup_cluster_size=size)


class Round(beam.PTransform):
    """One round of label propagation: grouped buckets -> the members' labels, grouped by bucket for
    the next round or, after the last, as verdict votes."""

    def __init__(self, first: bool, last: bool) -> None:
        super().__init__()
        self.first, self.last = first, last

    def expand(self, grouped: beam.PCollection) -> beam.PCollection:
        to_members = grouped | "BucketLabels" >> beam.ParDo(BucketRoundFn(self.first)).with_output_types(
            MESSAGE, **{BucketRoundFn.HOT_LABELS: KEYED}).with_outputs(BucketRoundFn.HOT_LABELS, main="messages")
        hot_labels = to_members[BucketRoundFn.HOT_LABELS] | "HotBucketLabels" >> beam.CombinePerKey(min)
        labelled = (to_members.messages
                    | "GroupMembers" >> beam.GroupByKey()
                    | "MemberLabels" >> beam.ParDo(NodeRoundFn(self.last), hot_labels=beam.pvalue.AsDict(hot_labels)
                                                   ).with_output_types(VOTE if self.last else MESSAGE))
        return labelled if self.last else labelled | "GroupBucketsForNextRound" >> beam.GroupByKey()


class NearDedup(beam.PTransform):
    def __init__(self, settings: NearDedupSettings) -> None:
        super().__init__()
        if settings.rounds < 1:
            raise ValueError(f"near dedup needs at least one round, not {settings.rounds}")
        self.settings = settings

    def expand(self, docs: beam.PCollection) -> beam.PCollection:
        s = self.settings
        signed = docs | "SignAndBand" >> beam.ParDo(SignFn(s)).with_output_types(
            KEYED, **{SignFn.BUCKETS: KEYED}).with_outputs(SignFn.BUCKETS, main="packed")
        bucket_keys = signed[SignFn.BUCKETS]
        # Beam's Flink runner sends every output of a fused stage to the consumers of each of its
        # outputs: this grouping keeps the counting out of the stage that emits the documents, which
        # then leave it beside their bucket keys only, not beside the counts as well.
        hot = (bucket_keys
               | "OncePerDocument" >> beam.GroupByKey()
               | "EachMembership" >> beam.FlatMap(each_membership).with_output_types(KEYED)
               | "CountBucketMembers" >> beam.combiners.Count.PerKey()
               | "HotBuckets" >> beam.ParDo(KeepHotBucketsFn(s.hot_bucket_size)))
        grouped = (bucket_keys
                   | "RouteMemberships" >> beam.FlatMap(route_memberships, hot=beam.pvalue.AsDict(hot)
                                                        ).with_output_types(KEYED)
                   | "GroupBuckets" >> beam.GroupByKey())
        for number in range(1, s.rounds + 1):
            grouped = grouped | f"Round{number}" >> Round(first=number == 1, last=number == s.rounds)
        verdicts = grouped | "Verdicts" >> beam.CombinePerKey(VerdictFn()).with_output_types(VOTE)
        return (
            (signed.packed, verdicts)
            | "DocumentsAndVerdicts" >> beam.Flatten().with_output_types(JOINED)
            | "JoinVerdicts" >> beam.GroupByKey()
            | "KeepSurvivors" >> beam.ParDo(KeepSurvivorsFn())
        )


class DocumentKeysFn(beam.DoFn):
    """Each document keyed by id with its keys, and (tagged) each of its keys with the id."""

    KEYS = "keys"

    def __init__(self, settings: CrossCrawlSettings) -> None:
        self.settings = settings

    def setup(self) -> None:
        self.keys = DocumentKeys(self.settings)

    def process(self, doc: Document):  # noqa: ANN201 - a DoFn generator
        keys = self.keys.of(doc.text)
        for key in keys:
            yield beam.pvalue.TaggedOutput(self.KEYS, (key, doc.id))
        yield doc.id, (doc, keys)


class KeepUnseenFn(beam.DoFn):
    """A document no earlier crawl published, and (tagged) its keys for this crawl's index."""

    KEYS = "keys"

    def setup(self) -> None:
        self.counters = StageCounters(reasons.CROSS_CRAWL)

    def process(self, grouped: tuple):  # noqa: ANN201 - a DoFn generator
        _, joined = grouped
        for doc, keys in joined["doc"]:
            self.counters.inc(reasons.IN)
            if any(joined["seen"]):
                self.counters.inc(reasons.CROSS_CRAWL_DUPLICATE)
                continue
            self.counters.inc(reasons.OUT)
            for key in keys:
                yield beam.pvalue.TaggedOutput(self.KEYS, key)
            yield doc


class CrossCrawlDedup(beam.PTransform):
    """PCollection[Document] -> (documents no earlier crawl published, their keys for this crawl's
    index). Earlier crawls' keys are joined by key: a crawl has billions of them, never a side input."""

    def __init__(self, settings: CrossCrawlSettings) -> None:
        super().__init__()
        self.settings = settings

    def expand(self, docs: beam.PCollection):  # noqa: ANN201 - Beam reads this hint; a tuple of outputs has none
        keyed = docs | "KeyEachDocument" >> beam.ParDo(DocumentKeysFn(self.settings)).with_outputs(
            DocumentKeysFn.KEYS, main="docs")
        earlier = (
            docs.pipeline
            | "EarlierIndexFiles" >> beam.Create(list(self.settings.earlier_index_files))
            | "SpreadIndexFiles" >> beam.Reshuffle()
            | "ReadEarlierKeys" >> beam.FlatMap(read_index_keys)
            | "AsSeen" >> beam.Map(lambda key: (key, True))
        )
        seen_ids = (
            {"member": keyed[DocumentKeysFn.KEYS], "seen": earlier}
            | "JoinKeysWithEarlierCrawls" >> beam.CoGroupByKey()
            | "IdsSeenBefore" >> beam.FlatMap(lambda kv: ((doc_id, True) for doc_id in kv[1]["member"])
                                              if kv[1]["seen"] else ())
        )
        kept = (
            {"doc": keyed.docs, "seen": seen_ids}
            | "JoinDocumentsWithSeenIds" >> beam.CoGroupByKey()
            | "KeepUnseen" >> beam.ParDo(KeepUnseenFn()).with_outputs(KeepUnseenFn.KEYS, main="docs")
        )
        return kept.docs, kept[KeepUnseenFn.KEYS] | "EachKeyOnce" >> beam.Distinct()


SEEN_KEYS = "keys"  # SeenInEarlierBatch: the digest of every kept document, for the batch's index
SEEN_LATER_FIRST = "seen_later_first"


class SeenInEarlierBatchFn(beam.DoFn):
    """(digest, InBatch) in the global window -> the documents no earlier batch kept, at their own timestamps."""

    KEPT = userstate.ReadModifyWriteStateSpec("kept_start_ms", coders.VarIntCoder())
    EXPIRE = userstate.TimerSpec("expire", TimeDomain.WATERMARK)

    def __init__(self, settings: SeenSettings) -> None:
        self.settings = settings

    def setup(self) -> None:
        import time

        self.counters = StageCounters(reasons.DEDUP_EXACT)
        # Digests of batches published before this watch started: loaded once per worker.
        self.published = published_digests(self.settings, int(time.time() * 1000), read_index_keys)

    def process(self, element: tuple, kept_state=beam.DoFn.StateParam(KEPT),  # noqa: ANN001, ANN201
                expire=beam.DoFn.TimerParam(EXPIRE)):  # noqa: ANN001
        key, doc = element
        kept, ttl = kept_state.read(), self.settings.ttl_ms
        if kept_earlier(kept, self.published.get(key), doc.start_ms, ttl):
            self.counters.inc(reasons.SEEN_BEFORE)
            yield beam.pvalue.TaggedOutput(reasons.SEEN_BEFORE, 1)
            return
        if still_remembered(kept, doc.start_ms, ttl) and kept > doc.start_ms:
            self.counters.inc(SEEN_LATER_FIRST)  # a later batch got here first (see seen_before.py)
        if not still_remembered(kept, doc.start_ms, ttl) or doc.start_ms < kept:
            kept_state.write(doc.start_ms)
            if ttl is not None:
                expire.set(Timestamp(micros=(doc.start_ms + ttl + 1) * 1000))
        yield doc.item
        yield beam.pvalue.TaggedOutput(SEEN_KEYS, key)

    @userstate.on_timer(EXPIRE)
    def forget(self, fired=beam.DoFn.TimestampParam,  # noqa: ANN001, ANN201
               kept_state=beam.DoFn.StateParam(KEPT)):  # noqa: ANN001
        kept = kept_state.read()
        if kept is not None and not still_remembered(kept, fired.micros // 1000, self.settings.ttl_ms):
            kept_state.clear()


def _in_batch(doc: Document, batch=beam.DoFn.WindowParam) -> tuple[str, InBatch]:  # noqa: ANN001
    return exact_dedup_key(doc.text), InBatch(batch.start.micros // 1000, batch.end.micros // 1000, doc)


class SeenInEarlierBatch(beam.PTransform):
    """Batch-windowed documents -> those whose text no earlier batch kept (main), the digests of those
    (``keys``), and a 1 for each document dropped as ``seen_before`` (``seen_before``), all back in
    their batch windows. Needs exact dedup within each batch first: one copy of a text per batch."""

    def __init__(self, settings: SeenSettings, window_s: int) -> None:
        super().__init__()
        self.settings, self.window_s = settings, window_s

    def expand(self, docs: beam.PCollection):  # noqa: ANN201 - Beam reads this hint; a tuple of outputs has none
        decided = (
            docs
            | "KeyByDigestWithBatch" >> beam.Map(_in_batch)
            | "AcrossBatches" >> beam.WindowInto(window.GlobalWindows())
            | "KeepEarliestBatch" >> beam.ParDo(SeenInEarlierBatchFn(self.settings)).with_outputs(
                SEEN_KEYS, reasons.SEEN_BEFORE, main="kept")
        )
        # Each output keeps its document's timestamp, inside its batch window: back in the same batch.
        batches = window.FixedWindows(self.window_s)
        return (decided.kept | "KeptBackInBatches" >> beam.WindowInto(batches),
                decided[SEEN_KEYS] | "KeysBackInBatches" >> beam.WindowInto(batches),
                decided[reasons.SEEN_BEFORE] | "SeenBackInBatches" >> beam.WindowInto(batches))
