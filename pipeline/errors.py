"""The errors a user meets: each stops a command with one line naming the key, file or folder at
fault (exit code 2). Anything else is a bug and keeps its traceback (exit code 1)."""
from __future__ import annotations


class PipelineError(Exception):
    """A problem with the configuration, the inputs or the folders, not with the code."""


class ConfigError(PipelineError, ValueError):
    """A configuration problem; the message names the offending key."""


class InputError(PipelineError):
    """An input path that does not exist or cannot be read at all (found before any work)."""


class RunError(PipelineError):
    """An I/O or setup problem that stops a run; the message names the path."""


class IndexError_(PipelineError):
    """A history index that cannot be used with this config (or is damaged)."""
