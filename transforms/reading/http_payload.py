"""Undo HTTP encodings that a crawler stored without decoding.

Common Crawl stores payloads decoded and renames the headers (``X-Crawler-Content-Encoding``),
but other crawlers keep ``Content-Encoding: gzip`` and the compressed bytes, and some keep the
chunked transfer framing. A header that claims an encoding the bytes do not carry (already
decoded by the crawler) is ignored rather than treated as an error.
"""

import zlib

import brotli


class ContentDecodeError(ValueError):
    """The payload claims an encoding and carries its signature, but does not decode."""


class DecodedTooLarge(ValueError):
    """Decoding would exceed the allowed payload size (a decompression bomb, or a huge page)."""


_GZIP_MAGIC = b"\x1f\x8b"


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    decoder = zlib.decompressobj(wbits)
    out = decoder.decompress(data, limit + 1)
    if len(out) > limit:
        raise DecodedTooLarge(f"decoded payload exceeds {limit} bytes")
    if not decoder.eof:
        raise ContentDecodeError("compressed stream ends before its end marker")
    return out


def _gunzip(data: bytes, limit: int) -> bytes:
    if not data.startswith(_GZIP_MAGIC):
        return data  # stored already decoded
    try:
        return _inflate(data, 31, limit)
    except zlib.error as exc:
        raise ContentDecodeError(f"gzip: {exc}") from exc


def _deflate(data: bytes, limit: int) -> bytes:
    # "deflate" means a zlib stream by the RFC, raw deflate in practice for some servers.
    for wbits in (15, -15):
        try:
            return _inflate(data, wbits, limit)
        except (zlib.error, ContentDecodeError):
            continue
    if data[:1] == b"<" or data[:3] == b"\xef\xbb\xbf":
        return data  # stored already decoded
    raise ContentDecodeError("deflate: neither a zlib nor a raw deflate stream")


def _unbrotli(data: bytes, limit: int) -> bytes:
    decoder = brotli.Decompressor()
    try:
        out = decoder.process(data)
    except brotli.error as exc:
        if data[:1] == b"<":
            return data  # stored already decoded
        raise ContentDecodeError(f"br: {exc}") from exc
    if len(out) > limit:
        raise DecodedTooLarge(f"decoded payload exceeds {limit} bytes")
    if not decoder.is_finished():
        raise ContentDecodeError("br: stream ends before its end marker")
    return out


_DECODERS = {"gzip": _gunzip, "x-gzip": _gunzip, "deflate": _deflate, "br": _unbrotli}


def decode_content_encoding(payload: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Apply the inverse of each listed Content-Encoding, last applied first.

    Unknown codings (and ``identity``) are left as they are: the HTML check downstream decides
    whether the bytes are usable.
    """
    if not content_encoding:
        return payload
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        decoder = _DECODERS.get(coding)
        if decoder is not None:
            payload = decoder(payload, limit)
    return payload


def decode_chunked(payload: bytes) -> bytes:
    """Remove chunked transfer framing; returns the payload unchanged if it is not chunked."""
    out = bytearray()
    pos = 0
    while True:
        line_end = payload.find(b"\r\n", pos)
        if line_end < 0:
            return payload
        size_field = payload[pos:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            return payload
        if size == 0:
            return bytes(out)
        start = line_end + 2
        end = start + size
        if end > len(payload):
            return payload
        out += payload[start:end]
        pos = end + 2 if payload[end : end + 2] == b"\r\n" else end
