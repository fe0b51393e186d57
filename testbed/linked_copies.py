"""The same archive files read several times over: links to each under distinct names.

A build reads each link as a file of its own, so work grows with the copies while the bytes on disk do not:
the scaling benchmark's 4 copies of the real pages, and a test's input that must still be in work when a
signal comes.
"""

import shutil
from collections.abc import Iterable
from pathlib import Path


def linked_copies(files: Iterable[Path], copies: int, folder: Path) -> list[str]:
    """``copies`` links to each of ``files`` in ``folder`` (made anew), ``copy<N>-<name>``; their paths."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files = list(files)
    linked = []
    for copy in range(copies):
        for path in files:
            link = folder / f"copy{copy}-{path.name}"
            link.symlink_to(path.resolve())
            linked.append(str(link))
    return linked
