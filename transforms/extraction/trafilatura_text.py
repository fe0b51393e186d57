"""Main text by trafilatura, the extractor FineWeb used: slower than resiliparse, selectable.

Called in a time-limited child process (``transforms.extraction.time_limited``), the only process of a build
that imports this module: trafilatura (heavy) loads as the child starts, before its first page's time limit
runs. The charset is chosen the same way as for resiliparse.
"""

import trafilatura
from resiliparse.parse.encoding import bytes_to_str

from transforms.extraction.html_text import choose_charset, tidy_lines


def trafilatura_to_text(payload: bytes, declared_charset: str | None) -> tuple[str, str]:
    charset = choose_charset(payload, declared_charset)
    html = bytes_to_str(payload, charset)
    text = trafilatura.extract(html, output_format="txt", include_comments=False, include_tables=True,
                               deduplicate=False, favor_precision=False) or ""
    return tidy_lines(text), charset

