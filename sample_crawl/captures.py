"""The kinds of capture the sample holds besides ordinary articles, each with the fate it must meet.

``expect`` is the read/extract/dedup reason the pipeline must count the capture under, or
``document`` when it must become (or stay in the running as) a row.
"""

import gzip
import random
import zlib
from dataclasses import dataclass, field, replace

import brotli

from sample_crawl.pages import Article, make_article, near_duplicate, render_html

DOCUMENT = "document"


@dataclass
class Capture:
    url: str
    kind: str
    expect: str
    status: int = 200
    reason_phrase: str = "OK"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    identified_type: str | None = None
    warc_type: str = "response"
    raw_block: bytes | None = None  # a block that is not a valid HTTP response, written as is
    warc_headers: list[tuple[str, str]] = field(default_factory=list)  # extra WARC headers
    truncate: bool = False  # cut the record's gzip member short, as a crawl that died mid-write


def article_capture(article: Article, charset: str, declared: str, date: str, kind: str = "article",
                    expect: str = DOCUMENT, url: str | None = None, extra_space: bool = False) -> Capture:
    meta = charset if declared == "meta" else None
    body = render_html(article, meta, date, extra_space=extra_space).encode(charset, errors="xmlcharrefreplace")
    content_type = f"text/html; charset={charset}" if declared == "header" else "text/html"
    return Capture(
        url=url or article.url, kind=kind, expect=expect,
        headers=[("Content-Type", content_type)], body=body, identified_type="text/html",
    )


def _bytes(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


def special_captures(rng: random.Random, site: str, date: str) -> list[Capture]:
    """One of each non-article case, for one site."""
    base = f"https://{site}"
    article = make_article(rng, "en", site, rng.randint(50000, 59999))
    page = render_html(article, "utf-8", date).encode("utf-8")
    html_type = [("Content-Type", "text/html; charset=utf-8")]
    captures = [
        Capture(f"{base}/old-page", "redirect", "http_status_3xx", 301, "Moved Permanently",
                html_type + [("Location", f"{base}/new-page")], b"<html><body>Moved</body></html>", "text/html"),
        Capture(f"{base}/login", "redirect", "http_status_3xx", 302, "Found",
                [("Location", f"{base}/account")], b"", None),
        Capture(f"{base}/missing.html", "not_found", "http_status_4xx", 404, "Not Found",
                html_type, b"<html><body><h1>Page not found</h1></body></html>", "text/html"),
        Capture(f"{base}/admin/", "forbidden", "http_status_4xx", 403, "Forbidden", html_type,
                b"<html><body>Forbidden</body></html>", "text/html"),
        Capture(f"{base}/search?q=x", "server_error", "http_status_5xx", 503, "Service Unavailable",
                html_type, b"<html><body>Try again later</body></html>", "text/html"),
        Capture(f"{base}/robots.txt", "robots", "not_html", headers=[("Content-Type", "text/plain")],
                body=b"User-agent: *\nDisallow: /admin/\n", identified_type="text/plain"),
        Capture(f"{base}/logo.png", "image", "not_html", headers=[("Content-Type", "image/png")],
                body=b"\x89PNG\r\n\x1a\n" + _bytes(rng, 300), identified_type="image/png"),
        Capture(f"{base}/report.pdf", "pdf", "not_html", headers=[("Content-Type", "application/pdf")],
                body=b"%PDF-1.4\n" + _bytes(rng, 500), identified_type="application/pdf"),
        Capture(f"{base}/api/items.json", "json", "not_html",
                headers=[("Content-Type", "application/json")], body=b'{"items": [1, 2, 3]}',
                identified_type="application/json"),
        # A server that calls an image text/html; the identified payload type knows better.
        Capture(f"{base}/banner", "mislabeled_image", "not_html", headers=html_type,
                body=b"\x89PNG\r\n\x1a\n" + _bytes(rng, 200), identified_type="image/png"),
        # No type anywhere, and a generic type: both sniffed as HTML.
        Capture(f"{base}/untyped/{article.path.rsplit('/', 1)[1]}", "untyped_html", DOCUMENT,
                headers=[], body=page, identified_type=None),
        Capture(f"{base}/octet/{article.path.rsplit('/', 1)[1]}", "octet_stream_html", DOCUMENT,
                headers=[("Content-Type", "application/octet-stream")],
                body=render_html(make_article(rng, "en", site, 1), None, date).encode(), identified_type=None),
        # Personal data in the main text, for the PII rule: two addresses, one public IPv4 address
        # (8.8.4.4) and one documentation address that is left alone (198.51.100.77 is not public).
        Capture(f"{base}/contact.html", "contact_page", DOCUMENT, headers=html_type,
                body=render_html(replace(make_article(rng, "en", site, rng.randint(90000, 99999)), paragraphs=(
                    f"Write to the editors at desk@newsroom.{site} or to j.smith@newsroom.{site} with tips.",
                    "Our mirror answers at 8.8.4.4 and the test box at 198.51.100.77 during the day.",
                    "The office is open from nine to five on weekdays, except on public holidays.")), "utf-8", date)
                .encode("utf-8"), identified_type="text/html"),
        Capture(f"{base}/empty.html", "script_only_page", "empty_text", headers=html_type,
                body=b"<html><head><script>var a = 1;</script></head><body><script>go()</script></body></html>",
                identified_type="text/html"),
    ]
    # Payloads a crawler stored still encoded, with the original headers.
    for coding, encode in (("gzip", lambda b: gzip.compress(b, mtime=0)), ("br", brotli.compress),
                           ("deflate", zlib.compress)):
        encoded_article = make_article(rng, "en", site, rng.randint(60000, 69999))
        body = encode(render_html(encoded_article, "utf-8", date).encode("utf-8"))
        captures.append(Capture(f"{base}/enc-{coding}.html", f"content_encoding_{coding}", DOCUMENT,
                                headers=html_type + [("Content-Encoding", coding)], body=body,
                                identified_type="text/html"))
    chunked_article = render_html(make_article(rng, "en", site, rng.randint(70000, 79999)), "utf-8", date)
    raw = chunked_article.encode("utf-8")
    chunked = b"".join(f"{len(raw[i:i + 1000]):x}\r\n".encode() + raw[i:i + 1000] + b"\r\n"
                       for i in range(0, len(raw), 1000)) + b"0\r\n\r\n"
    captures += [
        Capture(f"{base}/chunked.html", "transfer_chunked", DOCUMENT,
                headers=html_type + [("Transfer-Encoding", "chunked")], body=chunked,
                identified_type="text/html"),
        Capture(f"{base}/broken-gzip.html", "corrupt_content_encoding", "content_decode_error",
                headers=html_type + [("Content-Encoding", "gzip")],
                body=b"\x1f\x8b\x08\x00\x00\x00\x00\x00" + _bytes(rng, 400), identified_type="text/html"),
        Capture(f"dns:{site}", "dns", "non_http_response", warc_type="response",
                headers=[], body=f"20250314000000\n{site}.\t300\tIN\tA\t192.0.2.{rng.randint(1, 254)}\n".encode()),
        Capture(f"{base}/garbled", "garbled_http_head", "invalid_http_head", headers=html_type,
                raw_block=b"HTPT/1.1 2OO OK\r\nContent-Type: text/html\r\n\r\n<html><p>lost</p></html>"),
        # A page the crawler cut at its payload limit, as Common Crawl does at 1 MiB: complete bytes
        # in the file, a partial page.
        Capture(f"{base}/long-read.html", "cut_by_crawler", "warc_truncated", headers=html_type,
                body=render_html(make_article(rng, "en", site, rng.randint(80000, 89999)), "utf-8", date)
                .encode("utf-8")[:3000], identified_type="text/html", warc_headers=[("WARC-Truncated", "length")]),
        Capture(f"{base}/", "revisit", "record_type_revisit", warc_type="revisit", headers=html_type, body=b""),
    ]
    return captures


def near_duplicate_capture(rng: random.Random, original: Article, charset: str, declared: str,
                           date: str) -> Capture:
    copy = near_duplicate(rng, original, original.path.replace(".html", "-updated.html"))
    return article_capture(copy, charset, declared, date, kind="near_duplicate")
