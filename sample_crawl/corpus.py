"""Plan and write the sample shards: which page goes where, then the WARC bytes.

Each shard: a warcinfo record, then per capture a request, the response and a metadata record,
as in a Common Crawl WARC file. Across shards: exact copies of articles (mirrors and tracking-
parameter URLs), near-duplicates, every special case of ``captures``, and one shard whose last
record is cut off mid-gzip-member. ``sample-index.json`` lists every capture with its expected
fate, which the end-to-end tests hold the pipeline to.
"""

import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sample_crawl.captures import (
    DOCUMENT,
    Capture,
    article_capture,
    near_duplicate_capture,
    special_captures,
)
from sample_crawl.pages import Article, make_article, make_site
from sample_crawl.vocabulary import PAGE_ENCODING_WEIGHTS, PAGE_ENCODINGS
from sample_crawl.warc_writer import gzip_member, http_request, http_response, warc_record

DEFAULT_SEED = 20250314
NUM_SHARDS = 4
ARTICLES_PER_SHARD = 200
EXACT_COPIES = 12
WHITESPACE_COPIES = 4
NEAR_DUPLICATES = 8
INDEX_FILE = "sample-index.json"
USER_AGENT = "warcforge-sample/1.0 (+https://example.invalid/warcforge)"
START = datetime(2025, 3, 14, tzinfo=timezone.utc)


def shard_name(index: int) -> str:
    return f"sample-{index:05d}.warc.gz"


def plan(rng: random.Random) -> list[list[Capture]]:
    shards: list[list[Capture]] = []
    originals: list[tuple[int, Article, str, str]] = []
    serial = 0
    for shard in range(NUM_SHARDS):
        captures = []
        for _ in range(ARTICLES_PER_SHARD):
            language, charset, declared = rng.choices(PAGE_ENCODINGS, PAGE_ENCODING_WEIGHTS)[0]
            article = make_article(rng, language, make_site(rng, language), serial)
            serial += 1
            captures.append(article_capture(article, charset, declared, _date(serial)))
            originals.append((shard, article, charset, declared))
        shards.append(captures)

    def elsewhere(shard: int) -> int:
        return (shard + 1 + rng.randrange(NUM_SHARDS - 1)) % NUM_SHARDS

    picks = rng.sample(originals, EXACT_COPIES + WHITESPACE_COPIES + NEAR_DUPLICATES)
    for shard, article, charset, declared in picks[:EXACT_COPIES]:
        mirror = f"https://mirror.{article.site.removeprefix('www.')}{article.path}"
        copy = article_capture(article, charset, declared, _date(0), kind="exact_copy",
                               expect="exact_duplicate", url=mirror)
        _insert(rng, shards[elsewhere(shard)], copy)
    for _shard, article, charset, declared in picks[EXACT_COPIES:EXACT_COPIES + WHITESPACE_COPIES]:
        copy = article_capture(article, charset, declared, _date(0), kind="whitespace_copy",
                               expect="exact_duplicate", url=article.url + "?utm_source=feed", extra_space=True)
        _insert(rng, shards[rng.randrange(NUM_SHARDS)], copy)
    for shard, article, charset, declared in picks[EXACT_COPIES + WHITESPACE_COPIES:]:
        _insert(rng, shards[elsewhere(shard)], near_duplicate_capture(rng, article, charset, declared, _date(0)))
    for captures in shards:
        for capture in special_captures(rng, make_site(rng, "en"), _date(0)):
            _insert(rng, captures, capture)
    last = shards[-1][-1]
    last.truncate, last.kind, last.expect = True, f"{last.kind}_truncated", "truncated_payload"
    return shards


def _insert(rng: random.Random, captures: list[Capture], capture: Capture) -> None:
    # Never after the last capture: the last one of the last shard is the truncated record.
    captures.insert(rng.randrange(len(captures)), capture)


def _date(serial: int) -> str:
    return (START + timedelta(seconds=serial * 37)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _record_id(rng: random.Random) -> str:
    return f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}>"


def shard_bytes(rng: random.Random, index: int, captures: list[Capture]) -> tuple[bytes, list[dict]]:
    out = bytearray()
    warcinfo_id = _record_id(rng)
    info = (f"isPartOf: WARCFORGE-SAMPLE\r\npublisher: warcforge\r\nformat: WARC File Format 1.1\r\n"
            f"description: deterministic sample shard {index}\r\nsoftware: warcforge sample\r\n").encode()
    out += gzip_member(warc_record(
        [("WARC-Type", "warcinfo"), ("WARC-Date", _date(index)), ("WARC-Filename", shard_name(index)),
         ("WARC-Record-ID", warcinfo_id), ("Content-Type", "application/warc-fields")], info))
    index_rows = []
    clock = START + timedelta(days=index)
    for capture in captures:
        clock += timedelta(seconds=rng.randint(1, 90))
        date = clock.strftime("%Y-%m-%dT%H:%M:%SZ")
        common = [("WARC-Date", date), ("WARC-Warcinfo-ID", warcinfo_id), ("WARC-Target-URI", capture.url)]
        is_http = capture.url.startswith("http")
        request_id, response_id = _record_id(rng), _record_id(rng)
        if is_http:
            out += gzip_member(warc_record(
                [("WARC-Type", "request"), ("WARC-Record-ID", request_id), *common,
                 ("Content-Type", "application/http; msgtype=request")],
                http_request(capture.url, USER_AGENT)))
        index_rows.append({"shard": shard_name(index), "offset": len(out), "url": capture.url,
                           "record_id": response_id, "kind": capture.kind, "expect": capture.expect})
        out += _response_member(capture, response_id, request_id if is_http else None, common, date)
        if is_http and capture.warc_type == "response" and not capture.truncate:
            fields = (f"fetchTimeMs: {rng.randint(20, 2000)}\r\n"
                      f"charset-detected: UTF-8\r\n").encode()
            out += gzip_member(warc_record(
                [("WARC-Type", "metadata"), ("WARC-Record-ID", _record_id(rng)), *common,
                 ("WARC-Concurrent-To", response_id), ("Content-Type", "application/warc-fields")], fields))
    return bytes(out), index_rows


def _response_member(capture: Capture, record_id: str, request_id: str | None,
                     common: list[tuple[str, str]], date: str) -> bytes:
    headers = [("WARC-Type", capture.warc_type), ("WARC-Record-ID", record_id), *common]
    if request_id:
        headers.append(("WARC-Concurrent-To", request_id))
    if not capture.url.startswith("http"):
        headers.append(("Content-Type", "text/dns"))
        return gzip_member(warc_record(headers, capture.body))
    headers.append(("Content-Type", "application/http; msgtype=response"))
    if capture.identified_type:
        headers.append(("WARC-Identified-Payload-Type", capture.identified_type))
    if capture.warc_type == "revisit":
        headers.append(("WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"))
    headers += capture.warc_headers
    http_headers = [("Date", date), ("Server", "nginx"), *capture.headers,
                    ("Content-Length", str(len(capture.body)))]
    block = capture.raw_block or http_response(capture.status, capture.reason_phrase, http_headers, capture.body)
    member = gzip_member(warc_record(headers, block, payload=capture.body))
    return member[: len(member) * 11 // 20] if capture.truncate else member


def write_sample(directory: str | Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the shards and ``sample-index.json`` into ``directory``; the same seed, the same bytes."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    shards = plan(rng)
    paths, index = [], []
    for number, captures in enumerate(shards):
        data, rows = shard_bytes(rng, number, captures)
        path = directory / shard_name(number)
        path.write_bytes(data)
        paths.append(path)
        index.extend(rows)
    summary = {"seed": seed, "shards": [shard_name(i) for i in range(NUM_SHARDS)], "captures": index,
               "expected_documents": sum(1 for r in index if r["expect"] == DOCUMENT)}
    (directory / INDEX_FILE).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return paths
