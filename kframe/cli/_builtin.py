"""Commands that belong to kframe itself rather than to a plugin."""

from __future__ import annotations

import argparse
import json

from kframe.bench import TARGETS
from kframe.registry import Registry

__all__ = ["BenchCommand", "PluginsCommand"]


class PluginsCommand:
    """``kframe plugins``: what is installed, and which distribution provides it."""

    help = "list registered plugin implementations: kind, name, providing distribution"

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "-o",
            "--output",
            choices=("text", "json"),
            default="text",
            help="text: aligned columns (default); json: one object per line",
        )

    def run(self, args: argparse.Namespace) -> int:
        rows = [
            (e.kind, e.name, e.distribution or f"(registered as {e.plugin})")
            for e in self._registry.entries()
        ]
        if args.output == "json":
            for kind, name, dist in rows:
                print(json.dumps({"kind": kind, "name": name, "distribution": dist}))
            return 0
        widths = [max((len(r[i]) for r in rows), default=0) for i in range(2)]
        for kind, name, dist in rows:
            print(f"{kind:<{widths[0]}}  {name:<{widths[1]}}  {dist}")
        return 0


class BenchCommand:
    """``kframe bench <target>``: benchmarks printing one JSON object per result on stdout."""

    help = "run a benchmark; prints one JSON object per result (see docs/benchmarks.md)"

    def __init__(self) -> None:
        self._targets = {name: factory() for name, factory in TARGETS.items()}

    def configure(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="target", metavar="TARGET", required=True)
        for name, target in sorted(self._targets.items()):
            target.configure(sub.add_parser(name, help=target.help, description=target.help))

    def run(self, args: argparse.Namespace) -> int:
        return self._targets[args.target].run(args)
