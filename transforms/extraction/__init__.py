"""Extraction: pages in, documents with main-content text and stable ids out.

Rules: ``html_text`` (resiliparse, as it comes or after pruning, with charset detection),
``boilerplate`` (the blocks and headline the default extractor removes before resiliparse),
``trafilatura_text`` (the slower extractor FineWeb used), ``time_limited`` (a child process killed
when a page takes too long), ``page_text`` (the extractors by name, a page's text and the document
made from it). Beam: ``stage.ExtractText``.
"""
