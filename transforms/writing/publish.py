"""Atomic publishing of a run's output directory.

Workers write under ``<output>/.warcforge-staging-<run id>/``. Only after the pipeline succeeded
are the files moved into place, and ``manifest.json`` is written last: an output directory with
a manifest is complete, one without is not. Replacing an earlier output removes its manifest
first, so an old manifest never describes new files.
"""

import json
import posixpath
import uuid

import fsspec

from transforms.common.errors import OutputExistsError
from transforms.common.fs_urls import url_of

STAGING_PREFIX = ".warcforge-staging-"
MANIFEST = "manifest.json"


def dumps_json(obj: object) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


class OutputDir:
    def __init__(self, url: str) -> None:
        self.fs, path = fsspec.core.url_to_fs(url)
        self.path = path.rstrip("/") or "/"
        self.url = url

    def _entries(self) -> list[str]:
        if not self.fs.exists(self.path):
            return []
        return sorted(self.fs.ls(self.path, detail=False))

    def _published_entries(self) -> list[str]:
        return [e for e in self._entries() if not posixpath.basename(e.rstrip("/")).startswith(STAGING_PREFIX)]

    def check_writable(self, overwrite: bool) -> None:
        """Fail before any work if publishing would have to mix with, or wrongly delete, files."""
        existing = self._published_entries()
        if not existing:
            return
        names = ", ".join(posixpath.basename(e.rstrip("/")) for e in existing[:5])
        if not overwrite:
            raise OutputExistsError(
                f"output directory {self.url} is not empty ({len(existing)} entries: {names}); "
                "pass --overwrite to replace it, or choose another --output"
            )
        if not self.fs.exists(posixpath.join(self.path, MANIFEST)):
            raise OutputExistsError(
                f"output directory {self.url} holds files but no {MANIFEST}, so it is not a warcforge "
                f"output ({names}); refusing to delete it even with --overwrite"
            )

    def _staging_path(self) -> str:
        return posixpath.join(self.path, f"{STAGING_PREFIX}{uuid.uuid4().hex}")

    def staging_url(self) -> str:
        """A fresh staging directory's URL, not yet created."""
        return url_of(self.fs, self._staging_path())

    def new_staging(self) -> str:
        staging = self._staging_path()
        self.fs.makedirs(staging, exist_ok=True)
        return url_of(self.fs, staging)

    def discard(self, staging: str) -> None:
        _, path = fsspec.core.url_to_fs(staging)
        self._remove(path)

    def _remove(self, path: str) -> None:
        # Object stores have no directories: a "directory" whose objects were all moved is gone.
        try:
            self.fs.rm(path, recursive=True)
        except FileNotFoundError:
            pass

    def publish(self, staging: str, relative_files: list[str], side_files: dict[str, object],
                manifest: object, overwrite: bool) -> None:
        """Move staged files into place, write ``side_files`` (name -> JSON), then the manifest."""
        self.check_writable(overwrite)
        _, staging_path = fsspec.core.url_to_fs(staging)
        manifest_path = posixpath.join(self.path, MANIFEST)
        if self.fs.exists(manifest_path):
            self.fs.rm(manifest_path)
        for entry in self._entries():
            if entry.rstrip("/") != staging_path.rstrip("/"):
                self._remove(entry)
        for relative in relative_files:
            target = posixpath.join(self.path, relative)
            self.fs.makedirs(posixpath.dirname(target), exist_ok=True)
            self.fs.mv(posixpath.join(staging_path, relative), target)
        for name, obj in side_files.items():
            self.fs.pipe_file(posixpath.join(self.path, name), dumps_json(obj))
        self.fs.pipe_file(manifest_path, dumps_json(manifest))
        self._remove(staging_path)
