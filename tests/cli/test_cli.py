"""The installed ``kframe`` command: help, version, errors as one line, ``kframe plugins``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from kframe import __version__


def kframe(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("kframe") or str(
        __import__("pathlib").Path(sys.executable).with_name("kframe")
    )
    return subprocess.run(
        [exe, *args], capture_output=True, text=True, input=stdin, timeout=60, check=False
    )


def test_version() -> None:
    result = kframe("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"kframe {__version__}"


def test_help_lists_builtin_and_plugin_commands() -> None:
    result = kframe("--help")
    assert result.returncode == 0
    assert "plugins" in result.stdout and "validate" in result.stdout


def test_unknown_command_is_one_line() -> None:
    result = kframe("frobnicate")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "kframe: error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_plugins_lists_reference_plugins() -> None:
    result = kframe("plugins")
    assert result.returncode == 0
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["cli-command", "validate", "kframe"] in rows
    as_json = [json.loads(line) for line in kframe("plugins", "-o", "json").stdout.splitlines()]
    assert {"kind": "cli-command", "name": "validate", "distribution": "kframe"} in as_json


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: c\n    image: 5\n",
            "spec.containers[0].image: expected string, got int",
        ),
        ("apiVersion: v1\nkind: [\n", "invalid YAML"),
    ],
)
def test_validate_reports_bad_manifests(manifest: str, message: str) -> None:
    result = kframe("validate", "-f", "-", stdin=manifest)
    assert result.returncode == 1
    assert message in result.stdout
    assert result.stderr.strip().startswith("kframe: error:")
    assert "Traceback" not in result.stderr


def test_validate_missing_file() -> None:
    result = kframe("validate", "-f", "/nonexistent.yaml")
    assert result.returncode == 1
    assert result.stderr == "kframe: error: /nonexistent.yaml: no such file or directory\n"


def test_validate_strict_unknown_field() -> None:
    manifest = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  lables: {}\n"
    lenient = kframe("validate", "-f", "-", stdin=manifest)
    assert lenient.returncode == 0
    assert "unknown field 'metadata.lables'" in lenient.stderr
    strict = kframe("validate", "--strict", "-f", "-", stdin=manifest)
    assert strict.returncode == 1
    assert "metadata.lables: unknown field" in strict.stdout
