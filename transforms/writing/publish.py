"""Publishing a finished run into its output directory as one small transaction.

The commit point is the atomic replacement of ``manifest.json``. Data files are named by their
content (``data/part-00000-of-00004-<sha256 prefix>.parquet``), so the new run's files never
overwrite the old run's: at every instant ``manifest.json`` names a complete set of files, the
old one or the new one. The steps, each safe to be killed after:

1. a journal (``.warcforge-publish.json``) names the staging folder, the new manifest's sha256,
   the files it brings and the files of the manifest it replaces;
2. staged files move into place (a rename on local disk, a server-side copy on object stores);
3. ``manifest.json`` is replaced atomically: committed;
4. the side files (``stats.json``, ``run_info.json``, ``inputs.json``) are written from staging;
5. the old manifest's files that the new one does not list are deleted, then staging, then the
   journal.

``recover`` finishes or undoes a publish that was killed: if ``manifest.json`` is the journal's
new manifest, it completes steps 4-5; otherwise it deletes the moved files the current manifest
does not list. Only files named by a warcforge manifest or journal, and warcforge's own
staging and temporary files, are ever deleted.
"""

import hashlib
import json
import logging
import posixpath
import re
from collections.abc import Callable

import fsspec

from transforms.common.atomic_files import move_atomically, read_bytes, remove_file, remove_tree, replace_atomically
from transforms.common.errors import OutputExistsError
from transforms.common.tagged_json import dumps_json  # noqa: F401 - published JSON, for the jobs

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "warcforge-manifest/1"
JOURNAL = ".warcforge-publish.json"
JOURNAL_FORMAT = "warcforge-publish/1"
SIDE_FILES = ("stats.json", "run_info.json", "inputs.json", "README.md", "warcforge.lock", "report.html")
DATASET_DIRS = ("data", "dead_letter", "rejected", "index", "pointers", "rejected_pointers", "missing")
_STAGING_NAME = re.compile(r"^\.warcforge-staging-[0-9a-f]{32}$")
log = logging.getLogger("warcforge.publish")


def listed_files(manifest: dict) -> list[str]:
    """Every data file a manifest names, relative to the output directory."""
    return sorted(f["path"] for section in manifest.get("files", {}).values() for f in section)


def is_dataset_path(path: object) -> bool:
    """A file a warcforge dataset may hold: inside one of its folders, never above it."""
    return (isinstance(path, str) and path.split("/", 1)[0] in DATASET_DIRS and "/" in path
            and not {"..", ".", ""} & set(path.split("/")))


def is_manifest(obj: object) -> bool:
    """A warcforge manifest, checked by shape: not any JSON file that happens to be called manifest.json."""
    if not isinstance(obj, dict) or obj.get("format") != MANIFEST_FORMAT or not isinstance(obj.get("files"), dict):
        return False
    for name, section in obj["files"].items():
        if name not in DATASET_DIRS or not isinstance(section, list):
            return False
        for entry in section:
            path = entry.get("path") if isinstance(entry, dict) else None
            if not is_dataset_path(path) or not path.startswith(f"{name}/"):
                return False
    return True


def is_journal(obj: object) -> bool:
    """A journal this tool wrote: it is acted on (files deleted), so its shape is checked first."""
    return (isinstance(obj, dict) and obj.get("format") == JOURNAL_FORMAT
            and isinstance(obj.get("staging"), str) and bool(_STAGING_NAME.match(obj["staging"]))
            and isinstance(obj.get("manifest_sha256"), str)
            and all(isinstance(obj.get(key), list) and all(map(is_dataset_path, obj[key]))
                    for key in ("new_files", "old_files"))
            and isinstance(obj.get("side_files"), list) and set(obj["side_files"]) <= set(SIDE_FILES))


class Publisher:
    """Publishes staged runs into ``directory``; the caller holds the output's lease."""

    def __init__(self, fs: fsspec.AbstractFileSystem, directory: str) -> None:
        self.fs, self.directory = fs, directory

    def _at(self, relative: str) -> str:
        return posixpath.join(self.directory, relative)

    def current_manifest(self) -> dict | None:
        data = read_bytes(self.fs, self._at(MANIFEST))
        return None if data is None else json.loads(data)

    def publish(self, staging: str, manifest: dict, side_files: dict[str, bytes],
                before_commit: Callable[[], None] = lambda: None) -> None:
        """Move the run in ``staging`` (a path on this filesystem) into place, manifest last.

        ``before_commit`` runs just before the manifest is replaced (the lease is checked there).
        Once it is replaced the dataset is published: a failure while cleaning up after it is a
        warning, finished by the next build, not a failed publish.
        """
        manifest_bytes = dumps_json(manifest)
        for name, data in side_files.items():
            replace_atomically(self.fs, posixpath.join(staging, name), data)
        old = self.current_manifest()
        journal = {
            "format": JOURNAL_FORMAT,
            "staging": posixpath.basename(staging.rstrip("/")),
            "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
            "new_files": listed_files(manifest),
            "old_files": listed_files(old) if old else [],
            "side_files": sorted(side_files),
        }
        replace_atomically(self.fs, self._at(JOURNAL), dumps_json(journal))
        for relative in journal["new_files"]:
            self._move_into_place(posixpath.join(staging, relative), relative)
        before_commit()
        replace_atomically(self.fs, self._at(MANIFEST), manifest_bytes)
        try:
            self._finish(journal)
        except Exception as exc:  # noqa: BLE001 - the commit is done; the journal lets the next build finish
            log.warning("the dataset was published, but cleaning up after it failed (%s: %s); the next build into "
                        "this output finishes it", type(exc).__name__, exc)

    def _move_into_place(self, source: str, relative: str) -> None:
        target = self._at(relative)
        if self.fs.exists(target):
            # Same name, same content: the name carries the content's hash. Keep the published copy.
            if self.fs.size(target) != self.fs.size(source):
                raise OSError(f"{target} exists with other content; refusing to overwrite it")
            remove_file(self.fs, source)
            return
        move_atomically(self.fs, source, target)

    def _finish(self, journal: dict) -> None:
        """After the commit: side files, then the replaced files, staging and the journal go."""
        staging = self._at(journal["staging"])
        for name in SIDE_FILES:
            data = read_bytes(self.fs, posixpath.join(staging, name)) if name in journal["side_files"] else None
            if data is not None:
                replace_atomically(self.fs, self._at(name), data)
            elif name not in journal["side_files"]:
                remove_file(self.fs, self._at(name))  # an older run's side file this run does not write
            # (A side file of this run with no staged copy left was written before staging was removed.)
        keep = set(journal["new_files"])
        for relative in journal["old_files"]:
            if relative not in keep:
                remove_file(self.fs, self._at(relative))
        self._remove_empty_dataset_dirs()
        remove_tree(self.fs, staging)
        remove_file(self.fs, self._at(JOURNAL))

    def read_journal(self) -> dict | None:
        data = read_bytes(self.fs, self._at(JOURNAL))
        if data is None:
            return None
        try:
            journal = json.loads(data)
        except ValueError:
            journal = None
        if not is_journal(journal):
            raise OutputExistsError(f"{self._at(JOURNAL)} is not a warcforge publish journal; it is not acted on. "
                                    "Move it away if it is not yours")
        return journal

    def recover(self) -> str | None:
        """Finish or undo a publish that was killed; says which, or None when there was none."""
        journal = self.read_journal()
        if journal is None:
            return None
        current = read_bytes(self.fs, self._at(MANIFEST))
        if current is not None and hashlib.sha256(current).hexdigest() == journal["manifest_sha256"]:
            self._finish(journal)
            return "finished the publish of an interrupted run"
        listed = set(listed_files(json.loads(current))) if current is not None else set()
        for relative in journal["new_files"]:
            if relative not in listed:
                remove_file(self.fs, self._at(relative))
        self._remove_empty_dataset_dirs()
        remove_tree(self.fs, self._at(journal["staging"]))
        remove_file(self.fs, self._at(JOURNAL))
        return "undid the unfinished publish of an interrupted run"

    def _remove_empty_dataset_dirs(self) -> None:
        for name in DATASET_DIRS:
            path = self._at(name)
            try:
                if self.fs.isdir(path) and not self.fs.ls(path, detail=False):
                    self.fs.rmdir(path)
            except (FileNotFoundError, OSError):
                pass  # object stores have no empty directories to remove
