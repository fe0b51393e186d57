"""Near dedup's cluster resolution as plain functions: what each step of ``stage.NearDedup`` decides.

Documents are nodes named by their compact rank (``survivor.compact_rank``); LSH buckets are
8-byte keys (``minhash.bucket_key``). A round of min-label propagation: every bucket takes the
smallest label of its members (``bucket_round``), then every member the smallest label of its
buckets (``node_label``). A bucket of one document never changes a label, so only buckets of two
or more documents take part in the rounds, and only their members get labels; every other
document keeps its own rank and survives alone. The result is the same as propagating over
every bucket: a bucket's smallest label is its only member's own, which that member already has.

Hot buckets (more than ``hot_bucket_size`` members) are never grouped: each of their memberships
travels alone under a key of the bucket and the member (``membership_key``), and the bucket's
label reaches its members by side input.
"""

import pickle
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import astuple, replace

from transforms.common.records import Document, Provenance
from transforms.dedup.minhash import BUCKET_KEY_BYTES

HOT = b""  # the label of a hot-bucket message: the member looks the bucket's label up in the side input
REMOVED = 0  # a verdict: this node's document has a better-ranked near duplicate


def pack_document(doc: Document) -> bytes:
    """The document as the final join carries it: a pickled tuple of its fields' plain values (no
    class or field names), compressed; web text is about half its size after zlib's fastest level.
    Provenance is the one nested record (``unpack_document`` rebuilds it)."""
    return zlib.compress(pickle.dumps(astuple(doc), protocol=pickle.HIGHEST_PROTOCOL), 1)


def unpack_document(packed: bytes) -> Document:
    doc = Document(*pickle.loads(zlib.decompress(packed)))
    return replace(doc, provenance=Provenance(*doc.provenance))


def split_buckets(keys: bytes) -> list[bytes]:
    """The 8-byte bucket keys of a document, from ``MinHasher.bucket_keys``."""
    return [keys[i: i + BUCKET_KEY_BYTES] for i in range(0, len(keys), BUCKET_KEY_BYTES)]


def membership_key(bucket: bytes, node: bytes, hot: bool) -> bytes:
    """What a membership is grouped under: its bucket, or for a hot bucket the bucket and the member
    (a group of one). One grouping carries both, so the stage that routes them has one output."""
    return bucket + node if hot else bucket


def hot_bucket_of(key: bytes) -> bytes | None:
    """The bucket of a hot membership's key, or None for an ordinary bucket's key."""
    return key[:BUCKET_KEY_BYTES] if len(key) > BUCKET_KEY_BYTES else None


def bucket_round(bucket: bytes, members: list[tuple[bytes, bytes]]) -> Iterator[tuple[bytes, tuple[bytes, bytes]]]:
    """A bucket's (member, label) pairs -> a (member, (bucket, smallest label)) message per member.
    A bucket of one document sends nothing: its smallest label is its member's own."""
    if len({node for node, _ in members}) < 2:
        return
    label = min(label for _, label in members)
    for node, _ in members:
        yield node, (bucket, label)


def node_label(messages: Iterable[tuple[bytes, bytes]], hot_labels: dict[bytes, bytes]) -> tuple[bytes, set, set]:
    """A member's (bucket, label) messages -> (its new label, its ordinary buckets, its hot buckets).
    Every bucket's label is at most the member's own (the member is in it), so the smallest of its
    buckets' labels is its label after the round."""
    labels, cold, hot = [], set(), set()
    for bucket, label in messages:
        if label == HOT:
            hot.add(bucket)
            labels.append(hot_labels[bucket])
        else:
            cold.add(bucket)
            labels.append(label)
    return min(labels), cold, hot


def verdict_votes(node: bytes, label: bytes) -> Iterator[tuple[bytes, int]]:
    """After the last round: one document more in the cluster named by ``label``, and REMOVED for the
    node itself when its label is another document's rank."""
    yield label, 1
    if label != node:
        yield node, REMOVED


def tally(votes: Iterable[int] = (), tallies: Iterable[tuple[int, bool]] = ()) -> tuple[int, bool]:
    """Votes and partial tallies -> (documents labelled with this node, whether it is REMOVED): a
    combiner's accumulator, so a cluster of millions is never held as one group of votes."""
    count, removed = 0, False
    for partial_count, partial_removed in tallies:
        count, removed = count + partial_count, removed or partial_removed
    for vote in votes:
        count, removed = count + vote, removed or vote == REMOVED
    return count, removed


def verdict(tallied: tuple[int, bool]) -> int:
    """A node's verdict: REMOVED, or the size of the cluster it survives as the best of."""
    count, removed = tallied
    return REMOVED if removed else count


def survivors(documents: list[Document], verdicts: list[int]) -> list[tuple[Document, int]]:
    """The documents of one node with its verdict -> (survivor, cluster size). No verdict: the node
    was in no bucket with another document, so it survives alone. Two documents under one node are
    a rank collision (``survivor.compact_rank``): every one of them is kept, since the node's label
    may have come through the buckets of either."""
    verdict = verdicts[0] if verdicts else 1
    if len(documents) > 1:
        return [(doc, max(verdict, 1)) for doc in documents]
    return [] if verdict == REMOVED else [(documents[0], verdict)]
