"""How a file found through fsspec is named: a plain path on local disk, a full URL elsewhere.

Reading names its inputs this way and writing its outputs, so a local run's paths stay plain.
"""

import fsspec


def protocols(fs: fsspec.AbstractFileSystem) -> set[str]:
    return set(fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))


def is_local_fs(fs: fsspec.AbstractFileSystem) -> bool:
    return "file" in protocols(fs)


def url_of(fs: fsspec.AbstractFileSystem, path: str) -> str:
    """A plain absolute path for local files, a full URL for everything else."""
    return path if is_local_fs(fs) else fs.unstrip_protocol(path)
