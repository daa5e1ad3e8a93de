"""The pods a Job makes: the template with the tracking finalizer, the job labels and, for
Indexed Jobs, the completion index (upstream job_controller.go manageJob and
indexed_job_utils.go addCompletionIndex*)."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from kframe.api import Selector, selector_from_label_selector, selector_from_set
from kframe.api.models import (
    Container,
    EnvVar,
    EnvVarSource,
    Job,
    ObjectFieldSelector,
    Pod,
)
from kframe.controller import pod_from_template

from ._indexes import COMPLETION_INDEX, pod_generate_name
from ._podfacts import TRACKING_FINALIZER

__all__ = [
    "CONTROLLER_UID_LABEL",
    "JOB_NAME_LABEL",
    "LEGACY_CONTROLLER_UID_LABEL",
    "LEGACY_JOB_NAME_LABEL",
    "job_labels",
    "job_pod",
    "job_selector",
]

CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
LEGACY_JOB_NAME_LABEL = "job-name"
_INDEX_ENV = "JOB_COMPLETION_INDEX"


def job_labels(job: Job) -> dict[str, str]:
    """The labels the Job strategy generates (generateSelector): both spellings of each."""
    uid, name = job.metadata.uid or "", job.metadata.name or ""  # type: ignore[union-attr]
    return {
        CONTROLLER_UID_LABEL: uid,
        JOB_NAME_LABEL: name,
        LEGACY_CONTROLLER_UID_LABEL: uid,
        LEGACY_JOB_NAME_LABEL: name,
    }


def job_selector(job: Job) -> Selector:
    """``spec.selector``; a Job stored without one (the API server did not generate it) is
    taken to select ``batch.kubernetes.io/controller-uid=<uid>``, what it would have made."""
    sel = job.spec.selector if job.spec is not None else None
    if sel is None:
        return selector_from_set({CONTROLLER_UID_LABEL: job.metadata.uid or ""})  # type: ignore[union-attr]
    return selector_from_label_selector(sel.match_labels, sel.match_expressions)


def _with_index_env(container: Container) -> Container:
    if any(e.name == _INDEX_ENV for e in container.env or ()):
        return container
    # PodIndexLabel (GA in 1.32): the env var reads the label, not the annotation.
    ref = ObjectFieldSelector(field_path=f"metadata.labels['{COMPLETION_INDEX}']")
    env = EnvVar(name=_INDEX_ENV, value_from=EnvVarSource(field_ref=ref))
    return attrs.evolve(container, env=(*(container.env or ()), env))


def job_pod(job: Job, index: int | None, annotations: Mapping[str, str] | None = None) -> Pod:
    """A new pod of ``job`` (``index`` for Indexed Jobs): the tracking finalizer, the
    generated labels when the Job has no selector, and for an index its annotation, label,
    ``JOB_COMPLETION_INDEX`` env var, hostname ``<job>-<index>`` and name ``<job>-<index>-``."""
    spec = job.spec
    assert spec is not None and job.metadata is not None
    extra = job_labels(job) if spec.selector is None else {}
    name = job.metadata.name or ""
    if index is not None:
        extra[COMPLETION_INDEX] = str(index)
    pod = pod_from_template(
        spec.template,
        job,
        generate_name=pod_generate_name(name, index) if index is not None else f"{name}-",
        extra_labels=extra,
    )
    meta = pod.metadata
    assert meta is not None
    finalizers = tuple(meta.finalizers or ())
    if TRACKING_FINALIZER not in finalizers:
        finalizers = (*finalizers, TRACKING_FINALIZER)
    extra_annotations = annotations
    annotations = dict(meta.annotations or {})
    annotations.update(extra_annotations or {})
    pod_spec = pod.spec
    if index is not None:
        annotations[COMPLETION_INDEX] = str(index)
        if pod_spec is not None:
            pod_spec = attrs.evolve(
                pod_spec,
                hostname=f"{name}-{index}",
                containers=tuple(_with_index_env(c) for c in pod_spec.containers or ()),
                init_containers=tuple(_with_index_env(c) for c in pod_spec.init_containers or ()),
            )
    meta = attrs.evolve(meta, finalizers=finalizers, annotations=annotations)
    return attrs.evolve(pod, metadata=meta, spec=pod_spec)
