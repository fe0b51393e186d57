"""Deduplication: exact, by URL, and near-duplicate (MinHash LSH), each keeping one survivor.

Rules: ``normalize`` (what makes two texts or two URLs the same), ``survivor`` (which copy
survives), ``minhash`` and ``codepoint_classes`` (signatures and bands), ``clusters`` (near dedup's label
rounds, verdicts and packed documents), ``cross_crawl`` and ``seen_before``. Beam: ``stage.ExactDedup``,
``stage.DedupByUrl``, ``stage.NearDedup``.
"""
