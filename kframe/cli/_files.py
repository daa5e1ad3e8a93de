"""Settings files that flags name (``--runtime-config``, ``--backend-config``, ``--kubeconfig``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kframe.cli._command import CommandError

__all__ = ["load_settings"]


def load_settings(flag: str, path: Path | None) -> dict[str, Any]:
    """The YAML or JSON mapping in ``path`` ({} without one, or for an empty file); a file that
    cannot be read or is no mapping is a CommandError naming ``flag``."""
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise CommandError(f"{flag} {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError:
        raise CommandError(f"{flag} {path}: not valid YAML or JSON") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CommandError(f"{flag} {path}: a mapping of settings expected")
    return data
