"""Every hook a kframe plugin can implement, grouped by the component that consumes it.

Each hook returns a mapping from a name to a factory. kframe calls these once, when the registry
is built (never on a per-node or per-event path), and hands the factories to the machinery that
uses them. Implement a hook in a module or object marked with :data:`kframe.registry.hookimpl`
and point an entry point of group ``kframe`` at it::

    [project.entry-points.kframe]
    my-store = "my_package.kframe_plugin"
"""

from __future__ import annotations

from collections.abc import Mapping

import pluggy

PROJECT = "kframe"

hookspec = pluggy.HookspecMarker(PROJECT)

# -- storage -------------------------------------------------------------------------------------


@hookspec
def kframe_store_backends() -> Mapping[str, object]:  # type: ignore[empty-body]
    """Register Store backends by URL scheme.

    Called once when the registry is built. Return ``{scheme: factory}``, for example
    ``{"sqlite": open_sqlite_store}``; ``kframe.store.open_store(url)`` picks the factory by
    the URL's scheme (``memory://``, ``sqlite:///path.db``, ``etcd://host:port``) and calls it
    with the parsed URL. The factory's contract is documented in ``docs/store.md``.
    """


# -- API server ----------------------------------------------------------------------------------


@hookspec
def kframe_admission_plugins() -> Mapping[str, object]:  # type: ignore[empty-body]
    """Register admission plugins by name (``NamespaceLifecycle``, ``LimitRanger``, ...).

    Called once when the API server starts. Return ``{name: factory}``; the API server builds
    its mutating and validating chains from the enabled names, in its configured order.
    """


# -- control plane components --------------------------------------------------------------------


@hookspec
def kframe_scheduler_plugins() -> Mapping[str, object]:  # type: ignore[empty-body]
    """Register scheduler plugins by plugin name (``NodeResourcesFit``, ``TaintToleration``).

    Called once when a scheduler is configured. Return ``{name: factory}``; a scheduler profile
    enables plugins by these names, as ``KubeSchedulerConfiguration`` does, and the factory
    builds the plugin from its typed args.
    """


@hookspec
def kframe_controllers() -> Mapping[str, object]:  # type: ignore[empty-body]
    """Register controllers by name (``deployment``, ``replicaset``, ``garbagecollector``).

    Called once when a controller manager starts. Return ``{name: factory}``; the manager's
    ``--controllers`` flag selects among these names.
    """


@hookspec
def kframe_cloud_providers() -> Mapping[str, object]:  # type: ignore[empty-body]
    """Register cloud providers by name, as given to ``--cloud-provider``.

    Called once when the cloud controller manager starts. Return ``{name: spec}``, each a
    :class:`kframe.cloud.CloudProviderSpec` (or a bare factory): its ``build`` receives the
    ``--cloud-config`` file's path (None when not given) and returns a
    :class:`kframe.cloud.CloudProvider`; its optional ``testbed`` opens the provider on fresh
    state for the conformance suite (:mod:`kframe.testing.cloud`). See ``docs/cloud.md``.
    """


# -- node components -----------------------------------------------------------------------------


@hookspec
def kframe_container_runtimes() -> Mapping[str, object]:  # type: ignore[empty-body]
    """Register CRI container runtimes by name, as given to ``--runtime`` (``fake``, ``process``).

    Called once when a kubelet starts. Return ``{name: factory}``; each kubelet builds its own
    runtime instance from the factory.
    """


@hookspec
def kframe_proxy_backends() -> Mapping[str, object]:  # type: ignore[empty-body]
    """Register proxy backends by mode name, as given to ``kframe proxy --mode``.

    Called once when a proxy starts. Return ``{name: factory}``; the proxy hands the backend
    the desired Service state on every sync.
    """


# -- command line --------------------------------------------------------------------------------


@hookspec
def kframe_cli_commands() -> Mapping[str, object]:  # type: ignore[empty-body]
    """Register ``kframe`` sub-commands by name.

    Called once when the ``kframe`` command starts. Return ``{name: factory}``; the factory is
    called with no arguments and returns a :class:`kframe.cli.Command`.
    """
