"""The registry: discovery through entry points, duplicate names, load failures."""

from __future__ import annotations

import importlib.metadata
import inspect
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import pytest

from kframe.registry import (
    DuplicateNameError,
    PluginLoadError,
    UnknownNameError,
    _hookspecs,
    build_registry,
    hookimpl,
)


class StorePlugin:
    def __init__(self, *names: str) -> None:
        self.names = names

    @hookimpl
    def kframe_store_backends(self) -> Mapping[str, object]:
        return {n: object() for n in self.names}


def test_reference_plugins_are_discovered_through_entry_points() -> None:
    registry = build_registry()
    entry = registry.get("cli-command", "validate")
    assert entry.distribution == "kframe"
    assert entry.plugin == "cli-validate"


def test_plugins_given_directly() -> None:
    registry = build_registry(entry_points=False, plugins=[("a", StorePlugin("x", "y"))])
    assert registry.names("store") == ["x", "y"]
    assert registry.get("store", "x").source == "plugin a"


def test_two_plugins_claiming_one_name() -> None:
    with pytest.raises(DuplicateNameError, match=r"store 'x' is registered twice: by a .* by b"):
        build_registry(
            entry_points=False, plugins=[("a", StorePlugin("x")), ("b", StorePlugin("x"))]
        )


def test_unknown_name_lists_what_exists() -> None:
    registry = build_registry(entry_points=False, plugins=[("a", StorePlugin("x"))])
    with pytest.raises(UnknownNameError, match=r"unknown store 'nope' \(available: x\)"):
        registry.get("store", "nope")


def test_implementation_of_an_unknown_hook_fails_loudly() -> None:
    class Typo:
        @hookimpl
        def kframe_store_backend(self) -> Mapping[str, object]:
            return {}

    with pytest.raises(PluginLoadError, match="typo"):
        build_registry(entry_points=False, plugins=[("typo", Typo())])


def test_hook_returning_the_wrong_shape() -> None:
    class Wrong:
        @hookimpl
        def kframe_controllers(self) -> Any:
            return ["deployment"]

    with pytest.raises(PluginLoadError, match="must return a dict of name -> factory, got list"):
        build_registry(entry_points=False, plugins=[("wrong", Wrong())])


def test_hook_that_raises() -> None:
    class Broken:
        @hookimpl
        def kframe_controllers(self) -> Mapping[str, object]:
            raise RuntimeError("boom")

    with pytest.raises(
        PluginLoadError, match="'broken' failed in kframe_controllers: RuntimeError: boom"
    ):
        build_registry(entry_points=False, plugins=[("broken", Broken())])


def test_entry_point_that_fails_to_import(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = importlib.metadata.EntryPoint(name="bad", value="kframe_no_such_module", group="kframe")
    object.__setattr__(bad, "dist", SimpleNamespace(name="bad-dist"))
    monkeypatch.setattr(
        importlib.metadata, "entry_points", lambda group: [bad] if group == "kframe" else []
    )
    with pytest.raises(
        PluginLoadError,
        match="plugin 'bad' from bad-dist failed to load "
        r"\(kframe_no_such_module\): ModuleNotFoundError",
    ):
        build_registry()


def test_every_hook_is_documented() -> None:
    hooks = [
        (name, fn)
        for name, fn in inspect.getmembers(_hookspecs, inspect.isfunction)
        if name.startswith("kframe_")
    ]
    assert len(hooks) == 8
    for name, fn in hooks:
        doc = inspect.getdoc(fn) or ""
        assert "Called" in doc and "Return" in doc, f"{name} lacks when-called/return docs"
