"""The few errors a user sees, each named for what the user must fix."""


class WarcforgeError(Exception):
    """Base class: the run stops before or after the pipeline with this message, exit status 2."""


class RecipeError(WarcforgeError):
    """The recipe file is missing, is not YAML, or has an unknown key, wrong type or bad value."""


class MissingInputError(WarcforgeError):
    """An input path, glob or URL names no file."""


class NotAnArchiveError(WarcforgeError):
    """An input file is not a WARC, WET or ARC file at all (empty, text, another format)."""


class OutputExistsError(WarcforgeError):
    """The output directory already holds files and the run was not told to replace them."""


class OutputBusyError(WarcforgeError):
    """Another build holds the output's lease: it is writing there now."""


class LeaseLostError(WarcforgeError):
    """This build's lease on its output expired and another build took it: nothing is published."""


class ShardUnavailable(WarcforgeError):
    """A file could not be read to its end: missing, or still failing after its retries."""

    def __init__(self, url: str, reason: str, offset: int) -> None:
        super().__init__(f"{url}: {reason} (at byte {offset})")
        self.url, self.reason, self.offset = url, reason, offset
