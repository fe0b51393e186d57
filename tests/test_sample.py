"""The embedded sample: deterministic, Common Crawl-shaped, and holding every case it promises."""

import collections
import gzip
import hashlib
import io

from fastwarc.warc import ArchiveIterator

from sample_crawl.corpus import NUM_SHARDS, write_sample


def digests(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, sample_dir):
    write_sample(tmp_path / "again")
    write_sample(tmp_path / "other", seed=7)
    assert digests(tmp_path / "again") == digests(sample_dir)
    assert digests(tmp_path / "other").keys() == digests(sample_dir).keys()
    assert all(a != b for a, b in zip(digests(tmp_path / "other").values(), digests(sample_dir).values(), strict=True))


def test_shards_are_a_few_megabytes_of_gzip_per_record_warc(sample_dir):
    shards = sorted(sample_dir.glob("*.warc.gz"))
    assert len(shards) == NUM_SHARDS
    assert 2_000_000 < sum(p.stat().st_size for p in shards) < 8_000_000
    data = shards[0].read_bytes()
    first_member = gzip.GzipFile(fileobj=io.BytesIO(data)).read(9)
    assert first_member == b"WARC/1.1\r"


def test_records_look_like_common_crawl(sample_dir):
    types = collections.Counter()
    for shard in sorted(sample_dir.glob("*.warc.gz")):
        with open(shard, "rb") as stream:
            for record in ArchiveIterator(stream, parse_http=False, fsspec_args=False):
                types[str(record.record_type)] += 1
                if str(record.record_type) in ("response", "request", "metadata"):
                    assert record.headers.get("WARC-Warcinfo-ID")
    assert types["warcinfo"] == NUM_SHARDS
    assert types["request"] > 800 and types["metadata"] > 800
    assert types["response"] > 800 and types["revisit"] == NUM_SHARDS


def test_index_promises_every_case(sample_index):
    kinds = collections.Counter(c["kind"] for c in sample_index["captures"])
    for kind in ("exact_copy", "whitespace_copy", "near_duplicate", "redirect", "not_found", "server_error",
                 "image", "pdf", "mislabeled_image", "untyped_html", "octet_stream_html", "script_only_page",
                 "content_encoding_gzip", "content_encoding_br", "content_encoding_deflate", "transfer_chunked",
                 "corrupt_content_encoding", "garbled_http_head", "dns", "revisit", "cut_by_crawler"):
        assert kinds[kind] >= 1, kind
    assert sum(1 for k in kinds if k.endswith("_truncated")) == 1


def test_pages_come_in_several_languages_and_charsets(sample_dir):
    declared = collections.Counter()
    for shard in sorted(sample_dir.glob("*.warc.gz")):
        with open(shard, "rb") as stream:
            for record in ArchiveIterator(stream, parse_http=True, fsspec_args=False):
                if record.is_http and record.http_headers.status_code == 200:
                    declared[(record.http_charset or "-").lower()] += 1
    assert {"utf-8", "iso-8859-1", "koi8-r", "gb2312", "-"} <= set(declared)
