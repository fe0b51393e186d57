"""DedupByUrl: one capture per normalized URL, the newest or the longest (``dedup.url``).

URLs are compared without scheme, ``www.``, fragment and trailing slash, lower-cased; the query
string is kept. A combiner keeps the best capture and a count, as exact dedup does.
"""

import urllib.parse

import apache_beam as beam

from transforms import reasons
from transforms.dedup_exact import CountDedupFn
from transforms.records import Document
from transforms.survivor import survivor_key

URL_RULES = {"newest": "latest", "longest": "longest"}


def normalize_capture_url(url: str | None, fallback: str) -> str:
    if not url:
        return f"no-url:{fallback}"
    parts = urllib.parse.urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    return host + path + (f"?{parts.query}" if parts.query else "")


class KeepCapture(beam.CombineFn):
    def __init__(self, rule: str) -> None:
        self.rule = URL_RULES[rule]

    def create_accumulator(self) -> tuple:
        return (None, 0)

    def add_input(self, accumulator: tuple, doc: Document) -> tuple:
        return self.merge_accumulators([accumulator, (doc, 1)])

    def merge_accumulators(self, accumulators: list) -> tuple:
        best, count = None, 0
        for doc, n in accumulators:
            count += n
            if doc is not None and (best is None or survivor_key(doc, self.rule) < survivor_key(best, self.rule)):
                best = doc
        return (best, count)

    def extract_output(self, accumulator: tuple) -> tuple:
        return accumulator


class DedupByUrl(beam.PTransform):
    def __init__(self, rule: str) -> None:
        super().__init__()
        self.rule = rule

    def expand(self, docs: beam.PCollection) -> beam.PCollection:
        return (
            docs
            | "CountIn" >> beam.ParDo(CountDedupFn(reasons.IN, reasons.DEDUP_URL, reasons.URL_DUPLICATE))
            | "KeyByUrl" >> beam.Map(lambda d: (normalize_capture_url(d.provenance.url, d.id), d))
            | "KeepOneCapturePerUrl" >> beam.CombinePerKey(KeepCapture(self.rule))
            | "DropKeys" >> beam.Values()
            | "CountKept" >> beam.ParDo(CountDedupFn(reasons.OUT, reasons.DEDUP_URL, reasons.URL_DUPLICATE))
        )
