import pytest

from transforms.reading.html_detect import charset_param, is_html, mime_type, sniffs_as_html


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, ""), ("", ""), ("text/html", "text/html"), ("Text/HTML; charset=UTF-8", "text/html"),
     (" application/xhtml+xml ;q=1", "application/xhtml+xml")],
)
def test_mime_type(value, expected):
    assert mime_type(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("text/html; charset=UTF-8", "UTF-8"), ('text/html; Charset="gb2312"', "gb2312"),
     ("text/html;charset='koi8-r'", "koi8-r"), ("text/html", None), (None, None), ("text/html; charset=", None)],
)
def test_charset_param(value, expected):
    assert charset_param(value) == expected


@pytest.mark.parametrize(
    "head",
    [b"<!DOCTYPE html><html>", b"\xef\xbb\xbf  <html lang=en>", b"\n\n<HEAD>", b"<p>hi", b"<!-- c --><div>",
     b"<title>x</title>", b"<body>", b"<br>"],
)
def test_sniffs_html(head):
    assert sniffs_as_html(head)


@pytest.mark.parametrize(
    "head", [b"", b"%PDF-1.4", b"\x89PNG\r\n", b'{"a": 1}', b"<?xml version='1.0'?><rss>", b"<brand>", b"hello <html>"]
)
def test_does_not_sniff_non_html(head):
    assert not sniffs_as_html(head)


def test_identified_payload_type_beats_the_servers_content_type():
    assert not is_html("text/html", "image/png", b"\x89PNG")
    assert is_html("application/octet-stream", "application/xhtml+xml", b"")


def test_content_type_decides_when_it_is_specific():
    assert is_html("text/html; charset=utf-8", None, b"%PDF")
    assert not is_html("application/pdf", None, b"<html>")
    assert not is_html("text/plain", "", b"<html>")


def test_sniffing_decides_when_nothing_specific_is_declared():
    assert is_html(None, None, b"<html><body>")
    assert is_html("application/octet-stream", "application/octet-stream", b"<!doctype html>")
    assert not is_html(None, None, b"GIF89a")
