"""Completion indexes of Indexed Jobs (upstream pkg/controller/job/indexed_job_utils.go).

``status.completedIndexes`` is a list of intervals, ``"1,3-5,7"``; pods carry their index in the
``batch.kubernetes.io/job-completion-index`` annotation (and label), and the job controller
creates each missing index once, lowest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "COMPLETION_INDEX",
    "UNKNOWN_INDEX",
    "completion_index",
    "format_indexes",
    "match_success_policy",
    "parse_indexes",
    "pod_generate_name",
]

#: The pod annotation and label holding the completion index.
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
#: upstream unknownCompletionIndex: a pod without a valid index.
UNKNOWN_INDEX = -1
# upstream names.MaxGeneratedNameLength (63 - the 5 random characters).
_MAX_GENERATED_NAME = 58


def completion_index(annotations: Mapping[str, str] | None) -> int:
    """The pod's index from its annotation, or :data:`UNKNOWN_INDEX` (getCompletionIndex)."""
    raw = (annotations or {}).get(COMPLETION_INDEX)
    if raw is None or not raw.isdigit():
        return UNKNOWN_INDEX
    return int(raw)


def parse_indexes(text: str | None, completions: int) -> set[int]:
    """The indexes in ``text`` below ``completions``; bad parts are skipped, as upstream's
    parseIndexesFromString logs and skips them."""
    result: set[int] = set()
    for part in (text or "").split(","):
        first, _, last = part.partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            continue
        lo = int(first)
        hi = int(last) if last else lo
        result.update(range(lo, min(hi, completions - 1) + 1))
    return result


def format_indexes(indexes: Iterable[int]) -> str:
    """``"1,3-5,7,9,10"``: ordered intervals, a single index or a pair of neighbours written
    out, three or more as a range (orderedIntervals.String)."""
    out: list[str] = []
    run: list[int] = []
    for ix in sorted(set(indexes)):
        if run and ix == run[-1] + 1:
            run.append(ix)
            continue
        if run:
            out.append(_interval(run))
        run = [ix]
    if run:
        out.append(_interval(run))
    return ",".join(out)


def _interval(run: list[int]) -> str:
    if len(run) == 1:
        return str(run[0])
    # upstream orderedIntervals.String writes two neighbours as "a,b", longer runs as "a-b"
    return f"{run[0]},{run[1]}" if len(run) == 2 else f"{run[0]}-{run[-1]}"


def pod_generate_name(job_name: str, index: int) -> str:
    """``<job>-<index>-``, the job name cut so the whole fits (podGenerateNameWithIndex)."""
    suffix = f"-{index}-"
    prefix = job_name + suffix
    if len(prefix) > _MAX_GENERATED_NAME:
        prefix = prefix[: _MAX_GENERATED_NAME - len(suffix)] + suffix
    return prefix


def match_success_policy(policy: Any, completions: int, succeeded: set[int]) -> str | None:
    """``"Matched rules at index N"`` for the first ``spec.successPolicy`` rule the succeeded
    indexes meet, else None (matchSuccessPolicy): a rule with ``succeededIndexes`` is met when
    all of them succeeded, or ``succeededCount`` of them; one with only ``succeededCount``
    when that many indexes succeeded."""
    if policy is None or not succeeded:
        return None
    for index, rule in enumerate(policy.rules or ()):
        if rule.succeeded_indexes is not None:
            required = parse_indexes(rule.succeeded_indexes, completions)
            if not required:
                continue  # unparseable: skipped, as upstream
            contains = len(required & succeeded)
            count = rule.succeeded_count
            if contains == len(required) or (count is not None and contains >= count):
                return f"Matched rules at index {index}"
        elif rule.succeeded_count is not None and len(succeeded) >= rule.succeeded_count:
            return f"Matched rules at index {index}"
    return None
