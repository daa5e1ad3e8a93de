"""The registry: discovers plugins through entry points and hands out their named factories.

Built once per process by :func:`build_registry`; later lookups are plain dictionary reads.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable
from typing import Literal, get_args

import attrs
import pluggy

from kframe.registry import _hookspecs
from kframe.registry._hookspecs import PROJECT

__all__ = [
    "DuplicateNameError",
    "Kind",
    "PluginError",
    "PluginLoadError",
    "Registration",
    "Registry",
    "UnknownNameError",
    "build_registry",
    "hookimpl",
]

hookimpl = pluggy.HookimplMarker(PROJECT)

Kind = Literal[
    "store",
    "admission-plugin",
    "scheduler-plugin",
    "controller",
    "cloud-provider",
    "runtime",
    "proxy-backend",
    "cli-command",
]

# Kind -> the hook that registers it, in the order `kframe plugins` lists them.
_HOOKS: dict[Kind, str] = {
    "store": "kframe_store_backends",
    "admission-plugin": "kframe_admission_plugins",
    "scheduler-plugin": "kframe_scheduler_plugins",
    "controller": "kframe_controllers",
    "cloud-provider": "kframe_cloud_providers",
    "runtime": "kframe_container_runtimes",
    "proxy-backend": "kframe_proxy_backends",
    "cli-command": "kframe_cli_commands",
}
assert set(_HOOKS) == set(get_args(Kind))


class PluginError(Exception):
    """Base class of registry errors; the message is one line meant for the user."""


class PluginLoadError(PluginError):
    """A plugin could not be imported, or implements a hook wrongly."""


class DuplicateNameError(PluginError):
    """Two plugins registered the same name for the same kind."""


class UnknownNameError(PluginError, LookupError):
    """No plugin registered the requested name."""


@attrs.frozen
class Registration:
    """One named factory and where it came from."""

    kind: Kind
    name: str
    factory: object
    plugin: str  #: the plugin's name: its entry point name, or the name it was registered with
    distribution: str | None  #: the installed distribution that provides it, if any

    @property
    def source(self) -> str:
        return self.distribution or f"plugin {self.plugin}"


class Registry:
    """Named factories per kind; the typed facade over kframe's pluggy hooks."""

    def __init__(self, entries: Iterable[Registration] = ()) -> None:
        self._by_kind: dict[Kind, dict[str, Registration]] = {k: {} for k in _HOOKS}
        for entry in entries:
            self._add(entry)

    def _add(self, entry: Registration) -> None:
        table = self._by_kind[entry.kind]
        if (other := table.get(entry.name)) is not None:
            raise DuplicateNameError(
                f"{entry.kind} {entry.name!r} is registered twice: by {other.plugin} "
                f"({other.source}) and by {entry.plugin} ({entry.source})"
            )
        table[entry.name] = entry

    def get(self, kind: Kind, name: str) -> Registration:
        """The registration of ``name``; UnknownNameError lists the names that exist."""
        try:
            return self._by_kind[kind][name]
        except KeyError:
            known = ", ".join(sorted(self._by_kind[kind])) or "none installed"
            raise UnknownNameError(f"unknown {kind} {name!r} (available: {known})") from None

    def names(self, kind: Kind) -> list[str]:
        return sorted(self._by_kind[kind])

    def entries(self, kind: Kind | None = None) -> list[Registration]:
        """Every registration, by kind in a fixed order, then by name."""
        kinds = [kind] if kind else list(_HOOKS)
        return [self._by_kind[k][n] for k in kinds for n in sorted(self._by_kind[k])]


def _plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(_hookspecs)
    return pm


def _load_entry_points(pm: pluggy.PluginManager) -> dict[str, str]:
    """Register every ``kframe`` entry point; returns plugin name -> distribution name."""
    dists: dict[str, str] = {}
    for ep in importlib.metadata.entry_points(group=PROJECT):
        dist = ep.dist.name if ep.dist is not None else "unknown distribution"
        if ep.name in dists:
            if pm.get_plugin(ep.name) is not None and dists[ep.name] == dist:
                continue  # the same distribution seen twice on sys.path
            raise DuplicateNameError(
                f"entry point {ep.name!r} of group {PROJECT!r} is provided by both "
                f"{dists[ep.name]} and {dist}"
            )
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginLoadError(
                f"plugin {ep.name!r} from {dist} failed to load ({ep.value}): "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        pm.register(plugin, name=ep.name)
        dists[ep.name] = dist
    return dists


def build_registry(
    *, entry_points: bool = True, plugins: Iterable[tuple[str, object]] = ()
) -> Registry:
    """Discover plugins and collect their registrations.

    ``entry_points`` loads installed plugins (group ``kframe``); ``plugins`` adds
    ``(name, plugin)`` pairs, for tests and embedding. Raises a :class:`PluginError` subclass
    with a one-line message if a plugin fails to load, implements an unknown hook, returns
    something other than a name -> factory mapping, or claims a name that is taken.
    """
    pm = _plugin_manager()
    dists = _load_entry_points(pm) if entry_points else {}
    for name, plugin in plugins:
        pm.register(plugin, name=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        where = f" from {dists[name]}" if name in dists else ""
        # pluggy's message ends with the plugin's repr; the name says it better.
        problem = str(exc).split(" in plugin ")[0]
        raise PluginLoadError(f"plugin {name!r}{where}: {problem}") from exc
    registry = Registry()
    for kind, hook_name in _HOOKS.items():
        for impl in getattr(pm.hook, hook_name).get_hookimpls():
            source = dists.get(impl.plugin_name)
            try:
                result = impl.function()
            except Exception as exc:
                raise PluginLoadError(
                    f"plugin {impl.plugin_name!r} failed in {hook_name}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            if not isinstance(result, dict) or not all(isinstance(k, str) and k for k in result):
                raise PluginLoadError(
                    f"plugin {impl.plugin_name!r}: {hook_name} must return a dict of "
                    f"name -> factory, got {type(result).__name__}"
                )
            for name, factory in result.items():
                registry._add(Registration(kind, name, factory, impl.plugin_name, source))
    return registry
