"""A profile's plugins per extension point, built from a resolved configuration profile.

Upstream NewFramework: instantiate each needed plugin once with its args, fill the per-point
lists from the explicit sets, expand ``multiPoint`` into every point a plugin implements
(explicit settings win and keep their order), check the result (one QueueSort, at least one
Bind) and take the Score weights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from kframe.api import DecodeError, from_dict

from ._config import EXTENSION_POINTS, ConfigError, PluginRef, Profile
from ._interfaces import (
    MAX_NODE_SCORE,
    BindPlugin,
    FilterPlugin,
    Handle,
    PermitPlugin,
    Plugin,
    PluginFactory,
    PostBindPlugin,
    PostFilterPlugin,
    PreBindPlugin,
    PreEnqueuePlugin,
    PreFilterPlugin,
    PreScorePlugin,
    QueueSortPlugin,
    ReservePlugin,
    ScorePlugin,
)

__all__ = ["ProfilePlugins", "build_profile_plugins", "decode_args"]

# Upstream's interface names, as its error messages say them.
_POINT_TYPES: dict[str, tuple[type, str]] = {
    "pre_enqueue": (PreEnqueuePlugin, "PreEnqueuePlugin"),
    "queue_sort": (QueueSortPlugin, "QueueSortPlugin"),
    "pre_filter": (PreFilterPlugin, "PreFilterPlugin"),
    "filter": (FilterPlugin, "FilterPlugin"),
    "post_filter": (PostFilterPlugin, "PostFilterPlugin"),
    "pre_score": (PreScorePlugin, "PreScorePlugin"),
    "score": (ScorePlugin, "ScorePlugin"),
    "reserve": (ReservePlugin, "ReservePlugin"),
    "permit": (PermitPlugin, "PermitPlugin"),
    "pre_bind": (PreBindPlugin, "PreBindPlugin"),
    "bind": (BindPlugin, "BindPlugin"),
    "post_bind": (PostBindPlugin, "PostBindPlugin"),
}

# Score weights add up to at most this (upstream MaxTotalScore, math.MaxInt64).
_MAX_TOTAL_SCORE = 2**63 - 1


@attrs.define
class ProfilePlugins:
    """Every extension point's plugins, in calling order, and each Score plugin's weight."""

    scheduler_name: str
    plugins: dict[str, Plugin]
    points: dict[str, list[Any]]
    weights: dict[str, int]


def decode_args(name: str, factory: PluginFactory, raw: Mapping[str, Any] | None) -> Any:
    """A plugin's typed args from its ``pluginConfig`` entry (defaults where there is none)."""
    if factory.args_type is None:
        return None
    if raw is None:
        return factory.args_type()
    body = {k: v for k, v in raw.items() if k not in ("apiVersion", "kind")}
    try:
        return from_dict(body, factory.args_type, strict=True)
    except DecodeError as exc:
        raise ConfigError(f"decoding args for plugin {name!r}: {exc}") from None


def _needed(profile: Profile) -> list[str]:
    names: dict[str, None] = {}
    for point in (*EXTENSION_POINTS, "multi_point"):
        for ref in getattr(profile.plugins, point).enabled:
            names[ref.name] = None
    return list(names)


def build_profile_plugins(
    profile: Profile,
    factories: Callable[[str], PluginFactory],
    handle: Handle,
) -> ProfilePlugins:
    """Instantiate a profile's plugins; ``factories(name)`` raises ConfigError if unknown."""
    config = {pc.name: pc.args for pc in profile.plugin_config}
    plugins: dict[str, Plugin] = {}
    for name in _needed(profile):
        factory = factories(name)
        args = decode_args(name, factory, config.get(name))
        try:
            plugins[name] = factory.new(args, handle)
        except ConfigError as exc:
            raise ConfigError(f"initializing plugin {name!r}: {exc}") from None
    points: dict[str, list[Any]] = {}
    for point in EXTENSION_POINTS:
        points[point] = _explicit(point, getattr(profile.plugins, point).enabled, plugins)
    _expand_multi_point(profile, plugins, points)
    if len(points["queue_sort"]) != 1:
        raise ConfigError(
            "only one queue sort plugin required for profile with scheduler name "
            f"{profile.scheduler_name!r}, but got {len(points['queue_sort'])}"
        )
    if not points["bind"]:
        raise ConfigError(
            f"at least one bind plugin is needed for profile with scheduler name "
            f"{profile.scheduler_name!r}"
        )
    weights = _score_weights(
        (*profile.plugins.score.enabled, *profile.plugins.multi_point.enabled), plugins
    )
    for plugin in points["score"]:
        if not weights.get(plugin.name):
            raise ConfigError(f"score plugin {plugin.name!r} is not configured with weight")
    return ProfilePlugins(profile.scheduler_name, plugins, points, weights)


def _explicit(point: str, refs: tuple[PluginRef, ...], plugins: dict[str, Plugin]) -> list[Any]:
    kind, type_name = _POINT_TYPES[point]
    out: list[Any] = []
    seen: set[str] = set()
    for ref in refs:
        plugin = plugins.get(ref.name)
        if plugin is None:
            raise ConfigError(f"{type_name} {ref.name!r} does not exist")
        if not isinstance(plugin, kind):
            raise ConfigError(f"plugin {ref.name!r} does not extend {type_name} plugin")
        if ref.name in seen:
            raise ConfigError(f"plugin {ref.name!r} already registered as {type_name!r}")
        seen.add(ref.name)
        out.append(plugin)
    return out


def _expand_multi_point(
    profile: Profile, plugins: dict[str, Plugin], points: dict[str, list[Any]]
) -> None:
    multi = profile.plugins.multi_point.enabled
    if not multi:
        return
    for point in EXTENSION_POINTS:
        kind, type_name = _POINT_TYPES[point]
        explicit = [p.name for p in points[point]]
        disabled = {r.name for r in getattr(profile.plugins, point).disabled}
        if "*" in disabled:
            continue
        from_multi: list[str] = []
        overridden: list[str] = []
        for ref in multi:
            plugin = plugins.get(ref.name)
            if plugin is None:
                raise ConfigError(f"{type_name} {ref.name!r} does not exist")
            if not isinstance(plugin, kind) or ref.name in disabled:
                continue
            if ref.name in explicit:
                overridden.append(ref.name)
                continue
            if ref.name in from_multi:
                raise ConfigError(f"plugin {ref.name!r} already registered as {type_name!r}")
            from_multi.append(ref.name)
        # Explicitly set plugins that multiPoint also names first, then multiPoint's own, then
        # the remaining explicit ones.
        first = [n for n in explicit if n in overridden]
        rest = [n for n in explicit if n not in overridden]
        points[point] = [plugins[n] for n in (*first, *from_multi, *rest)]


def _score_weights(refs: tuple[PluginRef, ...], plugins: dict[str, Plugin]) -> dict[str, int]:
    weights: dict[str, int] = {}
    total = 0
    for ref in refs:
        plugin = plugins.get(ref.name)
        # The explicit score set comes first, so its weight wins over multiPoint's.
        if not isinstance(plugin, ScorePlugin) or ref.name in weights:
            continue
        weights[ref.name] = ref.weight or 1  # zero is not allowed: disable the plugin instead
        if weights[ref.name] * MAX_NODE_SCORE > _MAX_TOTAL_SCORE - total:
            raise ConfigError("total score of Score plugins could overflow")
        total += weights[ref.name] * MAX_NODE_SCORE
    return weights
