"""Where a row is written: the output shard its key hashes to, and the shard file's name.

A shard depends only on the key (a document id, a dead letter's file and offset), never on
bundles or workers, so the file a row lands in is fixed by the row.
"""

import hashlib

CONTENT_HASH_CHARS = 12  # 48 bits: two versions of one shard index colliding is out of reach


def shard_of(key: str, num_shards: int) -> int:
    """Output shard for a key: a hash of the key, so shards fill evenly whatever the id's shape."""
    if num_shards < 1:
        raise ValueError(f"num_shards must be at least 1, got {num_shards}")
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % num_shards


def shard_file_name(subdir: str, index: int, num_shards: int, sha256: str) -> str:
    """``data/part-00003-of-00016-<content hash>.parquet``: a file's name changes when its bytes do,
    so a new run's files never overwrite a published run's (see ``publish``)."""
    return f"{subdir}/part-{index:05d}-of-{num_shards:05d}-{sha256[:CONTENT_HASH_CHARS]}.parquet"
