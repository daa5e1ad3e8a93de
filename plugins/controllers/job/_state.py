"""What one sync of a Job has worked out so far (upstream ``syncJobCtx``)."""

from __future__ import annotations

import attrs

from kframe.api.models import Job, JobCondition, Pod

__all__ = ["SyncState"]


@attrs.define
class SyncState:
    """What one sync has worked out so far (upstream syncJobCtx)."""

    job: Job
    pods: list[Pod]
    active_pods: list[Pod]
    expected_rm: set[str]
    succeeded: int = 0
    failed: int = 0
    ready: int = 0
    terminating: int = 0
    finished: JobCondition | None = None
    prev_succeeded_indexes: set[int] = attrs.field(factory=set)
    succeeded_indexes: set[int] = attrs.field(factory=set)
    failed_indexes: set[int] | None = None  # with backoffLimitPerIndex only
    delayed: dict[int, Pod] = attrs.field(factory=dict)
