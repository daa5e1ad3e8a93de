"""kframe: the Kubernetes architecture as a Python framework of pluggable component interfaces.

Layers, lowest first (a layer never imports a higher one; see docs/architecture.md):
``kframe.api`` and ``kframe.registry``, then ``kframe.store``, ``kframe.apiserver``,
``kframe.client``, the components, and ``kframe.cluster`` / ``kframe.cli``.
"""

from kframe._version import __version__

__all__ = ["__version__"]
