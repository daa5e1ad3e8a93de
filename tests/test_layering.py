"""The layering of docs/architecture.md, checked on the source: lower layers never import higher.

Plugins (``kframe_plugins``) and contrib packages may use kframe's public modules only, and never
each other; kframe never imports them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# What each kframe package may import from kframe (besides itself and kframe._version).
_BASE = {"kframe.api", "kframe.registry"}
_COMPONENT = _BASE | {"kframe.client"}
ALLOWED: dict[str, set[str]] = {
    "kframe.api": set(),
    "kframe.registry": set(),
    "kframe.store": _BASE,
    "kframe.apiserver": _BASE | {"kframe.store"},
    "kframe.client": _BASE | {"kframe.store", "kframe.apiserver"},
    "kframe.scheduler": _COMPONENT,
    "kframe.controller": _COMPONENT,
    "kframe.runtime": _BASE,
    "kframe.kubelet": _COMPONENT | {"kframe.runtime"},
    "kframe.proxy": _COMPONENT,
    "kframe.dns": _COMPONENT,
    # The cloud controllers run on the controller framework, as upstream's on
    # k8s.io/controller-manager.
    "kframe.cloud": _COMPONENT | {"kframe.controller"},
    "kframe.cluster": {"*"},
    "kframe.cli": {"*"},
    "kframe.bench": {"*"},
    "kframe.testing": {"*"},
}


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] == "plugins":
        parts[0] = "kframe_plugins"
    return ".".join(parts)


@pytest.mark.parametrize("path", _sources("kframe"), ids=lambda p: str(p.relative_to(ROOT)))
def test_kframe_respects_layers(path: Path) -> None:
    own = _package(_module_name(path))
    allowed = ALLOWED.get(own)
    if own == "kframe.__init__" or own.startswith("kframe._") or own == "kframe.__main__":
        allowed = {"*"} if own == "kframe.__main__" else set()
    assert allowed is not None, f"{own} is not in the layer table of this test"
    for line, name in _imports(path):
        assert not name.startswith(("kframe_plugins", "plugins", "contrib")), (
            f"{path.name}:{line} kframe must not import plugins: {name}"
        )
        top = name.split(".")[0]
        assert not (top.startswith("kframe_") and top != "kframe_plugins"), (
            f"{path.name}:{line} kframe must not import contrib packages: {name}"
        )
        if not name.startswith("kframe.") or "*" in allowed:
            continue
        target = _package(name)
        if target in (own, "kframe._version"):
            continue
        assert target in allowed, f"{path.relative_to(ROOT)}:{line}: {own} imports {target}"


PLUGIN_SOURCES = _sources("plugins") + _sources("contrib")


@pytest.mark.parametrize("path", PLUGIN_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_plugins_use_public_kframe_only_and_not_each_other(path: Path) -> None:
    rel = path.relative_to(ROOT).parts
    # plugins/<family>/<plugin>/... ; contrib/<package>/...
    home = rel[:3] if rel[0] == "plugins" else rel[:2]
    for line, name in _imports(path):
        if name.startswith("kframe."):
            private = [p for p in name.split(".")[1:] if p.startswith("_")]
            assert not private, f"{path.relative_to(ROOT)}:{line} imports private {name}"
        if name.startswith("kframe_plugins."):
            target = ("plugins", *name.split(".")[1:3])
            assert tuple(target[: len(home)]) == home, (
                f"{path.relative_to(ROOT)}:{line} imports another plugin: {name}"
            )
