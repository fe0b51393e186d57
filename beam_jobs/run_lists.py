"""The lists a run leaves in its staging folder for the driver: the files written and the shards that failed.

Workers call ``write_json_lists`` at the end of the pipeline. It lives apart from ``pipeline`` so that a
worker process unpickling it imports only this (and the writing stage), not the recipe's models.
"""

import json

from transforms.writing.stage import write_bytes

FILE_LIST = "_files.json"
FAILED_SHARDS_LIST = "_failed_shards.json"


def write_json_list(items: list[dict], staging_root: str, name: str, sort_key: str) -> None:
    listing = sorted(items, key=lambda item: item[sort_key])
    write_bytes(f"{staging_root}/{name}", json.dumps(listing).encode("utf-8"))


def listed(item: object) -> tuple[str, dict]:
    """A written file (a WrittenFile) goes to ``_files.json``, a failed shard (a dict) to ``_failed_shards.json``."""
    return (FAILED_SHARDS_LIST, item) if isinstance(item, dict) else (FILE_LIST, vars(item))


def write_json_lists(pairs: list[tuple[str, dict]], staging_root: str, lists: tuple[tuple[str, str], ...]) -> None:
    """Each list of ``lists`` ((file name, sort key)) from the (file name, item) ``pairs`` for it, even empty."""
    for name, sort_key in lists:
        write_json_list([item for listed_in, item in pairs if listed_in == name], staging_root, name, sort_key)
