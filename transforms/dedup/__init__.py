"""Deduplication: exact, by URL, and near-duplicate (MinHash LSH), each keeping one survivor.

Rules: ``normalize`` (what makes two texts or two URLs the same), ``survivor`` (which copy
survives), ``minhash`` and ``codepoint_classes`` (signatures and bands). Beam: ``stage.ExactDedup``,
``stage.DedupByUrl``, ``stage.NearDedup``.
"""
