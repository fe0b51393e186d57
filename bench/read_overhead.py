"""What the resilient read costs: warcforge's read stage against plain fastwarc on the same file.

Floor, measured in the same run: fastwarc iterating the records of a local gzip WARC and reading
every payload. Then, on the same bytes: fastwarc through ``GzipMemberReader`` (member-by-member
decompression that knows every record's file offset), through ``ResumableFile`` (the retrying
reader), and warcforge's whole read stage (``read_shard``: both, plus each record's decision),
from local disk and from a loopback HTTP server. Best of several runs; compressed MB/s.
Writes docs/BENCH-READ.md.
"""

import io
import platform
import sys
import time
from pathlib import Path

from fastwarc.warc import ArchiveIterator

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.corpus import archive_files  # noqa: E402
from bench.report import write_report  # noqa: E402
from testbed.http_server import FileServer  # noqa: E402
from transforms.reading.classify_records import ReadRules, read_shard  # noqa: E402
from transforms.reading.gzip_members import GzipMemberReader  # noqa: E402
from transforms.reading.resumable_file import ResumableFile, RetryPolicy  # noqa: E402

REPEATS = 5
OUT = REPO / "docs" / "BENCH-READ.md"


def iterate(stream: io.RawIOBase | object, detect: bool = True) -> int:
    count = 0
    for record in ArchiveIterator(stream, parse_http=True, fsspec_args=False, stream_detect=detect):
        record.reader.read()
        count += 1
    return count


def plain_fastwarc(path: Path, _url: str) -> int:
    with open(path, "rb") as stream:
        return iterate(stream)


def member_reader(path: Path, _url: str) -> int:
    with open(path, "rb") as stream:
        return iterate(GzipMemberReader(stream, path.stat().st_size), detect=False)


def resumable_fastwarc(path: Path, _url: str) -> int:
    stream = ResumableFile(str(path), RetryPolicy())
    try:
        return iterate(stream)
    finally:
        stream.close()


def read_stage_local(path: Path, _url: str) -> int:
    stream = ResumableFile(str(path), RetryPolicy())
    try:
        return sum(1 for _ in read_shard(stream, str(path), stream.size, ReadRules()))
    finally:
        stream.close()


def read_stage_http(_path: Path, url: str) -> int:
    stream = ResumableFile(url, RetryPolicy())
    try:
        return sum(1 for _ in read_shard(stream, url, stream.size, ReadRules()))
    finally:
        stream.close()


CASES = [
    ("fastwarc, local file (floor)", plain_fastwarc),
    ("fastwarc over GzipMemberReader", member_reader),
    ("fastwarc over ResumableFile", resumable_fastwarc),
    ("read_shard (whole read stage), local", read_stage_local),
    ("read_shard (whole read stage), loopback HTTP", read_stage_http),
]


def main() -> int:
    files, described = archive_files()
    total = sum(p.stat().st_size for p in files)
    results = []
    with FileServer(files[0].parent) as server:
        for label, case in CASES:
            best = float("inf")
            for _ in range(REPEATS):
                started = time.perf_counter()
                for path in files:
                    case(path, f"{server.url}/{path.name}")
                best = min(best, time.perf_counter() - started)
            results.append((label, best, total / best / 1e6))
            print(f"{label:<48} {best:7.3f} s  {total / best / 1e6:7.1f} MB/s", flush=True)
    floor = results[0][1]
    lines = [
        "# Read benchmark",
        "",
        f"Input: {described}. One core of {platform.machine()} ({platform.processor() or 'unknown CPU'}),"
        f" Python {platform.python_version()}; best of {REPEATS} runs; MB/s of compressed input.",
        "Produced by `make bench` (bench/read_overhead.py); the floor is measured in the same run.",
        "",
        "| reader | seconds | MB/s | vs floor |",
        "|---|---:|---:|---:|",
        *[f"| {label} | {seconds:.3f} | {rate:.1f} | {seconds / floor:.2f}x |" for label, seconds, rate in results],
        "",
    ]
    write_report(OUT, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
