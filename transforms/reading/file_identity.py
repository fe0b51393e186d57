"""What identifies an input file's bytes: its size, what the server says about them, and a sha256.

A lock (``warcforge lock``) records this for every input, and ``build --lock`` compares it again
before reading a record. The server's word comes from one metadata request: an HTTP ETag,
Content-MD5 or Digest header, S3's ETag (an MD5 for single-part uploads) and any checksum it
returns, GCS's md5Hash and crc32c. Last-Modified is left out: a copy of the same bytes has
another. A sha256 costs a read of the whole file, through the same retrying reader as a build.
"""

import hashlib
import time

import fsspec

from transforms.common.errors import MissingInputError, ShardUnavailable
from transforms.reading.request_failures import display_url
from transforms.reading.resumable_file import ResumableFile, RetryPolicy

# fsspec info() keys that name the content, under the names a lock records.
_SERVER_IDENTITIES = {
    "ETag": "etag", "etag": "etag", "Content-MD5": "content_md5", "Digest": "digest",
    "md5Hash": "md5", "crc32c": "crc32c", "ChecksumSHA256": "checksum_sha256", "ChecksumCRC32C": "checksum_crc32c",
}
_HASH_CHUNK = 4 << 20


def server_identity(info: dict) -> dict[str, str]:
    """The content identities a listing gives, e.g. {"etag": "\\"5d41...\\""}; {} on local disk."""
    found = {}
    for key, name in _SERVER_IDENTITIES.items():
        value = info.get(key)
        if value not in (None, "") and name not in found:
            found[name] = str(value)
    return found


def describe_file(url: str, policy: RetryPolicy) -> dict:
    """{"size": n, and the server's identities}; a missing file is a MissingInputError naming it.

    Metadata requests are retried like reads (a 503 under load is not a missing file)."""
    fs, path = fsspec.core.url_to_fs(url)
    for attempt in range(policy.max_attempts):
        try:
            info = fs.info(path)
            break
        except FileNotFoundError as exc:
            # fsspec's HTTP filesystem says "not found" for any failure; its cause has the status.
            status = getattr(exc.__cause__, "status", None)
            if status in (None, 404, 410) or attempt + 1 == policy.max_attempts:
                raise MissingInputError(f"input file not found: {display_url(url)}") from None
        except OSError as exc:
            if attempt + 1 == policy.max_attempts:
                raise MissingInputError(f"cannot ask {display_url(url)} for its size: {exc}") from None
        time.sleep(min(policy.max_backoff_s, policy.initial_backoff_s * 2 ** attempt, 30.0))
    return {"size": int(info["size"]) if info.get("size") is not None else None, **server_identity(info)}


def file_sha256(url: str, policy: RetryPolicy, size: int | None = None) -> str:
    """The sha256 of the whole file, streamed through ``ResumableFile`` (retries, Range resume)."""
    digest = hashlib.sha256()
    stream = ResumableFile(url, policy, size=size)
    try:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    except ShardUnavailable as exc:
        raise MissingInputError(f"cannot read {display_url(url)} to hash it: {exc.reason}") from None
    finally:
        stream.close()
    return digest.hexdigest()
