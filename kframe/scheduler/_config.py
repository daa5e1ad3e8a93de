"""``KubeSchedulerConfiguration`` (kubescheduler.config.k8s.io/v1) as kube-scheduler reads it.

Decoding, v1 defaulting (the default plugin set, merged with each profile's plugins as
upstream's ``mergePlugins`` does) and validation. The framework turns a resolved profile into
plugin lists in :mod:`kframe.scheduler._framework`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml

from kframe.api import DecodeError, from_dict

__all__ = [
    "API_VERSION",
    "DEFAULT_PLUGINS",
    "DEFAULT_SCHEDULER_NAME",
    "EXTENSION_POINTS",
    "ConfigError",
    "KubeSchedulerConfiguration",
    "PluginConfig",
    "PluginRef",
    "PluginSet",
    "Plugins",
    "Profile",
    "load_config",
    "parse_config",
]

API_VERSION = "kubescheduler.config.k8s.io/v1"
DEFAULT_SCHEDULER_NAME = "default-scheduler"


class ConfigError(ValueError):
    """A configuration kube-scheduler would refuse; the message is one line for the user."""


@attrs.frozen(kw_only=True)
class PluginRef:
    name: str = attrs.field(default="", metadata={"json": "name"})
    weight: int | None = attrs.field(default=None, metadata={"json": "weight"})


@attrs.frozen(kw_only=True)
class PluginSet:
    enabled: tuple[PluginRef, ...] = attrs.field(default=(), metadata={"json": "enabled"})
    disabled: tuple[PluginRef, ...] = attrs.field(default=(), metadata={"json": "disabled"})


@attrs.frozen(kw_only=True)
class Plugins:
    pre_enqueue: PluginSet = attrs.field(factory=PluginSet, metadata={"json": "preEnqueue"})
    queue_sort: PluginSet = attrs.field(factory=PluginSet, metadata={"json": "queueSort"})
    pre_filter: PluginSet = attrs.field(factory=PluginSet, metadata={"json": "preFilter"})
    filter: PluginSet = attrs.field(factory=PluginSet, metadata={"json": "filter"})
    post_filter: PluginSet = attrs.field(factory=PluginSet, metadata={"json": "postFilter"})
    pre_score: PluginSet = attrs.field(factory=PluginSet, metadata={"json": "preScore"})
    score: PluginSet = attrs.field(factory=PluginSet, metadata={"json": "score"})
    reserve: PluginSet = attrs.field(factory=PluginSet, metadata={"json": "reserve"})
    permit: PluginSet = attrs.field(factory=PluginSet, metadata={"json": "permit"})
    pre_bind: PluginSet = attrs.field(factory=PluginSet, metadata={"json": "preBind"})
    bind: PluginSet = attrs.field(factory=PluginSet, metadata={"json": "bind"})
    post_bind: PluginSet = attrs.field(factory=PluginSet, metadata={"json": "postBind"})
    multi_point: PluginSet = attrs.field(factory=PluginSet, metadata={"json": "multiPoint"})


# Attribute names of the per-point plugin sets, in upstream's getExtensionPoints order.
EXTENSION_POINTS = (
    "pre_filter",
    "filter",
    "post_filter",
    "reserve",
    "pre_score",
    "score",
    "pre_bind",
    "bind",
    "post_bind",
    "permit",
    "pre_enqueue",
    "queue_sort",
)


@attrs.frozen(kw_only=True)
class PluginConfig:
    name: str = attrs.field(default="", metadata={"json": "name"})
    args: Mapping[str, Any] = attrs.field(factory=dict, metadata={"json": "args"})


@attrs.frozen(kw_only=True)
class Profile:
    scheduler_name: str = attrs.field(
        default=DEFAULT_SCHEDULER_NAME, metadata={"json": "schedulerName"}
    )
    percentage_of_nodes_to_score: int | None = attrs.field(
        default=None, metadata={"json": "percentageOfNodesToScore"}
    )
    plugins: Plugins = attrs.field(factory=Plugins, metadata={"json": "plugins"})
    plugin_config: tuple[PluginConfig, ...] = attrs.field(
        default=(), metadata={"json": "pluginConfig"}
    )


@attrs.frozen(kw_only=True)
class KubeSchedulerConfiguration:
    api_version: str = attrs.field(default=API_VERSION, metadata={"json": "apiVersion"})
    kind: str = attrs.field(default="KubeSchedulerConfiguration", metadata={"json": "kind"})
    parallelism: int = attrs.field(default=16, metadata={"json": "parallelism"})
    percentage_of_nodes_to_score: int | None = attrs.field(
        default=None, metadata={"json": "percentageOfNodesToScore"}
    )
    pod_initial_backoff_seconds: int = attrs.field(
        default=1, metadata={"json": "podInitialBackoffSeconds"}
    )
    pod_max_backoff_seconds: int = attrs.field(
        default=10, metadata={"json": "podMaxBackoffSeconds"}
    )
    profiles: tuple[Profile, ...] = attrs.field(default=(), metadata={"json": "profiles"})
    # Accepted so real configuration files load; kframe takes these from its own flags.
    leader_election: Mapping[str, Any] = attrs.field(
        factory=dict, metadata={"json": "leaderElection"}
    )
    client_connection: Mapping[str, Any] = attrs.field(
        factory=dict, metadata={"json": "clientConnection"}
    )
    extenders: tuple[Mapping[str, Any], ...] = attrs.field(
        default=(), metadata={"json": "extenders"}
    )
    delay_cache_until_active: bool = attrs.field(
        default=False, metadata={"json": "delayCacheUntilActive"}
    )


def _ref(name: str, weight: int | None = None) -> PluginRef:
    return PluginRef(name=name, weight=weight)


# v1's getDefaultPlugins, without the volume plugins kframe does not have yet (VolumeRestrictions,
# NodeVolumeLimits, VolumeBinding, VolumeZone) and DynamicResources (off by default in 1.33).
DEFAULT_PLUGINS = Plugins(
    multi_point=PluginSet(
        enabled=(
            _ref("SchedulingGates"),
            _ref("PrioritySort"),
            _ref("NodeUnschedulable"),
            _ref("NodeName"),
            _ref("TaintToleration", 3),
            _ref("NodeAffinity", 2),
            _ref("NodePorts"),
            _ref("NodeResourcesFit", 1),
            _ref("PodTopologySpread", 2),
            _ref("InterPodAffinity", 2),
            _ref("DefaultPreemption"),
            _ref("NodeResourcesBalancedAllocation", 1),
            _ref("ImageLocality", 1),
            _ref("DefaultBinder"),
        )
    )
)


def _merge_set(default: PluginSet, custom: PluginSet) -> PluginSet:
    """``mergePluginSet``: custom disables drop defaults (``*`` all of them); a custom enable of
    a default plugin replaces it in place; other custom enables are appended."""
    disabled = (*custom.disabled, *default.disabled)
    disabled_names = {p.name for p in disabled}
    custom_by_name = {p.name: i for i, p in enumerate(custom.enabled)}
    replaced: set[int] = set()
    enabled: list[PluginRef] = []
    if "*" not in disabled_names:
        for plugin in default.enabled:
            if plugin.name in disabled_names:
                continue
            if plugin.name in custom_by_name:
                index = custom_by_name[plugin.name]
                plugin = custom.enabled[index]
                replaced.add(index)
            enabled.append(plugin)
    enabled.extend(p for i, p in enumerate(custom.enabled) if i not in replaced)
    return PluginSet(enabled=tuple(enabled), disabled=disabled)


def merge_plugins(default: Plugins, custom: Plugins) -> Plugins:
    names = (*EXTENSION_POINTS, "multi_point")
    return Plugins(**{n: _merge_set(getattr(default, n), getattr(custom, n)) for n in names})


def _validate(config: KubeSchedulerConfiguration) -> None:
    if config.api_version != API_VERSION or config.kind != "KubeSchedulerConfiguration":
        raise ConfigError(
            f"no kind {config.kind!r} is registered for version {config.api_version!r}: "
            f"expected apiVersion {API_VERSION} and kind KubeSchedulerConfiguration"
        )
    if config.parallelism <= 0:
        raise ConfigError(f"parallelism: Invalid value: {config.parallelism}: should be > 0")
    for where, value in [("percentageOfNodesToScore", config.percentage_of_nodes_to_score)] + [
        (f"profiles[{i}].percentageOfNodesToScore", p.percentage_of_nodes_to_score)
        for i, p in enumerate(config.profiles)
    ]:
        if value is not None and not 0 <= value <= 100:
            raise ConfigError(f"{where}: Invalid value: {value}: not in valid range [0-100]")
    if config.pod_initial_backoff_seconds <= 0:
        raise ConfigError(
            f"podInitialBackoffSeconds: Invalid value: {config.pod_initial_backoff_seconds}: "
            "must be greater than 0"
        )
    if config.pod_max_backoff_seconds < config.pod_initial_backoff_seconds:
        raise ConfigError(
            f"podMaxBackoffSeconds: Invalid value: {config.pod_max_backoff_seconds}: "
            "must be greater than or equal to PodInitialBackoffSeconds"
        )
    if config.extenders:
        raise ConfigError("extenders: scheduler extenders are not supported by kframe")
    seen: set[str] = set()
    for i, profile in enumerate(config.profiles):
        if not profile.scheduler_name:
            raise ConfigError(f"profiles[{i}].schedulerName: Required value")
        if profile.scheduler_name in seen:
            raise ConfigError(
                f"profiles[{i}].schedulerName: Duplicate value: {profile.scheduler_name!r}"
            )
        seen.add(profile.scheduler_name)
        configured: set[str] = set()
        for j, pc in enumerate(profile.plugin_config):
            if pc.name in configured:
                raise ConfigError(
                    f"profiles[{i}].pluginConfig[{j}].name: Duplicate value: {pc.name!r}"
                )
            configured.add(pc.name)
        for point in (*EXTENSION_POINTS, "multi_point"):
            for ref in getattr(profile.plugins, point).enabled:
                if ref.weight is not None and ref.weight < 0:
                    raise ConfigError(
                        f"profiles[{i}].plugins.{point}: Invalid value: {ref.weight}: "
                        f"weight of plugin {ref.name!r} must not be negative"
                    )


def parse_config(data: Mapping[str, Any]) -> KubeSchedulerConfiguration:
    """Decode, default and validate a configuration document. Raises :class:`ConfigError`."""
    try:
        config = from_dict(data, KubeSchedulerConfiguration, strict=True)
    except DecodeError as exc:
        raise ConfigError(f"decoding the scheduler configuration: {exc}") from None
    profiles = config.profiles or (Profile(),)
    profiles = tuple(
        attrs.evolve(p, plugins=merge_plugins(DEFAULT_PLUGINS, p.plugins)) for p in profiles
    )
    config = attrs.evolve(config, profiles=profiles)
    _validate(config)
    return config


def load_config(path: str | Path | None) -> KubeSchedulerConfiguration:
    """The configuration in a YAML file, or the defaults without one."""
    if path is None:
        return parse_config({})
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(f"reading {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}".replace("\n", " ")) from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected a KubeSchedulerConfiguration object")
    return parse_config(data)
