"""An output directory as a build uses it: leased, repaired, checked, staged into, published.

``OutputDir.open`` does everything a build needs before any work: it takes the output's lease
(``lease``), finishes or undoes what a killed build left (``Publisher.recover``, stale staging
folders), and checks that publishing here loses nothing: a directory that is neither empty nor
a warcforge dataset is refused, a dataset is replaced only with ``overwrite``, and files in the
dataset's folders that its manifest does not list are refused by name. Entries that are not
warcforge's (``NOTES.md``, ``analysis/``) are never deleted: they stay beside the new dataset.
"""

import errno
import json
import logging
import posixpath
import uuid
from dataclasses import dataclass, field

import fsspec

from transforms.common.atomic_files import (
    TEMPORARY_PREFIX,
    has_atomic_create,
    remove_file,
    remove_tree,
    replace_atomically,
)
from transforms.common.errors import OutputExistsError, WarcforgeError
from transforms.common.fs_urls import is_local_fs, url_of
from transforms.writing.lease import Holder, Lease, LeaseKeeper, lease_number
from transforms.writing.publish import (
    DATASET_DIRS,
    JOURNAL,
    MANIFEST,
    SIDE_FILES,
    Publisher,
    dumps_json,
    is_manifest,
    listed_files,
)

STAGING_PREFIX = ".warcforge-staging-"
STAGING_MARKER = ".warcforge-staging.json"
log = logging.getLogger("warcforge.publish")


class OutputPathError(WarcforgeError):
    """The output path cannot be a directory warcforge writes: under a file, or not writable."""


@dataclass
class Survey:
    """What an output directory holds, sorted by whose it is."""

    manifest: dict | None = None
    foreign: list[str] = field(default_factory=list)  # not warcforge's: left alone
    in_the_way: list[str] = field(default_factory=list)  # not listed, inside the dataset's folders


class OutputDir:
    def __init__(self, url: str) -> None:
        self.fs, path = fsspec.core.url_to_fs(url)
        self.path = path.rstrip("/") or "/"
        self.url = url
        self.publisher = Publisher(self.fs, self.path)

    def _name(self, entry: str) -> str:
        return posixpath.relpath(entry.rstrip("/"), self.path) if self.path != "/" else entry.lstrip("/")

    def survey(self) -> Survey:
        survey = Survey()
        try:
            entries = sorted(self.fs.ls(self.path, detail=False))
        except FileNotFoundError:
            return survey
        except NotADirectoryError:
            raise OutputPathError(f"output {self.url} is a file, not a directory") from None
        manifest_data, side_files = None, []
        for entry in entries:
            name = self._name(entry)
            if name == MANIFEST:
                manifest_data = self.fs.cat_file(entry)
            elif name in SIDE_FILES:
                side_files.append(name)
            elif name not in DATASET_DIRS and not _is_warcforge_entry(name):
                survey.foreign.append(name)
        if manifest_data is not None:
            try:
                survey.manifest = json.loads(manifest_data)
            except ValueError:
                survey.manifest = None
            if not is_manifest(survey.manifest):
                raise OutputExistsError(f"output {self.url} holds a {MANIFEST} that is not a warcforge manifest, "
                                        "so it is not a warcforge output; refusing to write there")
        else:
            survey.foreign = sorted(survey.foreign + side_files)  # a side file without a manifest is not ours
        listed = set(listed_files(survey.manifest)) if survey.manifest else set()
        for name in DATASET_DIRS:
            for found in sorted(self.fs.find(posixpath.join(self.path, name))):
                if self._name(found) not in listed:
                    survey.in_the_way.append(self._name(found))
        return survey

    def open(self, overwrite: bool, holder: Holder) -> "BuildSession":
        """Lease, repair and check the output before any work; refuses with the entries named."""
        self.fs.invalidate_cache(self.path)  # what other builds did is not in this process's listing cache
        if not has_atomic_create(self.fs):
            log.warning("output %s: this store has no exclusive create, so two builds started at the same "
                        "moment could both take its lease; run one build at a time there", self.url)
        created = self._make_directory()
        try:
            lease = Lease.acquire(self.fs, self.path, holder, self.url)
        except OSError as exc:
            if not _is_refused_write(exc):
                raise
            self._remove_if_empty(created)
            raise OutputPathError(f"output {self.url} is not writable: {exc.strerror or exc}") from None
        try:
            repaired = [self.publisher.recover(), self._remove_debris()]
            survey = self.survey()
            self._check(survey, overwrite)
        except BaseException:
            lease.release()
            self._remove_if_empty(created)
            raise
        return BuildSession(self, lease, survey, created, [r for r in repaired if r])

    def _make_directory(self) -> bool:
        """Make the output directory if it is missing; True if this build made it."""
        try:
            if self.fs.isfile(self.path):
                raise OutputPathError(f"output {self.url} is a file, not a directory")
            if not is_local_fs(self.fs) or self.fs.isdir(self.path):
                return False  # an object store has no directories to make: the lease's object makes it
            self.fs.makedirs(self.path, exist_ok=True)
            return True
        except (NotADirectoryError, FileExistsError):
            raise OutputPathError(f"output {self.url}: a part of this path is a file, not a directory") from None
        except OSError as exc:
            if not _is_refused_write(exc):
                raise
            raise OutputPathError(f"output {self.url} cannot be created: {exc.strerror or exc}") from None

    def _check(self, survey: Survey, overwrite: bool) -> None:
        if survey.manifest is None:
            stray = survey.foreign + survey.in_the_way
            if stray:
                raise OutputExistsError(
                    f"output {self.url} is not empty and holds no warcforge dataset ({_some(stray)}); "
                    "choose an empty or new directory")
            return
        if not overwrite:
            raise OutputExistsError(
                f"output {self.url} already holds a warcforge dataset ({survey.manifest.get('documents', '?')} "
                "documents); pass --overwrite to replace it, or choose another --output")
        if survey.in_the_way:
            raise OutputExistsError(
                f"output {self.url}: files in the dataset's folders that its manifest does not list "
                f"({_some(survey.in_the_way)}); move them away, they would be mixed with the new dataset")

    def _remove_debris(self) -> str | None:
        """Staging folders and temporary files of killed builds: warcforge's own, marked as such."""
        removed = 0
        for entry in self.fs.ls(self.path, detail=False):
            name = self._name(entry)
            if name.startswith(STAGING_PREFIX) and self._is_marked_staging(entry):
                remove_tree(self.fs, entry)
                removed += 1
            elif name.startswith(TEMPORARY_PREFIX):
                remove_file(self.fs, entry)
                removed += 1
        return f"removed {removed} leftovers of interrupted runs" if removed else None

    def _is_marked_staging(self, entry: str) -> bool:
        if self.fs.exists(posixpath.join(entry, STAGING_MARKER)):
            return True
        try:  # killed between making the folder and marking it: empty, or only the marker's temporary file
            return all(posixpath.basename(inner.rstrip("/")).startswith(TEMPORARY_PREFIX)
                       for inner in self.fs.ls(entry, detail=False))
        except FileNotFoundError:
            return False

    def _remove_if_empty(self, created: bool) -> None:
        if not created:
            return
        try:
            if not self.fs.ls(self.path, detail=False):
                self.fs.rmdir(self.path)
        except (FileNotFoundError, OSError):
            pass


class BuildSession:
    """One build's hold on its output: staging folders, the publish, and the lease until ``close``."""

    def __init__(self, output: OutputDir, lease: Lease, survey: Survey, created: bool, repaired: list[str]) -> None:
        self.output, self.lease, self.survey, self.created, self.repaired = output, lease, survey, created, repaired
        self.keeper = LeaseKeeper(lease).__enter__()
        self.published = False

    def __enter__(self) -> "BuildSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def new_staging(self) -> str:
        """A fresh staging folder's URL, marked as warcforge's so a later run may clean it up."""
        staging = posixpath.join(self.output.path, f"{STAGING_PREFIX}{uuid.uuid4().hex}")
        self.output.fs.makedirs(staging, exist_ok=True)
        marker = {"run_id": self.lease.holder.run_id, "holder": self.lease.holder.describe()}
        replace_atomically(self.output.fs, posixpath.join(staging, STAGING_MARKER), dumps_json(marker))
        return url_of(self.output.fs, staging)

    def discard(self, staging: str) -> None:
        """Remove a run that will not be published. Once its publish has begun, the journal decides:
        the publish is undone, or, if it was committed, finished."""
        _, path = fsspec.core.url_to_fs(staging)
        journal = self.output.publisher.read_journal()
        if journal is not None and journal["staging"] == posixpath.basename(path.rstrip("/")):
            self.output.publisher.recover()
            return
        remove_tree(self.output.fs, path)

    def publish(self, staging: str, manifest: dict, side_files: dict[str, bytes]) -> None:
        unknown = set(side_files) - set(SIDE_FILES)
        if unknown:
            raise ValueError(f"not a side file of the layout: {sorted(unknown)}")
        self.keeper.check()  # a build whose lease was taken over publishes nothing
        _, path = fsspec.core.url_to_fs(staging)
        # Checked again just before the commit: the moves may have taken a while.
        self.output.publisher.publish(path, manifest, side_files, before_commit=self.keeper.check)
        self.published = True

    def close(self) -> None:
        self.keeper.__exit__(None, None, None)
        try:
            self.lease.release()
        except Exception as exc:  # noqa: BLE001 - a lease left behind expires; the build's outcome stands
            log.warning("could not release the lease on %s (%s); it expires by itself", self.output.url, exc)
        self.output._remove_if_empty(self.created)


def _is_refused_write(exc: OSError) -> bool:
    return isinstance(exc, PermissionError) or exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM)


def _is_warcforge_entry(name: str) -> bool:
    return name == JOURNAL or lease_number(name) is not None or name.startswith((STAGING_PREFIX, TEMPORARY_PREFIX))


def _some(names: list[str], shown: int = 5) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more
