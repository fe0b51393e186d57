"""Extraction: pages in, documents with main-content text and stable ids out.

Rules: ``html_text`` (resiliparse, with charset detection), ``trafilatura_text`` (the slower
extractor FineWeb used), ``time_limited`` (a child process killed when a page takes too long),
``page_text`` (a page's text and the document made from it). Beam: ``stage.ExtractText``.
"""
