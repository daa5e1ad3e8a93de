"""Upstream's ``helper.DefaultNormalizeScore`` (pkg/scheduler/framework/plugins/helper), for
Score plugins whose raw scores are counts: shared here since plugins do not import each other."""

from __future__ import annotations

from ._interfaces import NodeScore
from ._status import Status

__all__ = ["default_normalize_score", "default_normalize_scores"]


def default_normalize_score(
    max_priority: int, reverse: bool, scores: list[NodeScore]
) -> Status | None:
    """Rescale ``scores`` in place from [0, max(scores)] to [0, ``max_priority``].

    With ``reverse`` each score becomes ``max_priority - score``, so the lowest raw score wins.
    Raw scores are non-negative, so Python's ``//`` is Go's integer division here. When every
    score is 0 they stay 0, or all become ``max_priority`` when reversed.
    """
    max_count = 0
    for s in scores:
        if s.score > max_count:
            max_count = s.score
    if max_count == 0:
        if reverse:
            for s in scores:
                s.score = max_priority
        return None
    for s in scores:
        score = max_priority * s.score // max_count
        s.score = max_priority - score if reverse else score
    return None


def default_normalize_scores(max_priority: int, reverse: bool, scores: list[int]) -> Status | None:
    """:func:`default_normalize_score` on the scores alone (``BatchScoreExtensions``)."""
    max_count = max(scores, default=0)
    if max_count <= 0:
        if reverse:
            scores[:] = [max_priority] * len(scores)
        return None
    if reverse:
        scores[:] = [max_priority - max_priority * s // max_count for s in scores]
    else:
        scores[:] = [max_priority * s // max_count for s in scores]
    return None
