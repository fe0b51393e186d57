"""The two writes an output transaction is built from, on local disk and on object stores.

- ``create_exclusive``: write a new file only if nothing is there, atomically: one of two
  writers racing for the same name wins and the other gets ``FileExistsError``. Local disk
  writes the bytes aside and hard-links them into place (``link`` fails if the name exists);
  S3 uses a conditional PUT (``If-None-Match: *``) and GCS a generation precondition
  (``ifGenerationMatch=0``), both through fsspec's ``mode="create"``.
- ``replace_atomically``: a reader sees the old bytes or the new, never a mix or nothing. Local
  disk writes a temporary file (``.warcforge-tmp-*``) in the target's folder and renames it over
  the target; an object store's PUT replaces a whole object at once.

Other fsspec filesystems fall back to fsspec's own ``mode="create"`` (check-then-write, not
atomic) and to a plain write; the README says which stores are safe for concurrent builds.
"""

import os
import posixpath
import uuid

import fsspec

from transforms.common.fs_urls import is_local_fs, protocols

# Stores whose fsspec implementation makes mode="create" a server-side precondition.
_CONDITIONAL_PROTOCOLS = {"s3", "s3a", "gs", "gcs"}


def has_atomic_create(fs: fsspec.AbstractFileSystem) -> bool:
    return is_local_fs(fs) or bool(protocols(fs) & _CONDITIONAL_PROTOCOLS)


def create_exclusive(fs: fsspec.AbstractFileSystem, path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` only if no file is there; raises ``FileExistsError`` otherwise."""
    if is_local_fs(fs):
        _link_exclusive(path, data)
        _sync_directory(posixpath.dirname(path))
        return
    fs.pipe_file(path, data, mode="create")


def replace_atomically(fs: fsspec.AbstractFileSystem, path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader never sees a partial file."""
    if is_local_fs(fs):
        os.replace(_write_temporary(path, data), path)
        _sync_directory(posixpath.dirname(path))
        return
    fs.pipe_file(path, data)


def move_atomically(fs: fsspec.AbstractFileSystem, source: str, target: str) -> None:
    """Move a finished file into place: a rename on local disk, a server-side copy on object stores
    (an object appears whole), then the source is deleted. Copy and delete are the calls every store
    has: gcsfs's ``mv`` first tries GCS's newer move call, retrying for about 30 s where it is missing."""
    if is_local_fs(fs):
        os.makedirs(posixpath.dirname(target), exist_ok=True)
        os.replace(source, target)
        return
    fs.copy(source, target)
    remove_file(fs, source)


def read_bytes(fs: fsspec.AbstractFileSystem, path: str) -> bytes | None:
    """The file's bytes, or None when there is no such file."""
    try:
        return fs.cat_file(path)
    except FileNotFoundError:
        return None


def remove_file(fs: fsspec.AbstractFileSystem, path: str) -> None:
    try:
        fs.rm_file(path)
    except FileNotFoundError:
        pass


def remove_tree(fs: fsspec.AbstractFileSystem, path: str) -> None:
    # Object stores have no directories: a "directory" whose objects are all gone is gone.
    try:
        fs.rm(path, recursive=True)
    except FileNotFoundError:
        pass


TEMPORARY_PREFIX = ".warcforge-tmp-"


def _write_temporary(beside: str, data: bytes) -> str:
    temporary = posixpath.join(posixpath.dirname(beside), f"{TEMPORARY_PREFIX}{uuid.uuid4().hex}")
    with open(temporary, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    return temporary


def _link_exclusive(path: str, data: bytes, attempts: int = 5) -> None:
    # Written aside, then linked into place: link() fails if the name exists, and a reader never
    # sees the file before its bytes are complete. The build holding an output's lease removes
    # temporary files it finds there (a killed build's debris), and a build racing it for the
    # lease writes its claim's temporary file in that same folder: when the claim's temporary
    # file vanished before the link, it is written again, and the link then says who won.
    for _ in range(attempts):
        temporary = _write_temporary(path, data)
        try:
            os.link(temporary, path)
            return
        except FileNotFoundError:
            if not os.path.isdir(posixpath.dirname(path) or "."):
                raise
        finally:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
    raise OSError(f"{path}: its temporary file was removed {attempts} times before it could be linked in place")


def _sync_directory(path: str) -> None:
    # The rename is durable only once the directory entry is on disk.
    fd = os.open(path or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
