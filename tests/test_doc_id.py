import collections
import hashlib

import pytest

from transforms.common.ids import ID_HEX_CHARS, document_id
from transforms.writing.shards import shard_of


def test_id_comes_from_the_record_id_alone_when_there_is_one():
    a = document_id("<urn:uuid:1>", "http://a/", "2024-01-01T00:00:00Z", "sha1:X")
    b = document_id("<urn:uuid:1>", "http://mirror/", "2025-01-01T00:00:00Z", None)
    assert a == b
    assert len(a) == ID_HEX_CHARS and int(a, 16) >= 0


def test_ids_differ_between_records():
    assert document_id("<urn:uuid:1>", None, None, None) != document_id("<urn:uuid:2>", None, None, None)


def test_without_record_id_the_capture_identifies_the_document():
    base = document_id(None, "http://a/", "2008-04-30T20:48:26Z", None)
    assert base == document_id(None, "http://a/", "2008-04-30T20:48:26Z", None)
    assert base != document_id(None, "http://a/", "2008-04-30T20:48:27Z", None)
    assert base != document_id(None, "http://b/", "2008-04-30T20:48:26Z", None)
    # A record id that happens to equal the capture fields cannot collide with them.
    assert base != document_id("http://a/", None, None, None)


def test_id_scheme_is_the_documented_one():
    # The id scheme is part of the dataset's identity (README, "Output schema"): changing it changes every row.
    expected = hashlib.sha256(b"record-id\x00<urn:uuid:1>").hexdigest()[:32]
    assert document_id("<urn:uuid:1>", None, None, None) == expected


def test_shard_of_is_stable_in_range_and_spreads_evenly():
    keys = [document_id(f"<urn:uuid:{i}>", None, None, None) for i in range(4000)]
    shards = [shard_of(k, 8) for k in keys]
    assert shards == [shard_of(k, 8) for k in keys]
    counts = collections.Counter(shards)
    assert set(counts) == set(range(8))
    assert min(counts.values()) > 400  # 500 expected per shard


def test_shard_of_rejects_zero_shards():
    with pytest.raises(ValueError, match="num_shards must be at least 1"):
        shard_of("x", 0)
