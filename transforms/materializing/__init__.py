"""Materialize: documents rebuilt from the records a pointer dataset names, each checked against its pointer."""
