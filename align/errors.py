"""One small hierarchy of typed errors.

Library code raises these; only the CLI modules turn them into a one-line
message and an exit code (1 for bad input, 2 for usage), never a traceback.
"""


class ToolkitError(Exception):
    """Base class: anything the user can fix by changing input or options."""

    exit_code = 1


class InputError(ToolkitError):
    """A document or data file cannot be used (missing, empty, binary, undecodable...)."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class OutputError(ToolkitError, OSError):
    """An output file or folder cannot be written (no permission, not a folder, disk full...);
    the message names the user's path, never a temporary file. Still an OSError, so
    library callers that caught write failures as OSError keep working."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ModelError(ToolkitError):
    """A model cannot be loaded (not cached offline, wrong kind, bad directory)."""


class FormatError(ToolkitError):
    """A file in an alignment/bitext format cannot be parsed."""


class UsageError(ToolkitError):
    """Options that do not fit together."""

    exit_code = 2
