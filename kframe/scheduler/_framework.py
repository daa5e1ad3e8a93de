"""One scheduling profile at run time: calls its plugins at each extension point.

Upstream runtime/framework.go. The framework is also the plugins' :class:`Handle`: it carries the
cycle's snapshot, the informer-backed object lists and the API client. Plugins are called
directly; a plugin that raises is treated as having answered ``Error``.
"""

from __future__ import annotations

import asyncio
import operator
import random
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any, TypeVar

from kframe.api.models import Pod
from kframe.registry import Registry, UnknownNameError

from ._config import ConfigError, Profile
from ._cycle_state import CycleState
from ._interfaces import (
    MAX_NODE_SCORE,
    MIN_NODE_SCORE,
    BatchFilterPlugin,
    BatchScoreExtensions,
    BatchScorePlugin,
    BindPlugin,
    FilterPlugin,
    NodeScore,
    PermitPlugin,
    PluginFactory,
    PostBindPlugin,
    PostFilterPlugin,
    PostFilterResult,
    PreBindPlugin,
    PreEnqueuePlugin,
    PreFilterExtensions,
    PreFilterPlugin,
    PreFilterResult,
    PreScorePlugin,
    QueuedPodInfo,
    QueueSortKeyPlugin,
    QueueSortPlugin,
    ReservePlugin,
    ScoreExtensions,
    ScorePlugin,
)
from ._metrics import SchedulerMetrics
from ._nodeinfo import NodeInfo
from ._nodelist import NodeList
from ._nominator import Nominator, pod_priority
from ._podinfo import PodInfo
from ._profile import build_profile_plugins
from ._snapshot import Snapshot
from ._status import Code, Status
from ._waiting import WaitingPod, WaitingPods

if TYPE_CHECKING:
    from kframe.client import Client

__all__ = ["Framework", "PluginScores", "SchedulingError", "registry_factories"]

T = TypeVar("T")

# Permit plugins may hold a pod for at most this long (upstream maxTimeout).
MAX_PERMIT_TIMEOUT = 15 * 60.0


class PluginScores:
    """One Score plugin's scores for the feasible nodes: raw, normalized, and weighted."""

    __slots__ = ("normalized", "plugin", "raw", "weight")

    def __init__(self, plugin: str, weight: int, raw: list[int], normalized: list[int]) -> None:
        self.plugin = plugin
        self.weight = weight
        self.raw = raw
        self.normalized = normalized


def _error(message: str, exc: BaseException, plugin: str) -> Status:
    return Status(Code.ERROR, f"{message}: {exc}", plugin=plugin, error=exc)


class Framework:
    """A profile's plugins and the calls into them, in upstream's order and semantics."""

    def __init__(
        self,
        profile: Profile,
        factories: Callable[[str], PluginFactory],
        *,
        percentage_of_nodes_to_score: int | None = None,
        objects: Callable[[type[Any]], Sequence[Any]] | None = None,
        client: Client | None = None,
    ) -> None:
        self._snapshot = Snapshot(())
        self._objects = objects
        self._client = client
        self.waiting_pods = WaitingPods()
        self.nominator = Nominator()
        # Where the cycle and plugins record (the scheduler's); None offline (explain).
        self.metrics: SchedulerMetrics | None = None
        self._rng = random.Random(0)
        self.profile_name = profile.scheduler_name
        self.percentage_of_nodes_to_score = (
            profile.percentage_of_nodes_to_score
            if profile.percentage_of_nodes_to_score is not None
            else percentage_of_nodes_to_score
        )
        built = build_profile_plugins(profile, factories, self)
        self.plugins = built.plugins
        p = built.points
        self.pre_enqueue_plugins: list[PreEnqueuePlugin] = p["pre_enqueue"]
        self.queue_sort: QueueSortPlugin = p["queue_sort"][0]
        self.pre_filter_plugins: list[PreFilterPlugin] = p["pre_filter"]
        self.filter_plugins: list[FilterPlugin] = p["filter"]
        self.post_filter_plugins: list[PostFilterPlugin] = p["post_filter"]
        self.pre_score_plugins: list[PreScorePlugin] = p["pre_score"]
        self.score_plugins: list[ScorePlugin] = p["score"]
        self.reserve_plugins: list[ReservePlugin] = p["reserve"]
        self.permit_plugins: list[PermitPlugin] = p["permit"]
        self.pre_bind_plugins: list[PreBindPlugin] = p["pre_bind"]
        self.bind_plugins: list[BindPlugin] = p["bind"]
        self.post_bind_plugins: list[PostBindPlugin] = p["post_bind"]
        self.score_weights = built.weights
        self._pre_filter_extensions = [
            pl for pl in self.pre_filter_plugins if isinstance(pl, PreFilterExtensions)
        ]
        self._normalizers = {
            pl.name: pl for pl in self.score_plugins if isinstance(pl, ScoreExtensions)
        }
        # Per Filter plugin: the plugin and its filter_nodes, if it has one.
        self._filters = [
            (pl, pl.filter_nodes if isinstance(pl, BatchFilterPlugin) else None)
            for pl in self.filter_plugins
        ]
        # Per Score plugin: its name, how it scores a list of nodes (its own score_nodes, or
        # score called per node), its normalizer (on ints or NodeScores) and its weight.
        self._scorers: list[
            tuple[
                str,
                Callable[[CycleState, Pod, Sequence[NodeInfo]], list[int]],
                Callable[[CycleState, Pod, list[int]], Status | None] | None,
                ScoreExtensions | None,
                int,
            ]
        ] = []
        for pl in self.score_plugins:
            normalizer = self._normalizers.get(pl.name)
            self._scorers.append(
                (
                    pl.name,
                    pl.score_nodes if isinstance(pl, BatchScorePlugin) else _per_node(pl),
                    normalizer.normalize_scores
                    if isinstance(normalizer, BatchScoreExtensions)
                    else None,
                    normalizer,
                    self.score_weights[pl.name],
                )
            )

    # -- the Handle plugins see ------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        return self._snapshot

    def set_snapshot(self, snapshot: Snapshot) -> None:
        """The scheduler hands every cycle's snapshot to the profile before running it."""
        self._snapshot = snapshot

    def list_objects(self, cls: type[T]) -> Sequence[T]:
        return self._objects(cls) if self._objects is not None else ()

    @property
    def client(self) -> Client | None:
        return self._client

    def nominated_pods_for_node(self, node_name: str) -> list[PodInfo]:
        return self.nominator.nominated_pods_for_node(node_name)

    def get_waiting_pod(self, uid: str) -> WaitingPod | None:
        return self.waiting_pods.get(uid)

    @property
    def rng(self) -> random.Random:
        return self._rng

    @rng.setter
    def rng(self, value: random.Random) -> None:
        self._rng = value

    # -- queueing ---------------------------------------------------------------------------

    def run_pre_enqueue_plugins(self, pod: Pod) -> Status | None:
        for pl in self.pre_enqueue_plugins:
            try:
                status = pl.pre_enqueue(pod)
            except Exception as exc:
                return _error(f"running PreEnqueue plugin {pl.name!r}", exc, pl.name)
            if status is not None and not status.success:
                return status.with_plugin(pl.name)
        return None

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        return bool(self.queue_sort.less(a, b))

    @property
    def sort_key(self) -> Callable[[QueuedPodInfo], Any] | None:
        """The QueueSort plugin's key, if it has one (:class:`QueueSortKeyPlugin`)."""
        sort = self.queue_sort
        return sort.sort_key if isinstance(sort, QueueSortKeyPlugin) else None

    # -- filtering --------------------------------------------------------------------------

    def run_pre_filter_plugins(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> tuple[PreFilterResult | None, Status | None, set[str]]:
        """The merged node set, the status that ends the cycle (if any), and the plugins that
        narrowed the node set."""
        result: PreFilterResult | None = None
        with_nodes: set[str] = set()
        skipped: set[str] = set()
        for pl in self.pre_filter_plugins:
            try:
                answer = pl.pre_filter(state, pod, nodes)
            except Exception as exc:
                return None, _error(f"running PreFilter plugin {pl.name!r}", exc, pl.name), set()
            if isinstance(answer, Status):
                if answer.code is Code.SKIP:
                    skipped.add(pl.name)
                    continue
                if answer.success:
                    continue
                answer.with_plugin(pl.name)
                if answer.rejected:
                    return None, answer, set()
                return (
                    None,
                    Status(
                        Code.ERROR,
                        f"running PreFilter plugin {pl.name!r}: {answer.message}",
                        plugin=pl.name,
                    ),
                    set(),
                )
            if answer is None or answer.all_nodes:
                continue
            with_nodes.add(pl.name)
            result = answer if result is None else result.merge(answer)
            if result.node_names is not None and not result.node_names:
                names = sorted(with_nodes)
                msg = (
                    f"node(s) didn't satisfy plugin {names[0]}"
                    if len(names) == 1
                    else f"node(s) didn't satisfy plugin(s) [{' '.join(names)}] simultaneously"
                )
                return result, Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, msg), with_nodes
        state.skip_filter_plugins = skipped
        return result, None, with_nodes

    def run_filter_plugins(self, state: CycleState, pod: Pod, node: NodeInfo) -> Status | None:
        """The first rejecting Filter plugin's status (with its name), or None: the hot path."""
        skip = state.skip_filter_plugins
        for pl in self.filter_plugins:
            if skip and pl.name in skip:
                continue
            try:
                status = pl.filter(state, pod, node)
            except Exception as exc:
                return _error(f"running {pl.name!r} filter plugin", exc, pl.name)
            if status is not None and status.code is not Code.SUCCESS:
                if not status.rejected:
                    return Status(
                        Code.ERROR,
                        f"running {pl.name!r} filter plugin: {status.message}",
                        plugin=pl.name,
                    )
                return status.with_plugin(pl.name)
        return None

    def run_filter_plugins_on_nodes(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> list[Status | None] | None:
        """:meth:`run_filter_plugins` for each of ``nodes`` (None when every node passes).

        Each plugin sees only the nodes every plugin before it passed, as node by node; a
        plugin with ``filter_nodes`` answers for all of them in one call, the others are called
        per node. A ``filter_nodes`` that raises or answers for the wrong number of nodes is
        asked again node by node, so each node gets the status ``filter`` gives it.
        """
        skip = state.skip_filter_plugins
        out: list[Status | None] | None = None
        alive: Sequence[NodeInfo] = nodes
        where: Sequence[int] = range(len(nodes))
        for pl, batch in self._filters:
            name = pl.name
            if skip and name in skip:
                continue
            answers: Sequence[Status | None] | None
            raised: frozenset[int] = frozenset()
            if batch is not None:
                try:
                    answers = batch(state, pod, alive)
                except Exception:
                    answers, raised = self._filter_one_by_one(pl, state, pod, alive)
                else:
                    if answers is None:
                        continue
                    if len(answers) != len(alive):
                        answers, raised = self._filter_one_by_one(pl, state, pod, alive)
            else:
                answers, raised = self._filter_one_by_one(pl, state, pod, alive)
            kept: list[NodeInfo] = []
            kept_at: list[int] = []
            for i, (node, at, status) in enumerate(zip(alive, where, answers, strict=True)):
                if status is None or status.code is Code.SUCCESS:
                    kept.append(node)
                    kept_at.append(at)
                    continue
                if out is None:
                    out = [None] * len(nodes)
                if raised and i in raised:
                    out[at] = status  # already the framework's Error for the exception
                elif not status.rejected:
                    out[at] = Status(
                        Code.ERROR,
                        f"running {name!r} filter plugin: {status.message}",
                        plugin=name,
                    )
                else:
                    out[at] = status.with_plugin(name)
            if len(kept) != len(alive):
                # The survivors keep their snapshot positions (for the next plugins' memos).
                alive = nodes.take(kept_at) if isinstance(nodes, NodeList) else kept
                where = kept_at
                if not alive:
                    break
        return out

    def _filter_one_by_one(
        self, pl: FilterPlugin, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> tuple[list[Status | None], frozenset[int]]:
        """Each node's answer from ``filter``, and where it raised (answered with the Error)."""
        f = pl.filter
        try:
            return [f(state, pod, n) for n in nodes], frozenset()
        except Exception:
            pass
        out: list[Status | None] = []
        raised = set()
        for i, n in enumerate(nodes):
            try:
                out.append(f(state, pod, n))
            except Exception as exc:
                out.append(_error(f"running {pl.name!r} filter plugin", exc, pl.name))
                raised.add(i)
        return out, frozenset(raised)

    def run_filter_plugins_with_nominated_pods(
        self, state: CycleState, pod: Pod, node: NodeInfo
    ) -> Status | None:
        """Filter with the node's nominated pods of equal or higher priority counted in, then,
        if that passes, without them: some filters (inter-pod affinity) need both answers."""
        nominated = self.nominator.nominated_pods_for_node(node.name) if self.nominator else []
        if nominated:
            priority = pod_priority_of(pod)
            uid = pod.metadata.uid if pod.metadata else None
            added = [
                p
                for p in nominated
                if pod_priority(p) >= priority and p.pod.metadata and p.pod.metadata.uid != uid
            ]
            if added:
                state_with = state.clone()
                node_with = node.clone()
                for info in added:
                    node_with.add_pod(info)
                    status = self.run_pre_filter_extension_add_pod(state_with, pod, info, node_with)
                    if status is not None:
                        return status
                status = self.run_filter_plugins(state_with, pod, node_with)
                if status is not None:
                    return status
        return self.run_filter_plugins(state, pod, node)

    def run_pre_filter_extension_add_pod(
        self, state: CycleState, pod: Pod, pod_to_add: PodInfo, node: NodeInfo
    ) -> Status | None:
        for pl in self._pre_filter_extensions:
            if pl.name in state.skip_filter_plugins:
                continue
            try:
                status = pl.add_pod(state, pod, pod_to_add, node)
            except Exception as exc:
                return _error(f'running AddPod on PreFilter plugin "{pl.name}"', exc, pl.name)
            if status is not None and not status.success:
                return Status(
                    Code.ERROR,
                    f'running AddPod on PreFilter plugin "{pl.name}": {status.message}',
                    plugin=pl.name,
                )
        return None

    def run_pre_filter_extension_remove_pod(
        self, state: CycleState, pod: Pod, pod_to_remove: PodInfo, node: NodeInfo
    ) -> Status | None:
        for pl in self._pre_filter_extensions:
            if pl.name in state.skip_filter_plugins:
                continue
            try:
                status = pl.remove_pod(state, pod, pod_to_remove, node)
            except Exception as exc:
                return _error(f'running RemovePod on PreFilter plugin "{pl.name}"', exc, pl.name)
            if status is not None and not status.success:
                return Status(
                    Code.ERROR,
                    f'running RemovePod on PreFilter plugin "{pl.name}": {status.message}',
                    plugin=pl.name,
                )
        return None

    async def run_post_filter_plugins(
        self, state: CycleState, pod: Pod, statuses: Mapping[str, Status]
    ) -> tuple[PostFilterResult | None, Status]:
        """Until one plugin succeeds or errors; the rejections' reasons are collected."""
        reasons: list[str] = []
        rejector: str | None = None
        for pl in self.post_filter_plugins:
            try:
                result, status = await pl.post_filter(state, pod, statuses)
            except Exception as exc:
                return None, _error(f"running PostFilter plugin {pl.name!r}", exc, pl.name)
            if status is None or status.success:
                return result, Status(Code.SUCCESS, plugin=pl.name)
            if not status.rejected:
                return None, status.with_plugin(pl.name)
            reasons.extend(status.reasons)
            rejector = rejector or pl.name
        return None, Status(Code.UNSCHEDULABLE, *reasons, plugin=rejector)

    # -- scoring ----------------------------------------------------------------------------

    def run_pre_score_plugins(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]
    ) -> Status | None:
        skipped: set[str] = set()
        for pl in self.pre_score_plugins:
            try:
                status = pl.pre_score(state, pod, nodes)
            except Exception as exc:
                return _error(f"running PreScore plugin {pl.name!r}", exc, pl.name)
            if status is None or status.success:
                continue
            if status.code is Code.SKIP:
                skipped.add(pl.name)
                continue
            return Status(
                Code.ERROR, f"running PreScore plugin {pl.name!r}: {status.message}", plugin=pl.name
            )
        state.skip_score_plugins = skipped
        return None

    def run_score_plugins(
        self, state: CycleState, pod: Pod, nodes: Sequence[NodeInfo], *, keep_raw: bool = False
    ) -> tuple[list[int], list[PluginScores]]:
        """Each node's total weighted score, and per plugin its scores (raw kept on request).

        Raises :class:`SchedulingError` when a plugin fails or leaves a score out of [0, 100].
        """
        count = len(nodes)
        # None until a plugin's scores differ between nodes; those the same for all are summed
        # in ``offset`` and added at the end.
        totals: list[int] | None = None
        offset = 0  # the weighted scores every node got alike, added at the end
        details: list[PluginScores] = []
        skip = state.skip_score_plugins
        for name, score_nodes, normalize_scores, normalizer, weight in self._scorers:
            if skip and name in skip:
                continue
            try:
                raw = score_nodes(state, pod, nodes)
            except Exception as exc:
                raise SchedulingError(f"plugin {name!r} failed with: {exc}") from exc
            if len(raw) != count:
                raise SchedulingError(
                    f"plugin {name!r} failed with: {len(raw)} scores for {count} nodes"
                )
            if normalize_scores is not None:
                normalized = list(raw)
                try:
                    status = normalize_scores(state, pod, normalized)
                except Exception as exc:
                    raise SchedulingError(f"plugin {name!r} failed with: {exc}") from exc
                if status is not None and not status.success:
                    raise SchedulingError(f"plugin {name!r} failed with: {status.message}")
                if len(normalized) != count:
                    raise SchedulingError(
                        f"plugin {name!r} failed with: {len(normalized)} scores for {count} nodes"
                    )
            elif normalizer is not None:
                scores = [NodeScore(n.name, s) for n, s in zip(nodes, raw, strict=True)]
                try:
                    status = normalizer.normalize_score(state, pod, scores)
                except Exception as exc:
                    raise SchedulingError(f"plugin {name!r} failed with: {exc}") from exc
                if status is not None and not status.success:
                    raise SchedulingError(f"plugin {name!r} failed with: {status.message}")
                normalized = [s.score for s in scores]
            else:
                normalized = raw if isinstance(raw, list) and not keep_raw else list(raw)
            if count:
                first = normalized[0]
                if normalized.count(first) == count:  # one score for all: a scan at C speed
                    low = high = first
                else:
                    low, high = min(normalized), max(normalized)
                if low < MIN_NODE_SCORE or high > MAX_NODE_SCORE:
                    bad = next(s for s in normalized if not MIN_NODE_SCORE <= s <= MAX_NODE_SCORE)
                    raise SchedulingError(
                        f"plugin {name!r} returns an invalid score {bad}, it should in "
                        f"the range of [{MIN_NODE_SCORE}, {MAX_NODE_SCORE}] after normalizing"
                    )
                if low == high:  # the same for every node (no taints anywhere, say): added once
                    offset += low * weight
                elif totals is None:  # the first to tell nodes apart: its scores are the totals
                    totals = (
                        list(normalized)
                        if weight == 1
                        else list(map(operator.mul, normalized, repeat(weight)))
                    )
                elif weight == 1:
                    totals = list(map(operator.add, totals, normalized))
                else:
                    totals = list(
                        map(operator.add, totals, map(operator.mul, normalized, repeat(weight)))
                    )
            details.append(
                PluginScores(name, weight, list(raw) if keep_raw else normalized, normalized)
            )
        if totals is None:
            return [offset] * count, details
        if offset:
            totals = list(map(operator.add, totals, repeat(offset)))
        return totals, details

    # -- binding cycle ----------------------------------------------------------------------

    def run_reserve_plugins(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        for pl in self.reserve_plugins:
            try:
                status = pl.reserve(state, pod, node_name)
            except Exception as exc:
                return _error(f"running Reserve plugin {pl.name!r}", exc, pl.name)
            if status is not None and not status.success:
                if status.rejected:
                    return status.with_plugin(pl.name)
                return Status(
                    Code.ERROR,
                    f"running Reserve plugin {pl.name!r}: {status.message}",
                    plugin=pl.name,
                )
        return None

    def run_unreserve_plugins(self, state: CycleState, pod: Pod, node_name: str) -> None:
        # In the reverse order of Reserve, so each plugin undoes on top of what came after it.
        for pl in reversed(self.reserve_plugins):
            pl.unreserve(state, pod, node_name)

    def run_permit_plugins(self, state: CycleState, pod: Pod, node_name: str) -> Status | None:
        """None to go on, a rejection, or ``Wait`` after registering a :class:`WaitingPod`."""
        waits: dict[str, float] = {}
        for pl in self.permit_plugins:
            try:
                status, timeout = pl.permit(state, pod, node_name)
            except Exception as exc:
                return _error(f"running Permit plugin {pl.name!r}", exc, pl.name)
            if status is None or status.success:
                continue
            if status.rejected:
                return status.with_plugin(pl.name)
            if status.code is Code.WAIT:
                waits[pl.name] = min(timeout, MAX_PERMIT_TIMEOUT)
                continue
            return Status(
                Code.ERROR,
                f"running Permit plugin {pl.name!r}: {status.message}",
                plugin=pl.name,
            )
        if waits:
            self.waiting_pods.add(WaitingPod(pod, waits))
            name = pod.metadata.name if pod.metadata else ""
            return Status(
                Code.WAIT,
                f'one or more plugins asked to wait and no plugin rejected pod "{name}"',
            )
        return None

    async def wait_on_permit(self, pod: Pod) -> Status | None:
        waiting = self.waiting_pods.get_for(pod)
        if waiting is None:
            return None
        try:
            return await waiting.wait()
        finally:
            self.waiting_pods.remove(waiting)

    async def run_pre_bind_plugins(
        self, state: CycleState, pod: Pod, node_name: str
    ) -> Status | None:
        for pl in self.pre_bind_plugins:
            try:
                status = await pl.pre_bind(state, pod, node_name)
            except Exception as exc:
                return _error(f"running PreBind plugin {pl.name!r}", exc, pl.name)
            if status is not None and not status.success and status.code is not Code.SKIP:
                if status.rejected:
                    return status.with_plugin(pl.name)
                return Status(
                    Code.ERROR,
                    f"running PreBind plugin {pl.name!r}: {status.message}",
                    plugin=pl.name,
                )
        return None

    async def run_bind_plugins(self, state: CycleState, pod: Pod, node_name: str) -> Status:
        """The first Bind plugin that does not Skip binds; all skipping is ``Skip``."""
        for pl in self.bind_plugins:
            try:
                status = await pl.bind(state, pod, node_name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                return _error(f"running Bind plugin {pl.name!r}", exc, pl.name)
            if status is not None and status.code is Code.SKIP:
                continue
            if status is None or status.success:
                return Status(Code.SUCCESS, plugin=pl.name)
            if status.rejected:
                return status.with_plugin(pl.name)
            return Status(Code.ERROR, f"binding rejected: {status.message}", plugin=pl.name)
        return Status(Code.SKIP)

    def run_post_bind_plugins(self, state: CycleState, pod: Pod, node_name: str) -> None:
        for pl in self.post_bind_plugins:
            pl.post_bind(state, pod, node_name)

    def has_filter_plugins(self) -> bool:
        return bool(self.filter_plugins)

    def has_score_plugins(self) -> bool:
        return bool(self.score_plugins)


def _per_node(
    plugin: ScorePlugin,
) -> Callable[[CycleState, Pod, Sequence[NodeInfo]], list[int]]:
    """``score_nodes`` for a plugin that only scores one node at a time."""
    score = plugin.score

    def score_nodes(state: CycleState, pod: Pod, nodes: Sequence[NodeInfo]) -> list[int]:
        return [score(state, pod, n) for n in nodes]

    return score_nodes


def pod_priority_of(pod: Pod) -> int:
    return (pod.spec.priority if pod.spec else None) or 0


class SchedulingError(Exception):
    """A plugin failed during a cycle (upstream: an error from schedulePod): retried later."""


def registry_factories(registry: Registry) -> Callable[[str], PluginFactory]:
    """Look scheduler plugins up by name in the plugin registry, as a profile needs them."""

    def factory(name: str) -> PluginFactory:
        try:
            value = registry.get("scheduler-plugin", name).factory
        except UnknownNameError:
            known = ", ".join(registry.names("scheduler-plugin")) or "none installed"
            raise ConfigError(f"plugin {name!r} does not exist (available: {known})") from None
        if not isinstance(value, PluginFactory):
            raise ConfigError(
                f"scheduler plugin {name!r} is registered with a {type(value).__name__}, "
                "not a kframe.scheduler.PluginFactory"
            )
        return value

    return factory
