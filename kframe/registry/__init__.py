"""Plugin discovery and registration: one pluggy project, ``kframe``, with a typed facade.

Plugins implement the hooks in :mod:`kframe.registry._hookspecs` (see ``docs/plugins.md``) and
are found through the ``kframe`` entry-point group, exactly as kframe's own reference plugins
are. Components ask the :class:`Registry` for a factory by kind and name.
"""

from kframe.registry._registry import (
    DuplicateNameError,
    Kind,
    PluginError,
    PluginLoadError,
    Registration,
    Registry,
    UnknownNameError,
    build_registry,
    hookimpl,
)

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
