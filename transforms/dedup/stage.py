"""Deduplication's Beam transforms: DedupByUrl, ExactDedup, NearDedup and CrossCrawlDedup.

ExactDedup keeps one survivor per group of documents with the same normalized text. A combiner
keeps only the best copy and a count per key, so a group of a million copies costs one document
of memory, and Beam can pre-combine before the shuffle.

DedupByUrl keeps one capture per normalized URL (``dedup.url``), the newest or the longest, with a
combiner as exact dedup does.

NearDedup: MinHash LSH clusters resolved inside Beam, with no step that gathers them on one worker.

1. Each document gets a MinHash signature and one bucket per band: ``(band, band hash)``.
2. Clusters are the connected components of "shares a bucket", found by min-label propagation:
   every document starts labelled with its own rank (a string that sorts the preferred survivor
   first: smallest id, newest, or longest, ties broken by id); each round, every bucket takes the
   smallest label of its members (a combiner: no bucket's members are held together) and every
   member takes the smallest label of its buckets. After ``rounds`` rounds a document whose label
   is its own rank survives; the others are removed as near-duplicates of a better-ranked document.
   A component whose members are more than ``rounds`` bucket-hops from its best document can keep
   more than one survivor: the rounds bound the work and can only keep too much, never remove a
   document that has no near-duplicate.
3. Pushing a bucket's label back to its members groups the members of ordinary buckets; buckets
   with more than ``hot_bucket_size`` members (a boilerplate page copied a million times) are
   counted first and their labels travel as a side input instead, so no group exceeds that size.
"""

from dataclasses import dataclass, replace

import apache_beam as beam
from apache_beam import coders
from apache_beam.metrics import Metrics
from apache_beam.transforms import userstate, window
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.utils.timestamp import Timestamp

from transforms.common import reasons
from transforms.common.records import Document
from transforms.common.stage import StageCounters
from transforms.dedup.cross_crawl import CrossCrawlSettings, DocumentKeys, read_index_keys
from transforms.dedup.minhash import MinHasher, shingles
from transforms.dedup.normalize import exact_dedup_key, normalize_capture_url
from transforms.dedup.seen_before import InBatch, SeenSettings, kept_earlier, published_digests, still_remembered
from transforms.dedup.survivor import survivor_key, survivor_rank


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
            | "KeepOneSurvivorPerText" >> beam.CombinePerKey(KeepSurvivor(self.survivor_rule))
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
            | "KeepOneCapturePerUrl" >> beam.CombinePerKey(KeepCapture(self.rule))
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


class SignFn(beam.DoFn):
    MEMBERSHIPS = "memberships"

    def __init__(self, settings: NearDedupSettings) -> None:
        self.settings = settings

    def setup(self) -> None:
        self.hasher = MinHasher(self.settings.bands, self.settings.rows, self.settings.seed)

    def process(self, doc: Document):  # noqa: ANN201 - a DoFn generator
        rank = survivor_rank(doc, self.settings.survivor)
        signature = self.hasher.signature(shingles(doc.text, self.settings.ngram))
        for band, key in enumerate(self.hasher.band_keys(signature)):
            yield beam.pvalue.TaggedOutput(self.MEMBERSHIPS, (f"{band:02d}{key:016x}", rank))
        yield rank, doc


class PushColdBucketLabelFn(beam.DoFn):
    """A bucket of at most hot_bucket_size members: its label to each member."""

    def __init__(self) -> None:
        self.group_sizes = Metrics.distribution(reasons.NEAR_DEDUP, "bucket_group_size")

    def process(self, grouped: tuple):  # noqa: ANN201 - a DoFn generator
        _, joined = grouped
        labels = list(joined["label"])
        members = list(joined["member"])
        if members:  # none for a hot bucket: its label travels by side input
            self.group_sizes.update(len(members))
        for member in members:
            yield member, labels[0]


def push_hot_bucket_label(membership: tuple, hot_labels: dict):  # noqa: ANN201 - a generator for FlatMap
    bucket, member = membership
    label = hot_labels.get(bucket)
    if label is not None:
        yield member, label


class KeepHotBucketsFn(beam.DoFn):
    def __init__(self, limit: int) -> None:
        self.limit = limit

    def setup(self) -> None:
        self.counters = StageCounters(reasons.NEAR_DEDUP)

    def process(self, count: tuple):  # noqa: ANN201 - a DoFn generator
        if count[1] > self.limit:
            self.counters.inc(reasons.HOT_BUCKETS)
            yield count


class PropagateLabels(beam.PTransform):
    """One round: bucket minima from member labels, then member minima from bucket labels."""

    def expand(self, inputs):  # noqa: ANN001, ANN201 - Beam reads these hints; a tuple input has none
        labels, memberships, hot = inputs
        # A copy of the memberships per round: without the break, runners fuse the consumers of
        # every round into one stage that waits on a later round's side input (a deadlock). A
        # GroupByKey, not a Reshuffle: Beam's Flink runner (2.62) fed this graph's Reshuffle None.
        memberships = (memberships
                       | "KeyedByItself" >> beam.Map(lambda m: (m, None))
                       | "MembershipsOfThisRound" >> beam.GroupByKey()
                       | "Membership" >> beam.Map(lambda kv: kv[0]))
        member_labels = (
            {"buckets": memberships | "ByMember" >> beam.Map(lambda m: (m[1], m[0])), "label": labels}
            | "JoinLabelsToBuckets" >> beam.CoGroupByKey()
            | "LabelPerBucket" >> beam.FlatMap(
                lambda kv: ((bucket, min(kv[1]["label"])) for bucket in kv[1]["buckets"]))
        )
        bucket_labels = member_labels | "SmallestLabelPerBucket" >> beam.CombinePerKey(min)
        hot_labels = bucket_labels | "HotBucketLabels" >> beam.Filter(
            lambda kv, hot_keys: kv[0] in hot_keys, hot_keys=beam.pvalue.AsDict(hot))
        # Hot buckets are left out before the join: their members never meet in one group.
        cold_memberships = memberships | "ColdBucketsOnly" >> beam.Filter(
            lambda m, hot_keys: m[0] not in hot_keys, hot_keys=beam.pvalue.AsDict(hot))
        from_cold = (
            {"label": bucket_labels, "member": cold_memberships}
            | "JoinBucketsToMembers" >> beam.CoGroupByKey()
            | "PushColdBucketLabels" >> beam.ParDo(PushColdBucketLabelFn())
        )
        from_hot = memberships | "PushHotBucketLabels" >> beam.FlatMap(
            push_hot_bucket_label, hot_labels=beam.pvalue.AsDict(hot_labels))
        return (
            (labels, from_cold, from_hot)
            | "AllProposals" >> beam.Flatten()
            | "SmallestLabelPerMember" >> beam.CombinePerKey(min)
        )


class KeepSurvivorsFn(beam.DoFn):
    def setup(self) -> None:
        self.counters = StageCounters(reasons.NEAR_DEDUP)

    def process(self, grouped: tuple):  # noqa: ANN201 - a DoFn generator
        rank, joined = grouped
        (doc,) = joined["doc"]
        (label,) = joined["label"]
        self.counters.inc(reasons.IN)
        if label != rank:
            self.counters.inc(reasons.NEAR_DUPLICATE)
            return
        size = max(joined["cluster_size"], default=1)
        self.counters.inc(reasons.OUT)
        yield replace(doc, near_dup_cluster_size=size)


class NearDedup(beam.PTransform):
    def __init__(self, settings: NearDedupSettings) -> None:
        super().__init__()
        self.settings = settings

    def expand(self, docs: beam.PCollection) -> beam.PCollection:
        s = self.settings
        signed = docs | "SignAndBand" >> beam.ParDo(SignFn(s)).with_outputs(SignFn.MEMBERSHIPS, main="docs")
        memberships, ranked_docs = signed[SignFn.MEMBERSHIPS], signed.docs
        hot = (
            memberships
            | "CountBucketMembers" >> beam.combiners.Count.PerKey()
            | "HotBuckets" >> beam.ParDo(KeepHotBucketsFn(s.hot_bucket_size))
        )
        labels = ranked_docs | "OwnRankAsLabel" >> beam.Map(lambda kv: (kv[0], kv[0]))
        for number in range(1, s.rounds + 1):
            labels = (labels, memberships, hot) | f"Round{number}" >> PropagateLabels()
        cluster_sizes = (
            labels
            | "ByLabel" >> beam.Map(lambda kv: (kv[1], 1))
            | "ClusterSizes" >> beam.CombinePerKey(sum)
        )
        return (
            {"doc": ranked_docs, "label": labels, "cluster_size": cluster_sizes}
            | "JoinDocsLabelsSizes" >> beam.CoGroupByKey()
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
