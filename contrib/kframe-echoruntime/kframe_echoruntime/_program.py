"""What a container of the echo runtime does: its command line read as a tiny script.

:func:`parse_program` turns a container's ``command`` + ``args`` into a :class:`Program`, a
timeline the runtime replays against its clock instead of running anything:

- ``echo WORDS`` prints a line; ``sleep N`` (seconds, or ``1.5``, ``2m``, ``1h``, ``infinity``)
  waits; ``true`` and ``false`` set the status; ``exit N`` ends with code N;
- ``sh -c 'echo start; sleep 5; echo done'`` runs those steps in order (``;`` or ``&&``
  between simple commands, quotes as the shell reads them);
- anything else (``nginx``, no command at all) is a server: it runs until stopped.

The script ends with the status of its last step, as a shell's does.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Sequence

import attrs

from kframe.runtime import InvalidArgumentError

__all__ = ["Line", "Program", "parse_program", "parse_sleep"]

_SLEEP = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$")
_SLEEP_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SEPARATORS = (";", "&&")


@attrs.frozen
class Line:
    """One line of output, ``at`` seconds after the start."""

    at: float
    text: str


@attrs.frozen(kw_only=True)
class Program:
    """Output lines in time order, and when (``ends_at``, None: never) and how it exits."""

    lines: tuple[Line, ...] = ()
    ends_at: float | None = None
    exit_code: int = 0

    def output_until(self, elapsed: float) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if line.at <= elapsed)


def parse_sleep(word: str) -> float:
    """busybox ``sleep``'s argument in seconds (``inf`` for ``infinity``)."""
    if word in ("infinity", "inf"):
        return float("inf")
    match = _SLEEP.match(word)
    if match is None:
        raise InvalidArgumentError(f"echo runtime: sleep: invalid number {word!r}")
    return float(match.group(1)) * _SLEEP_UNITS[match.group(2)]


def _steps(argv: Sequence[str]) -> list[tuple[str, list[str]]] | None:
    """``(separator before, simple command)`` pairs of ``argv``; None for no command at all."""
    if len(argv) >= 3 and os.path.basename(argv[0]) in ("sh", "bash", "ash") and argv[1] == "-c":
        lexer = shlex.shlex(argv[2], posix=True, punctuation_chars=";&")
        lexer.whitespace_split = True
        steps: list[tuple[str, list[str]]] = [(";", [])]
        for token in lexer:
            if token in _SEPARATORS:
                steps.append((token, []))
            else:
                steps[-1][1].append(token)
        return [(sep, words) for sep, words in steps if words]
    return [(";", list(argv))] if argv else None


def parse_program(argv: Sequence[str]) -> Program:
    """The timeline of ``argv``; InvalidArgumentError for a ``sleep`` or ``exit`` it cannot read."""
    steps = _steps(argv)
    if steps is None:
        return Program()
    now, code = 0.0, 0
    lines: list[Line] = []
    for separator, step in steps:
        if separator == "&&" and code != 0:
            continue  # the shell skips a step after a failed one
        name, args = os.path.basename(step[0]), step[1:]
        if name == "echo":
            lines.append(Line(now, " ".join(args)))
            code = 0
        elif name == "sleep":
            now += sum(parse_sleep(a) for a in args)
            code = 0
        elif name in ("true", ":"):
            code = 0
        elif name == "false":
            code = 1
        elif name == "exit":
            try:
                code = int(args[0]) % 256 if args else code
            except ValueError:
                raise InvalidArgumentError(f"echo runtime: exit: bad code {args[0]!r}") from None
            break
        else:
            return Program(lines=tuple(lines))  # a server from here on: never exits
    if now == float("inf"):
        return Program(lines=tuple(lines))
    return Program(lines=tuple(lines), ends_at=now, exit_code=code)
