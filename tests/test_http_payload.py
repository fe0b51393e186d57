import gzip
import zlib

import brotli
import pytest

from transforms.reading.http_payload import ContentDecodeError, DecodedTooLarge, decode_chunked, decode_content_encoding

PAGE = b"<html><body>" + b"hello world " * 100 + b"</body></html>"
LIMIT = 1 << 20


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


# Named ids, and gzip without its clock: the test processes of `make test` (pytest-xdist) must collect the same
# ids, and gzip's header holds the second it was written in.
@pytest.mark.parametrize(
    ("coding", "encoded"),
    [("gzip", gzip.compress(PAGE, mtime=0)), ("x-gzip", gzip.compress(PAGE, mtime=0)), ("deflate", zlib.compress(PAGE)),
     ("deflate", raw_deflate(PAGE)), ("br", brotli.compress(PAGE)), ("GZIP", gzip.compress(PAGE, mtime=0))],
    ids=["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "br", "GZIP"],
)
def test_decodes_each_coding(coding, encoded):
    assert decode_content_encoding(encoded, coding, LIMIT) == PAGE


def test_stacked_codings_are_undone_last_first():
    encoded = brotli.compress(gzip.compress(PAGE))
    assert decode_content_encoding(encoded, "gzip, br", LIMIT) == PAGE


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_payload_stored_already_decoded_passes_through(coding):
    assert decode_content_encoding(PAGE, coding, LIMIT) == PAGE


@pytest.mark.parametrize("coding", [None, "", "identity", "compress"])
def test_no_or_unknown_coding_leaves_bytes(coding):
    assert decode_content_encoding(b"\x00\x01", coding, LIMIT) == b"\x00\x01"


def test_corrupt_gzip_is_a_decode_error():
    with pytest.raises(ContentDecodeError, match="gzip"):
        decode_content_encoding(b"\x1f\x8b\x08\x00" + b"\xff" * 50, "gzip", LIMIT)


def test_cut_off_gzip_is_a_decode_error():
    with pytest.raises(ContentDecodeError, match="end marker"):
        decode_content_encoding(gzip.compress(PAGE)[:40], "gzip", LIMIT)


def test_corrupt_deflate_and_brotli_are_decode_errors():
    with pytest.raises(ContentDecodeError, match="deflate"):
        decode_content_encoding(b"\x78\x9c\xff\xff\xff", "deflate", LIMIT)
    with pytest.raises(ContentDecodeError, match="br"):
        decode_content_encoding(b"\xff\xff\xff\xff\xff\xff", "br", LIMIT)


def test_decompression_bomb_stops_at_the_limit():
    bomb = gzip.compress(b"\0" * (4 * LIMIT))
    with pytest.raises(DecodedTooLarge):
        decode_content_encoding(bomb, "gzip", LIMIT)
    with pytest.raises(DecodedTooLarge):
        decode_content_encoding(brotli.compress(b"\0" * (4 * LIMIT)), "br", LIMIT)


def test_dechunks_chunked_framing():
    chunked = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n"
    assert decode_chunked(chunked) == b"hello, world"


@pytest.mark.parametrize("payload", [b"<html>not chunked</html>", b"5\r\nhel", b"zz\r\nhello\r\n0\r\n\r\n"])
def test_not_chunked_is_returned_unchanged(payload):
    assert decode_chunked(payload) == payload
