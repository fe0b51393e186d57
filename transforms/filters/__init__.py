"""Quality rules as plain functions on text: each returns the reason it drops a document, or None.

The reason string is the counter name, the ``filter_reason`` value and the key in ``stats.json``.
Thresholds default to the published values (Gopher/MassiveText, C4, FineWeb); each module says
where its numbers come from.
"""
