"""Go durations in controller options (``--option node-monitor-grace-period=40s``), as
kube-controller-manager's flags take them (``time.ParseDuration``), or a bare number of
seconds."""

from __future__ import annotations

import re

__all__ = ["parse_duration"]

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|us|µs|ns|h|m|s)")


def parse_duration(text: str) -> float:
    """Seconds of a Go duration (``40s``, ``1m30s``, ``500ms``) or a bare number; anything
    else is a ValueError saying ``invalid duration``."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    if not text:
        raise ValueError("invalid duration ''")
    pos, total = 0, 0.0
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None:
            raise ValueError(f"invalid duration {text!r} (expected e.g. 40s, 1m30s, 500ms)")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    return total
