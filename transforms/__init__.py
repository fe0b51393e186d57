"""warcforge's reusable layer: pure text and record rules, and the Beam transforms that wire them.

Rule modules import no Beam; transform modules (``read_warc``, ``extract_text``, ``dedup_exact``,
``write_shards``) wrap them in PTransforms and count what they decide.
"""
