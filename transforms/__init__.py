"""warcforge's pipeline stages, one package each, in the order data flows.

``reading`` → ``extraction`` → ``filters`` → ``dedup`` → ``writing``, with ``common`` holding the
vocabulary they share (records, reasons, counters, ids, errors). In every package the Beam code
is in ``stage.py`` (PTransforms and DoFns); every other module is a rule module that never
imports Beam. The stages do not import each other: what travels between them is defined in
``common``. ``pyproject.toml``'s import-linter contracts check both, in ``make test``.
"""
