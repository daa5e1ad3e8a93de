"""The kubeconfig kframe writes, which ``kubectl --kubeconfig PATH`` uses as is."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

__all__ = ["write_kubeconfig"]


def write_kubeconfig(path: Path, server: str, *, name: str = "kframe") -> None:
    """Write a kubeconfig for ``server`` with one cluster, user and context named ``name``.

    Written to a temporary file and renamed, so a reader never sees half of it.
    """
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server}}],
        "users": [{"name": name, "user": {}}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}
        ],
        "current-context": name,
        "preferences": {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(yaml.safe_dump(config, sort_keys=False))
    os.chmod(tmp, 0o600)
    tmp.replace(path)
