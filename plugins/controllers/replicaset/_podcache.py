"""What a sync reads of each pod, computed once per pod event.

A ReplicaSet of N pods is synced about once per pod event, so reading every pod afresh on each
sync is O(N) a sync and O(N^2) a rollout. The facts of a pod (active, ready since, its labels match
this selector) are derived once per informer event and filed by controller uid instead.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping

import attrs

from kframe.api import Selector
from kframe.api.models import Pod
from kframe.controller import controller_ref, is_pod_active, is_pod_ready, pod_ready_since

__all__ = ["PodEntry", "PodFactsCache"]

_MAX_INTERNED = 1024


@attrs.define(slots=True)
class PodEntry:
    pod: Pod
    active: bool
    #: Marked for deletion and not finished (FilterTerminatingPods).
    terminating: bool
    ready: bool
    ready_since: _dt.datetime | None
    labels: Mapping[str, str]
    selector: Selector | None = None
    matches: bool = False
    template: tuple[tuple[str, str], ...] | None = None
    fully_labeled: bool = False


class PodFactsCache:
    """Facts of every pod the informer holds, by controller uid, kept by the informer's
    handlers (:meth:`observe`, :meth:`forget`): a sync reads its pods' facts without listing,
    sorting or re-deriving them."""

    def __init__(self) -> None:
        self._owned: dict[str, dict[str, PodEntry]] = {}
        self._versions: dict[str, int] = {}
        self._clock = 0
        self._owner_of: dict[str, str] = {}
        self._selectors: dict[Selector, Selector] = {}
        self._templates: dict[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = {}

    def __len__(self) -> int:
        return len(self._owner_of)

    @staticmethod
    def entry(pod: Pod) -> PodEntry:
        """The facts of ``pod`` (not filed)."""
        meta = pod.metadata
        phase = pod.status.phase if pod.status is not None else None
        deleting = meta is not None and meta.deletion_timestamp is not None
        return PodEntry(
            pod=pod,
            active=is_pod_active(pod),
            terminating=deleting and phase not in ("Succeeded", "Failed"),
            ready=is_pod_ready(pod),
            ready_since=pod_ready_since(pod),
            labels=(meta.labels if meta is not None else None) or {},
        )

    def observe(self, pod: Pod) -> None:
        """The informer holds ``pod`` now (added or updated): file its facts under its
        controller's uid, and out of a former controller's."""
        uid = (pod.metadata.uid if pod.metadata is not None else None) or ""
        if not uid:
            return
        ref = controller_ref(pod)
        owner = (ref.uid if ref is not None else None) or ""
        former = self._owner_of.get(uid)
        if former is not None and former != owner:
            self._drop(former, uid)
        self._owner_of[uid] = owner
        if owner:
            self._owned.setdefault(owner, {})[uid] = self.entry(pod)
            self._touch(owner)

    def forget(self, pod: Pod) -> None:
        """The informer no longer holds ``pod``."""
        uid = (pod.metadata.uid if pod.metadata is not None else None) or ""
        owner = self._owner_of.pop(uid, None)
        if owner is not None:
            self._drop(owner, uid)

    def _touch(self, owner: str) -> None:
        self._clock += 1
        self._versions[owner] = self._clock

    def version(self, owner_uid: str) -> int:
        """Changes whenever a pod of ``owner_uid`` is filed or dropped (0: none ever was)."""
        return self._versions.get(owner_uid, 0)

    def _drop(self, owner: str, uid: str) -> None:
        pods = self._owned.get(owner)
        if pods is not None:
            pods.pop(uid, None)
            self._touch(owner)
            if not pods:
                del self._owned[owner]
                self._versions.pop(owner, None)

    def owned(self, owner_uid: str) -> Iterable[PodEntry]:
        """The facts of the pods whose controller reference names ``owner_uid``."""
        return self._owned.get(owner_uid, {}).values()

    def intern_selector(self, selector: Selector) -> Selector:
        """One object for equal selectors, so that a match is remembered across syncs."""
        if len(self._selectors) > _MAX_INTERNED:
            self._selectors.clear()
        return self._selectors.setdefault(selector, selector)

    def intern_labels(self, labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        key = tuple(sorted(labels.items()))
        if len(self._templates) > _MAX_INTERNED:
            self._templates.clear()
        return self._templates.setdefault(key, key)

    @staticmethod
    def matches(entry: PodEntry, selector: Selector) -> bool:
        """``selector`` (interned) matches the pod's labels."""
        if entry.selector is not selector:
            entry.matches = selector.matches(entry.labels)
            entry.selector = selector
        return entry.matches

    @staticmethod
    def fully_labeled(entry: PodEntry, template: tuple[tuple[str, str], ...]) -> bool:
        """The pod carries every label of ``template`` (interned)."""
        if entry.template is not template:
            labels = entry.labels
            entry.fully_labeled = all(labels.get(k) == v for k, v in template)
            entry.template = template
        return entry.fully_labeled
