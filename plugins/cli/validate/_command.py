"""The ``validate`` command: decode every document of the given files, report each problem."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from kframe.api import DecodeError, from_dict, load_yaml_documents
from kframe.cli import CommandError

_SUFFIXES = (".yaml", ".yml", ".json")


def _files(paths: list[str]) -> Iterator[Path]:
    for p in paths:
        path = Path(p)
        if path.is_dir():
            yield from sorted(f for f in path.rglob("*") if f.suffix in _SUFFIXES)
        elif p == "-" or path.exists():
            yield path
        else:
            raise CommandError(f"{p}: no such file or directory")


class ValidateCommand:
    """Decode manifests strictly or leniently and print one line per problem."""

    help = "check Kubernetes YAML/JSON manifests against kframe's models (offline)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "-f",
            "--filename",
            action="append",
            required=True,
            metavar="PATH",
            help="a manifest file, a directory (searched for .yaml/.yml/.json), or - for stdin",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="unknown fields are errors (Kubernetes' fieldValidation=Strict); "
            "otherwise they are reported as warnings",
        )

    def run(self, args: argparse.Namespace) -> int:
        problems = checked = 0
        for path in _files(args.filename):
            text = sys.stdin.read() if str(path) == "-" else path.read_text()
            try:
                docs = load_yaml_documents(text)
            except DecodeError as exc:
                print(f"{path}: {exc}")
                problems += 1
                continue
            for i, doc in enumerate(docs, 1):
                where = f"{path}" if len(docs) == 1 else f"{path} (document {i})"
                unknown: list[str] = []
                checked += 1
                try:
                    from_dict(doc, strict=args.strict, unknown=unknown)
                except DecodeError as exc:
                    problems += 1
                    for field, reason in exc.errors:
                        print(f"{where}: {field}: {reason}" if field else f"{where}: {reason}")
                    continue
                for field in unknown:
                    print(f"{where}: warning: unknown field {field!r}", file=sys.stderr)
        if problems:
            raise CommandError(f"{problems} of {checked} object(s) invalid")
        print(f"{checked} object(s) valid")
        return 0
