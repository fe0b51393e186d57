"""Filters: quality rules as plain functions on text, and PII replacement.

Each rule returns the reason it drops a document, or None. The reason string is the counter
name, the ``filter_reason`` value and the key in ``stats.json``. Thresholds default to the
published values (Gopher/MassiveText, C4, FineWeb); each module says where its numbers come from.
Rules: ``url_filter``, ``language``, ``gopher_repetition``, ``gopher_quality``, ``c4``,
``fineweb_quality`` (``text_units`` cuts text into words, lines and paragraphs for them),
``quality_rules`` (all of them in FineWeb's order), ``pii``. Beam: ``stage.FilterDocuments``,
``stage.RedactPii``.
"""
