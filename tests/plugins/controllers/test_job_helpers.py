"""The job controller's pure parts: completed-index intervals, the pod failure backoff, pod
facts and the pods it makes."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from kframe.api import from_dict, to_dict
from kframe.api.models import Job, Pod, PodFailurePolicy, SuccessPolicy
from kframe_plugins.controllers.job import (
    COMPLETION_INDEX,
    CONTROLLER_UID_LABEL,
    TRACKING_FINALIZER,
    format_indexes,
    parse_indexes,
)
from kframe_plugins.controllers.job._backoff import (
    DEFAULT_BACKOFF,
    MAX_BACKOFF,
    BackoffRecord,
    BackoffStore,
    remaining_backoff,
)
from kframe_plugins.controllers.job._failure_policy import match_pod_failure_policy
from kframe_plugins.controllers.job._indexes import match_success_policy, pod_generate_name
from kframe_plugins.controllers.job._per_index import (
    FAILURE_COUNT,
    IGNORED_FAILURE_COUNT,
    delayed_deletion_per_index,
    failed_indexes,
    new_failure_counts,
)
from kframe_plugins.controllers.job._template import job_pod, job_selector

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


# -- completed indexes --------------------------------------------------------------------------


@given(st.sets(st.integers(0, 200)))
def test_format_then_parse_gives_the_same_indexes(indexes: set[int]) -> None:
    text = format_indexes(indexes)
    assert parse_indexes(text, 201) == indexes
    # ordered, each index once; a range "a-b" only for three or more neighbours
    parts = [part for part in text.split(",") if part]
    flat: list[int] = []
    for part in parts:
        lo, _, hi = part.partition("-")
        if hi:
            assert int(hi) >= int(lo) + 2
            flat.extend(range(int(lo), int(hi) + 1))
        else:
            flat.append(int(lo))
    assert flat == sorted(indexes)


def test_format_examples_and_parse_skips_bad_parts() -> None:
    assert format_indexes([7, 1, 3, 4, 5]) == "1,3-5,7"
    assert format_indexes([2, 3]) == "2,3"
    assert format_indexes([0, 1, 2, 5, 6]) == "0-2,5,6"
    assert format_indexes([]) == ""
    assert parse_indexes("0-2,x,5,9-12", 11) == {0, 1, 2, 5, 9, 10}
    assert parse_indexes(None, 3) == set()


def test_generate_name_is_cut_to_fit() -> None:
    assert pod_generate_name("pi", 3) == "pi-3-"
    long = pod_generate_name("a" * 70, 12)
    assert len(long) == 58 and long.endswith("-12-")


# -- backoff ------------------------------------------------------------------------------------


@given(failures=st.integers(1, 30), elapsed=st.floats(0, 1000))
def test_backoff_doubles_from_10s_to_a_6_minute_cap(failures: int, elapsed: float) -> None:
    record = BackoffRecord(failures, T0)
    now = T0 + dt.timedelta(seconds=elapsed)
    left = remaining_backoff(record, now, DEFAULT_BACKOFF, MAX_BACKOFF)
    delay = min(DEFAULT_BACKOFF * 2 ** (failures - 1), MAX_BACKOFF)
    assert 0 <= left <= MAX_BACKOFF
    assert abs(left - max(0.0, delay - elapsed)) < 1e-6 or (left == 0 and delay < elapsed)


def test_no_failures_no_wait() -> None:
    assert remaining_backoff(BackoffRecord(), T0, 10, 360) == 0


def _finished_pod(at: dt.datetime, phase: str) -> Pod:
    return from_dict(
        {
            "metadata": {
                "name": "p",
                "namespace": "default",
                "creationTimestamp": "2024-01-01T00:00:00Z",
            },
            "status": {
                "phase": phase,
                "containerStatuses": [
                    {
                        "name": "c",
                        "image": "i",
                        "imageID": "",
                        "ready": False,
                        "restartCount": 0,
                        "state": {
                            "terminated": {
                                "exitCode": 0,
                                "finishedAt": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            }
                        },
                    }
                ],
            },
        },
        Pod,
    )


def test_a_success_resets_the_failures_before_it() -> None:
    store = BackoffStore()
    fail1 = _finished_pod(T0, "Failed")
    fail2 = _finished_pod(T0 + dt.timedelta(seconds=5), "Failed")
    record = store.new_record("k", [], [fail1, fail2])
    assert record == BackoffRecord(2, T0 + dt.timedelta(seconds=5))
    store.update("k", record)
    ok = _finished_pod(T0 + dt.timedelta(seconds=6), "Succeeded")
    late = _finished_pod(T0 + dt.timedelta(seconds=7), "Failed")
    assert store.new_record("k", [ok], [late]) == BackoffRecord(1, T0 + dt.timedelta(seconds=7))
    assert store.new_record("k", [ok], []) == BackoffRecord()


# -- pods of a Job ------------------------------------------------------------------------------


def _job(**spec: object) -> Job:
    return from_dict(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "pi", "namespace": "ns", "uid": "u-1"},
            "spec": {
                **spec,
                "template": {
                    "metadata": {"labels": {"app": "pi"}, "finalizers": ["example.com/keep"]},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                },
            },
        },
        Job,
    )


def test_a_job_without_selector_labels_its_pods_as_the_generated_selector_would() -> None:
    job = _job()
    pod = job_pod(job, None)
    meta = pod.metadata
    assert meta is not None
    assert meta.generate_name == "pi-" and meta.namespace == "ns"
    assert meta.labels == {
        "app": "pi",
        CONTROLLER_UID_LABEL: "u-1",
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": "u-1",
        "job-name": "pi",
    }
    assert meta.finalizers == ("example.com/keep", TRACKING_FINALIZER)
    assert job_selector(job).matches(meta.labels)
    ref = meta.owner_references[0]
    assert (ref.kind, ref.uid, ref.controller) == ("Job", "u-1", True)


def test_an_indexed_pod_carries_its_index() -> None:
    job = _job(completionMode="Indexed", completions=3, selector={"matchLabels": {"app": "pi"}})
    pod = job_pod(job, 2)
    assert pod.metadata is not None and pod.spec is not None
    assert pod.metadata.annotations == {COMPLETION_INDEX: "2"}
    assert pod.metadata.labels == {
        "app": "pi",
        COMPLETION_INDEX: "2",
    }  # selector given: no job labels
    assert pod.metadata.generate_name == "pi-2-"
    assert pod.spec.hostname == "pi-2"
    env = pod.spec.containers[0].env[0]
    assert env.name == "JOB_COMPLETION_INDEX"
    assert env.value_from.field_ref.field_path == f"metadata.labels['{COMPLETION_INDEX}']"


# -- pod failure policy -------------------------------------------------------------------------


def _failed_pod(codes: dict[str, int], conditions: list[dict[str, str]] | None = None) -> Pod:
    statuses = [
        {
            "name": name,
            "image": "i",
            "imageID": "",
            "ready": False,
            "restartCount": 0,
            "state": {"terminated": {"exitCode": code}},
        }
        for name, code in codes.items()
    ]
    return from_dict(
        {
            "metadata": {"name": "p", "namespace": "ns"},
            "status": {
                "phase": "Failed",
                "containerStatuses": statuses,
                "conditions": conditions or [],
            },
        },
        Pod,
    )


def _rules(*rules: dict[str, object]) -> PodFailurePolicy:
    return from_dict({"rules": list(rules)}, PodFailurePolicy)


def test_failure_policy_rules_in_order() -> None:
    policy = _rules(
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        {
            "action": "FailJob",
            "onExitCodes": {"containerName": "main", "operator": "In", "values": [42]},
        },
        {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [1]}},
    )
    disrupted = _failed_pod({"main": 42}, [{"type": "DisruptionTarget", "status": "True"}])
    assert match_pod_failure_policy(policy, disrupted) == (None, False, "Ignore")
    fatal = _failed_pod({"side": 0, "main": 42})
    message, counts, action = match_pod_failure_policy(policy, fatal)
    assert (counts, action) == (True, "FailJob")
    assert (
        message
        == "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1"
    )
    # another container's 42 does not match the named one; NotIn [1] matches 42 there
    assert match_pod_failure_policy(policy, _failed_pod({"side": 42})) == (None, True, "Count")
    # exit code 0 never matches; nothing matched counts as usual
    assert match_pod_failure_policy(policy, _failed_pod({"main": 1})) == (None, True, None)
    assert match_pod_failure_policy(None, fatal) == (None, True, None)


def test_success_policy_rules() -> None:
    def policy(*rules: dict[str, object]) -> SuccessPolicy:
        return from_dict({"rules": list(rules)}, SuccessPolicy)

    by_indexes = policy({"succeededIndexes": "0-2"})
    assert match_success_policy(by_indexes, 5, {0, 1}) is None
    assert match_success_policy(by_indexes, 5, {0, 1, 2, 4}) == "Matched rules at index 0"
    some = policy({"succeededIndexes": "x"}, {"succeededIndexes": "1,3", "succeededCount": 1})
    assert match_success_policy(some, 5, {3}) == "Matched rules at index 1"
    count = policy({"succeededCount": 2})
    assert match_success_policy(count, 5, {4}) is None
    assert match_success_policy(count, 5, {0, 4}) == "Matched rules at index 0"
    assert match_success_policy(None, 5, {0}) is None
    assert match_success_policy(count, 5, set()) is None


# -- backoffLimitPerIndex -----------------------------------------------------------------------


def _index_pod(ix: int, count: str | None, *, phase: str = "Failed", uid: str = "") -> Pod:
    annotations = {COMPLETION_INDEX: str(ix)}
    if count is not None:
        annotations[FAILURE_COUNT] = count
    return from_dict(
        {
            "metadata": {
                "name": f"p{ix}-{uid}",
                "uid": uid or f"u{ix}",
                "annotations": annotations,
                "finalizers": [TRACKING_FINALIZER],
                "creationTimestamp": "2024-01-01T00:00:00Z",
            },
            "status": {"phase": phase},
        },
        Pod,
    )


def _per_index_job(limit: int, **spec: object) -> Job:
    return _job(completionMode="Indexed", completions=3, backoffLimitPerIndex=limit, **spec)


@given(count=st.integers(0, 10), ignored=st.integers(0, 10), ignore_rule=st.booleans())
def test_a_replacement_adds_one_to_exactly_one_counter(
    count: int, ignored: int, ignore_rule: bool
) -> None:
    policy = {
        "rules": [{"action": "Ignore", "onPodConditions": [{"type": "Ready", "status": "False"}]}]
    }
    job = _per_index_job(3, podFailurePolicy=policy) if ignore_rule else _per_index_job(3)
    pod = _index_pod(0, str(count))
    pod = from_dict(
        {
            **to_dict(pod),
            "metadata": {
                **to_dict(pod)["metadata"],
                "annotations": {
                    COMPLETION_INDEX: "0",
                    FAILURE_COUNT: str(count),
                    IGNORED_FAILURE_COUNT: str(ignored),
                },
            },
            "status": {"phase": "Failed", "conditions": [{"type": "Ready", "status": "False"}]},
        },
        Pod,
    )
    got = new_failure_counts(job, pod)
    assert got == ((count, ignored + 1) if ignore_rule else (count + 1, ignored))
    assert new_failure_counts(job, None) == (0, 0)


def test_an_index_fails_once_its_count_reaches_the_limit() -> None:
    job = _per_index_job(1)
    first, retry = _index_pod(0, "0"), _index_pod(0, "1", uid="b")
    assert failed_indexes(job, [first]) == set()
    assert failed_indexes(job, [first, retry]) == {0}
    bad = _index_pod(1, "x")  # unparseable: 0, as upstream
    assert failed_indexes(job, [bad]) == set()
    assert failed_indexes(_per_index_job(0), [bad]) == {1}


def test_the_last_failed_pod_of_an_index_waits_for_its_replacement() -> None:
    job = _per_index_job(5)
    older, newer = _index_pod(0, "0", uid="a"), _index_pod(0, "1", uid="b")
    other = _index_pod(1, "0", uid="c")
    delayed = delayed_deletion_per_index(job, [older, newer, other], [], set(), set(), set())
    assert delayed == {0: newer, 1: other}
    # an index with an active pod, succeeded or failed keeps nothing back
    running = _index_pod(1, "1", phase="Running", uid="d")
    assert delayed_deletion_per_index(job, [other], [running], set(), set(), set()) == {}
    assert delayed_deletion_per_index(job, [older], [], {0}, set(), set()) == {}
