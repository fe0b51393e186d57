"""What the benchmarks read: the real pages in ../shared, or the generated sample without it."""

import io
from pathlib import Path

from sample_crawl.corpus import write_sample
from transforms.common.records import PageRecord
from transforms.reading.classify_records import ReadRules, read_shard

REPO = Path(__file__).resolve().parent.parent


def archive_files() -> tuple[list[Path], str]:
    files = sorted((REPO.parent / "shared" / "data" / "real-html").glob("real-html-0000[0-9].warc.gz"))
    if files:
        return files, "../shared/data/real-html/real-html-0000{0,1,2}.warc.gz (1,126 real pages, 34 MB)"
    target = REPO / "build" / "bench-sample"
    write_sample(target)
    return sorted(target.glob("*.warc.gz")), "the generated sample (../shared absent)"


def html_pages() -> tuple[list[PageRecord], str]:
    files, described = archive_files()
    pages = []
    for path in files:
        data = path.read_bytes()
        pages += [d for d in read_shard(io.BytesIO(data), str(path), len(data), ReadRules())
                  if isinstance(d, PageRecord)]
    return pages, described
