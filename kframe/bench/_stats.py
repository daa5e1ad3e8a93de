"""Small statistics helpers shared by the benchmarks."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

__all__ = ["percentile", "positive_int", "rate"]


def percentile(samples: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile (0 < p <= 100) of ``samples``; 0.0 when empty."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def rate(count: int, seconds: float) -> float:
    """Operations per second, rounded for a readable report."""
    return round(count / seconds, 1) if seconds > 0 else 0.0


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1, with a one-line error otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
