"""RedactPii: e-mail and public IPv4 addresses replaced in the documents that are kept.

Runs after deduplication (as FineWeb does), so replacing text cannot make two documents equal;
``text_sha256`` is recomputed for the text as written.
"""

from dataclasses import replace

import apache_beam as beam

from transforms import reasons
from transforms.counting import StageCounters
from transforms.filters.pii import redact_pii
from transforms.records import Document
from transforms.text_normalize import text_sha256


class RedactPiiFn(beam.DoFn):
    def __init__(self, email_placeholder: str, ip_placeholder: str) -> None:
        self.email_placeholder, self.ip_placeholder = email_placeholder, ip_placeholder

    def setup(self) -> None:
        self.counters = StageCounters(reasons.PII)

    def process(self, doc: Document):  # noqa: ANN201 - a DoFn generator
        text, emails, ips = redact_pii(doc.text, self.email_placeholder, self.ip_placeholder)
        if emails or ips:
            self.counters.inc("emails", emails)
            self.counters.inc("ips", ips)
            self.counters.inc("documents_changed")
            doc = replace(doc, text=text, text_sha256=text_sha256(text))
        yield doc


class RedactPii(beam.PTransform):
    def __init__(self, email_placeholder: str, ip_placeholder: str) -> None:
        super().__init__()
        self.email_placeholder, self.ip_placeholder = email_placeholder, ip_placeholder

    def expand(self, docs: beam.PCollection) -> beam.PCollection:
        return docs | "ReplaceEmailsAndIps" >> beam.ParDo(RedactPiiFn(self.email_placeholder, self.ip_placeholder))
