"""The interface of a ``kframe`` sub-command, built-in or registered by a plugin."""

from __future__ import annotations

import argparse
from typing import Protocol, runtime_checkable

__all__ = ["Command", "CommandError"]


class CommandError(Exception):
    """A user-facing failure: printed as one line, and the command exits non-zero."""

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@runtime_checkable
class Command(Protocol):
    """A sub-command: ``kframe <name> ...``.

    Registered through the ``kframe_cli_commands`` hook as ``{name: factory}``, where the
    factory takes no arguments and returns a Command.
    """

    #: One line for ``kframe --help``.
    help: str

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the command's arguments to its own sub-parser."""

    def run(self, args: argparse.Namespace) -> int:
        """Run with the parsed arguments; return the exit code.

        Raise :class:`CommandError` (or ``kframe.api.DecodeError``, ``OSError``) for a failure
        the user caused; the CLI prints it as one line.
        """
