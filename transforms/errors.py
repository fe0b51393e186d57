"""The few errors a user sees, each named for what the user must fix."""


class WarcforgeError(Exception):
    """Base class: the run stops before or after the pipeline with this message, exit status 2."""


class RecipeError(WarcforgeError):
    """The recipe file is missing, is not YAML, or has an unknown key, wrong type or bad value."""


class MissingInputError(WarcforgeError):
    """An input path, glob or URL names no file."""


class OutputExistsError(WarcforgeError):
    """The output directory already holds files and the run was not told to replace them."""
