"""The ``kframe`` command line: built-in commands plus those plugins register.

Every failure a user can cause prints one line on stderr and exits non-zero; a traceback is shown
only for kframe's own bugs, and only with ``KFRAME_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from kframe._version import __version__
from kframe.cli._builtin import ApiserverCommand, BenchCommand, PluginsCommand, UpCommand
from kframe.cli._cloud_controller_manager import CloudControllerManagerCommand
from kframe.cli._command import Command, CommandError
from kframe.cli._controller_manager import ControllerManagerCommand
from kframe.cli._dns import DnsCommand
from kframe.cli._kubelet import KubeletCommand
from kframe.cli._proxy import ProxyCommand
from kframe.cli._scheduler import SchedulerCommand
from kframe.registry import PluginError, Registry, build_registry

__all__ = ["Command", "CommandError", "main"]

PROG = "kframe"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints a usage block; one line with a pointer to --help reads better.
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _commands(registry: Registry) -> dict[str, Command]:
    commands: dict[str, Command] = {
        "plugins": PluginsCommand(registry),
        "bench": BenchCommand(),
        "apiserver": ApiserverCommand(),
        "up": UpCommand(),
        "scheduler": SchedulerCommand(registry),
        "controller-manager": ControllerManagerCommand(registry),
        "cloud-controller-manager": CloudControllerManagerCommand(registry),
        "kubelet": KubeletCommand(registry),
        "dns": DnsCommand(),
        "proxy": ProxyCommand(registry),
    }
    for entry in registry.entries("cli-command"):
        if entry.name in commands:
            raise PluginError(
                f"cli-command {entry.name!r} from {entry.source} clashes with a built-in command"
            )
        if not callable(entry.factory):
            raise PluginError(f"cli-command {entry.name!r} from {entry.source}: not callable")
        command = entry.factory()
        if not isinstance(command, Command):
            raise PluginError(
                f"cli-command {entry.name!r} from {entry.source} does not implement "
                "kframe.cli.Command (help, configure, run)"
            )
        commands[entry.name] = command
    return commands


def _parser(commands: dict[str, Command]) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="kframe: the Kubernetes architecture as a Python framework.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, command in sorted(commands.items()):
        command.configure(sub.add_parser(name, help=command.help, description=command.help))
    return parser


def _fail(message: str, code: int = 1) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kframe`` command; returns the exit code."""
    from kframe.api import DecodeError
    from kframe.store import StoreError, StoreURLError

    try:
        commands = _commands(build_registry())
        parser = _parser(commands)
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return 2
        return commands[args.command].run(args)
    except CommandError as exc:
        return _fail(str(exc), exc.exit_code)
    except (PluginError, DecodeError, StoreError, StoreURLError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}")
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get("KFRAME_DEBUG"):
            traceback.print_exc()
        hint = "" if os.environ.get("KFRAME_DEBUG") else " (set KFRAME_DEBUG=1 for a traceback)"
        return _fail(f"internal error: {type(exc).__name__}: {exc}{hint}", 70)
