"""The recipe's ``watch`` section: what ``warcforge watch`` follows, and how it batches.

A watch recipe is a build recipe whose files are not listed up front: the ``watch`` section names
where they land (``paths``: globs, folders or files on any filesystem fsspec reads) or follows
Common Crawl's news crawl (``cc_news``, read from ``input.base``). Every other section (read,
extract, filters, dedup, output) applies to each batch as it does to a build.
"""

from typing import Literal

from pydantic import Field, model_validator

from beam_jobs.recipe_filters import RecipeSection

ARCHIVE_SUFFIXES = (".gz", ".warc", ".arc", ".wet", ".wat", ".zst")


class WatchConfig(RecipeSection):
    paths: list[str] | None = Field(
        None, min_length=1,
        description="Where new WARC, WET or ARC files land: globs, folders (every file under them) or files, local "
        "or as fsspec URLs (s3://, gs://, https://...). Relative paths resolve against the recipe's folder.")
    root: str | None = Field(
        None, min_length=1,
        description="paths only: what documents' warc_path is recorded relative to (default: the folder part of "
        "the first path before any wildcard).")
    cc_news: bool = Field(
        False, description="Follow Common Crawl's news crawl (crawl-data/CC-NEWS/YYYY/MM/ under input.base): the "
        "current and the previous month's warc.paths.gz, read at every poll.")
    complete_when: Literal["stable_size", "marker"] = Field(
        "stable_size", description="When a file under paths is complete: its size was the same at two polls in a "
        "row (stable_size), or a marker file named after it exists (marker).")
    marker_suffix: str = Field(
        ".done", min_length=1, description="complete_when: marker: FILE is complete once FILE + this suffix exists.")
    poll_interval_s: float = Field(60.0, ge=0.5, le=86_400, description="Seconds between two listings.")
    batch_window_s: int = Field(
        300, ge=1, le=7 * 86_400,
        description="Width of a batch in seconds: the files found complete within one window of this width "
        "are published together, as batches/<window start>-<window end>/.")
    max_file_attempts: int = Field(
        3, ge=1, le=100, description="A file that still fails after its retries is listed in its batch's "
        "failed_files and read again at a later poll, up to this many attempts in all.")
    seen_ttl_days: float | None = Field(
        None, gt=0, description="Forget a text this many days after the batch that published it: a copy arriving "
        "later is published again. Bounds the dedup state (one entry per published text); default: never forget.")

    @model_validator(mode="after")
    def one_source(self) -> "WatchConfig":
        if (self.paths is None) == (not self.cc_news):
            raise ValueError("give exactly one of 'paths' or 'cc_news: true'")
        if self.paths is not None and not all(p.strip() for p in self.paths):
            raise ValueError("'paths' holds an empty path (it would watch the recipe's own folder)")
        if self.marker_suffix.endswith(ARCHIVE_SUFFIXES):
            raise ValueError(f"'marker_suffix' {self.marker_suffix!r} ends like an archive's name: every WARC file "
                             "would count as a marker; use a suffix such as .done")
        if self.cc_news and self.root is not None:
            raise ValueError("'root' is for 'paths': CC-NEWS files are recorded relative to input.base")
        if self.batch_window_s < self.poll_interval_s:
            raise ValueError(f"'batch_window_s' ({self.batch_window_s}) must be at least 'poll_interval_s' "
                             f"({self.poll_interval_s:g}): a batch is one or more polls")
        return self
