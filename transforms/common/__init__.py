"""The vocabulary every stage shares: the records that travel between stages (``records``), the
stage and reason names (``reasons``), ids and text hashes (``ids``), the errors a user sees
(``errors``), how files are named (``fs_urls``), and Beam counters (``stage``)."""
