"""The floor a pipeline is measured against: the recipe's irreducible work per document, in a plain loop.

No Beam, no records, no files written: fastwarc reads each response record with its HTTP headers,
HTML pages (status 2xx, an HTML Content-Type) go through the recipe's extractor with the same
charset handling (``pruned_html_to_text``: the header's charset, else the page's meta tag, else
uchardet), the text is normalized and hashed with SHA-256 as exact dedup keys it, and, where the
recipe has near dedup, shingled and MinHashed into its band keys with numpy. What a pipeline
does beyond this (classifying every record, provenance, ids, counters, shuffles, Parquet) is its
overhead.

Run as a script, it is the floor's own child process: ``plain_loop.py [--near] FILE...`` prints
``documents cpu_seconds`` so a benchmark can run it in several processes at once.
"""

import resource
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fastwarc.warc import ArchiveIterator, WarcRecordType  # noqa: E402

from transforms.dedup.minhash import MinHasher, shingles  # noqa: E402
from transforms.dedup.normalize import exact_dedup_key  # noqa: E402
from transforms.extraction.html_text import ExtractOptions, pruned_html_to_text  # noqa: E402
from transforms.reading.html_detect import HTML_TYPES, charset_param, mime_type  # noqa: E402


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def plain_loop(files: list[str], near: bool = False) -> int:
    """Documents with text out of ``files``; every one extracted, exact-keyed, and MinHashed if ``near``."""
    options = ExtractOptions()
    hasher = MinHasher() if near else None
    documents = 0
    keys = set()
    for path in files:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
                headers = record.http_headers
                if headers is None or not 200 <= headers.status_code <= 299:
                    continue
                content_type = headers.get("Content-Type")
                if mime_type(content_type) not in HTML_TYPES:
                    continue
                text, _ = pruned_html_to_text(record.reader.read(), charset_param(content_type), options)
                if not text:
                    continue
                documents += 1
                keys.add(exact_dedup_key(text))
                if hasher is not None:
                    hasher.band_keys(hasher.signature(shingles(text)))
    return documents


def main(argv: list[str]) -> int:
    near = "--near" in argv
    files = [a for a in argv if a != "--near"]
    started = cpu_seconds()
    documents = plain_loop(files, near)
    print(documents, f"{cpu_seconds() - started:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
