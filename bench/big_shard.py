"""Large WARC files in Common Crawl's layout, made from the benchmark's real pages, for memory benches.

``big_shard(size)`` returns the path of a deterministic ``.warc.gz`` of about ``size`` compressed
bytes: one gzip member per record, a warcinfo record first, then per capture a request, its
response and a metadata record, as in a Common Crawl WARC file, named as Common Crawl names its
files (``CC-MAIN-<start>-<end>-<nnnnn>.warc.gz``; here nnnnn is the size in MiB). The pages are
those of ``bench.corpus.archive_files()`` (the real pages in ../shared, or the generated sample
without it), copied round-robin until the file has its size. Every copy is its own capture: a
URL of its own (``https://host/copy-00017/path``), its own record ids and dates, and a sentence of
its own inserted into the page's longest paragraph, so exact dedup keeps every copy.

Files are cached under ``~/.cache/warcforge/bench/`` (``WARCFORGE_BENCH_CACHE`` moves it) and made
only when missing, written under a temporary name and renamed, so an interrupted run leaves no
half file under the final name. ``python bench/big_shard.py 0.25 1`` makes (or finds) the files
of 0.25 and 1 GiB and prints their paths.
"""

import hashlib
import json
import os
import re
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from fastwarc.warc import ArchiveIterator, WarcRecordType  # noqa: E402

from bench.corpus import archive_files  # noqa: E402
from sample_crawl.warc_writer import gzip_member, http_request, http_response, warc_record  # noqa: E402
from transforms.extraction.html_text import ExtractOptions, pruned_html_to_text  # noqa: E402
from transforms.reading.html_detect import charset_param  # noqa: E402

GIB = 2**30
MIB = 2**20
# Part of the cache's folder name: a change to what the files hold must not reuse old files.
GENERATOR_VERSION = 1
CACHE_VARIABLE = "WARCFORGE_BENCH_CACHE"
START = datetime(2025, 3, 14, 12, 0, 0, tzinfo=timezone.utc)
CRAWL = "CC-MAIN-2025-13"
USER_AGENT = "CCBot/2.0 (https://commoncrawl.org/faq/)"
_PARAGRAPH = re.compile(rb"<p[\s>].*?</p\s*>", re.IGNORECASE | re.DOTALL)
_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)
CANDIDATE_LINES = 8
MAX_TRIES = 6  # extractions per page while looking for a place the extractor keeps


@dataclass(frozen=True)
class SourcePage:
    url: str
    content_type: str
    body: bytes
    insert_at: tuple[int, ...]  # where a copy's own sentence goes (each place the chosen words occur)
    checked: bool  # the extractor keeps a sentence put there (False: no place was found that it keeps)


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_VARIABLE, "~/.cache/warcforge/bench")).expanduser()


def _sentence(copy: int, serial: int) -> bytes:
    return f" Archived copy {copy} of this page, capture {serial} of the warcforge shard benchmark. ".encode("ascii")


def _with_sentence(body: bytes, places: tuple[int, ...], sentence: bytes) -> bytes:
    pieces, last = [], 0
    for place in places:
        pieces += [body[last:place], sentence]
        last = place
    pieces.append(body[last:])
    return b"".join(pieces)


def _extract(body: bytes, content_type: str) -> tuple[str, str]:
    return pruned_html_to_text(body, charset_param(content_type), ExtractOptions())


def _candidate_places(body: bytes, text: str, charset: str) -> Iterator[tuple[int, ...]]:
    """Places after a few words of the extracted text's longest lines, then before the longest paragraph's end."""
    for line in sorted(text.splitlines(), key=len, reverse=True)[:CANDIDATE_LINES]:
        words = line.split()
        for start in range(min(len(words), 4)):
            snippet = ""
            for word in words[start:]:
                snippet = f"{snippet} {word}" if snippet else word
                if len(snippet) >= 24:
                    break
            try:
                needle = snippet.encode(charset)
            except (UnicodeEncodeError, LookupError):
                continue
            if len(snippet) < 12 or needle not in body:
                continue
            yield tuple(m.end() for m in re.finditer(re.escape(needle), body))
    longest = max(_PARAGRAPH.finditer(body), key=lambda m: m.end() - m.start(), default=None)
    if longest is not None:
        yield (longest.start() + longest.group(0).rfind(b"<"),)  # before its "</p>"
    end = _BODY_END.search(body)
    yield (end.start() if end else len(body),)


def _places(body: bytes, content_type: str) -> tuple[tuple[int, ...], bool]:
    """Where a sentence goes so that the extractor keeps it, checked by extracting the page with a probe."""
    text, charset = _extract(body, content_type)
    probe = _sentence(0, 0)
    fallback: tuple[int, ...] = ()
    for tries, places in enumerate(_candidate_places(body, text, charset)):
        fallback = places
        if tries < MAX_TRIES and probe.decode().strip() in _extract(_with_sentence(body, places, probe),
                                                                    content_type)[0]:
            return places, True
    return fallback, False


def source_pages() -> tuple[list[SourcePage], str]:
    """The HTML responses of the benchmark corpus (HTTP 200, no transfer or content encoding), in file order."""
    files, described = archive_files()
    pages = []
    for path in files:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream, record_types=WarcRecordType.response):
                http = record.http_headers
                if http is None or http.status_code != 200:
                    continue
                if http.get("Content-Encoding") or http.get("Transfer-Encoding"):
                    continue  # a sentence cannot be inserted into encoded bytes
                content_type = http.get("Content-Type") or ""
                if "html" not in content_type.lower():
                    continue
                url = record.headers.get("WARC-Target-URI")
                if not url or not url.startswith(("http://", "https://")):
                    continue
                body = record.reader.read()
                places, checked = _places(body, content_type)
                pages.append(SourcePage(url, content_type, body, places, checked))
    return pages, described


def shard_name(size_bytes: int) -> str:
    stamp = START.strftime("%Y%m%d%H%M%S")
    end = (START + timedelta(hours=3)).strftime("%Y%m%d%H%M%S")
    return f"CC-MAIN-{stamp}-{end}-{size_bytes // MIB:05d}.warc.gz"


def _record_id(*parts: object) -> str:
    digest = hashlib.md5("/".join(map(str, parts)).encode("utf-8")).digest()  # noqa: S324 - an id, not security
    return f"<urn:uuid:{uuid.UUID(bytes=digest, version=4)}>"


def _copy_url(url: str, copy: int) -> str:
    scheme, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    return f"{scheme}://{host}/copy-{copy:05d}{slash}{path}"


def _date(serial: int) -> str:
    return (START + timedelta(milliseconds=serial * 250)).strftime("%Y-%m-%dT%H:%M:%SZ")


def capture_members(page: SourcePage, copy: int, serial: int, warcinfo_id: str, name: str) -> bytes:
    """The request, response and metadata records of one copy of a page, each its own gzip member."""
    url = _copy_url(page.url, copy)
    date = _date(serial)
    body = _with_sentence(page.body, page.insert_at, _sentence(copy, serial))
    request_id, response_id = _record_id(name, serial, "request"), _record_id(name, serial, "response")
    common = [("WARC-Date", date), ("WARC-Warcinfo-ID", warcinfo_id), ("WARC-Target-URI", url)]
    request = warc_record([("WARC-Type", "request"), ("WARC-Record-ID", request_id), *common,
                           ("Content-Type", "application/http; msgtype=request")], http_request(url, USER_AGENT))
    http = http_response(200, "OK", [("Date", date), ("Content-Type", page.content_type), ("Connection", "close"),
                                     ("Content-Length", str(len(body)))], body)
    response = warc_record([("WARC-Type", "response"), ("WARC-Record-ID", response_id), *common,
                            ("WARC-Concurrent-To", request_id), ("WARC-IP-Address", "192.0.2.1"),
                            ("Content-Type", "application/http; msgtype=response"),
                            ("WARC-Identified-Payload-Type", "text/html")], http, payload=body)
    fields = f"fetchTimeMs: {20 + serial % 1000}\r\ncharset-detected: UTF-8\r\n".encode("ascii")
    metadata = warc_record([("WARC-Type", "metadata"), ("WARC-Record-ID", _record_id(name, serial, "metadata")),
                            *common, ("WARC-Concurrent-To", response_id),
                            ("Content-Type", "application/warc-fields")], fields)
    return gzip_member(request) + gzip_member(response) + gzip_member(metadata)


def _warcinfo(name: str) -> tuple[str, bytes]:
    record_id = _record_id(name, "warcinfo")
    info = (f"isPartOf: {CRAWL}\r\npublisher: Common Crawl (layout only: warcforge's shard benchmark)\r\n"
            "description: Wide crawl of the web (generated: copies of the benchmark's real pages)\r\n"
            "operator: warcforge bench\r\nsoftware: warcforge bench/big_shard.py\r\n"
            "robots: checked via crawler-commons\r\nformat: WARC File Format 1.1\r\n"
            "conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
            ).encode("ascii")
    member = gzip_member(warc_record([("WARC-Type", "warcinfo"), ("WARC-Date", _date(0)), ("WARC-Filename", name),
                                      ("WARC-Record-ID", record_id), ("Content-Type", "application/warc-fields")],
                                     info))
    return record_id, member


def _captures(pages: list[SourcePage]) -> Iterator[tuple[SourcePage, int, int]]:
    serial = 0
    for copy in range(1_000_000):
        for page in pages:
            serial += 1
            yield page, copy, serial


def write_shard(path: Path, size_bytes: int, pages: list[SourcePage]) -> dict:
    """Write captures into ``path`` until it holds at least ``size_bytes``; returns what it holds."""
    name = path.name
    warcinfo_id, first = _warcinfo(name)
    written, captures = len(first), 0
    with open(path, "wb") as out:
        out.write(first)
        for page, copy, serial in _captures(pages):
            if written >= size_bytes:
                break
            members = capture_members(page, copy, serial, warcinfo_id, name)
            out.write(members)
            written += len(members)
            captures += 1
    return {"bytes": written, "captures": captures, "records": 1 + 3 * captures, "source_pages": len(pages),
            "pages_with_a_kept_sentence": sum(p.checked for p in pages)}


def big_shard(size_bytes: int) -> tuple[Path, dict]:
    """The cached file of about ``size_bytes`` compressed bytes and its description (made when missing)."""
    files, described = archive_files()
    source = "real-html" if "shared" in described else "sample"
    folder = cache_dir() / f"big-shards-v{GENERATOR_VERSION}-{source}"
    path = folder / shard_name(size_bytes)
    about = path.with_name(path.name + ".json")
    if path.exists() and about.exists():
        return path, json.loads(about.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    pages, described = source_pages()
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        info = write_shard(partial, size_bytes, pages)
        info["source"] = described
        about.write_text(json.dumps(info, indent=1) + "\n")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path, info


def main(argv: list[str]) -> int:
    for size in argv or ["0.25", "1"]:
        path, info = big_shard(int(float(size) * GIB))
        print(f"{path}: {info['bytes'] / GIB:.2f} GiB, {info['captures']:,} captures", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
