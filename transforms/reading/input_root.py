"""Where input files are recorded from: a root, and each file's path relative to it.

A document records ``warc_path``, the file it came from. Recorded as an absolute path or a full
URL, the same files in another folder (or behind another server) would give other Parquet bytes;
recorded relative to a root, they give the same bytes wherever they lie, as a crawl's files do
relative to the crawl's base. The root is the recipe's ``input.root`` or, when it has none, the
deepest folder that holds every input. Rules only, no I/O.
"""

import posixpath
import urllib.parse

from transforms.common.errors import RecipeError


def _split(location: str) -> tuple[str, str]:
    """(scheme://host, path) of a URL, ("", path) of a local path; a URL's query and fragment go
    (a presigned URL's signature is how it is read, not which file it is)."""
    if "://" not in location:
        return "", location
    parts = urllib.parse.urlsplit(location)
    return f"{parts.scheme}://{parts.netloc}", parts.path or "/"


def common_root(locations: list[str]) -> str:
    """The deepest folder that holds every location; "" when they lie on different hosts or filesystems."""
    split = [_split(location) for location in locations]
    if not split or len({prefix for prefix, _ in split}) != 1:
        return ""
    prefix = split[0][0]
    folders = [posixpath.dirname(path) for _, path in split]
    if not all(f.startswith("/") for f in folders):
        return ""
    common = posixpath.commonpath(folders)
    return prefix + ("" if prefix and common == "/" else common)  # a server's top folder is the server


def relative_name(location: str, root: str) -> str:
    """``location`` relative to ``root``; the location itself when there is no root.

    Raises RecipeError when the location does not lie under a root that was declared.
    """
    if not root:
        return location
    prefix, path = _split(location)
    root_prefix, root_path = _split(root.rstrip("/") or "/")
    inside = root_path.rstrip("/") + "/"
    if prefix != root_prefix or not path.startswith(inside):
        raise RecipeError(f"input {location} does not lie under input.root {root}")
    relative = path[len(inside):]
    # An HTTP URL's path is percent-encoded ("a%20b.warc.gz"); the name recorded is the file's own ("a b.warc.gz"),
    # as on disk, so a copy on disk and the same file behind a server give the same warc_path.
    return urllib.parse.unquote(relative) if _is_http(prefix) else relative


def _is_http(prefix: str) -> bool:
    return prefix.startswith(("http://", "https://"))


def join_root(root: str, relative: str) -> str:
    """Where a file named ``relative`` lies under ``root``: percent-encoded again under an HTTP root."""
    prefix, _ = _split(root)
    return f"{root.rstrip('/')}/{urllib.parse.quote(relative) if _is_http(prefix) else relative}"
