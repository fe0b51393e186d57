"""Filters: quality rules as plain functions on text, and PII replacement.

Each rule returns the reason it drops a document, or None. The reason string is the counter
name, the ``filter_reason`` value and the key in ``stats.json``. Thresholds default to the
published values (Gopher/MassiveText, C4, FineWeb); each module says where its numbers come from.
Rules: ``url_filter``, ``language``, and ``gopher_repetition``, ``gopher_quality``, ``c4``,
``fineweb_quality``, which decide as datatrove 0.10.1's filters of those names do; they read words as spaCy's English
tokenizer cuts them (``word_tokens``, with its table of special cases in ``token_exceptions`` and
Unicode sets in ``char_classes``), C4's sentences as spaCy's sentence splitter counts them
(``sentences``), and share punctuation sets (``text_units``). ``quality_rules`` runs them in
FineWeb's order; ``pii`` replaces addresses. Beam: ``stage.FilterDocuments``, ``stage.RedactPii``.
"""
