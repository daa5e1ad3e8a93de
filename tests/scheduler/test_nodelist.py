"""PerNodeMemo against computing afresh, through the scheduler cache's real change notes.

A memo's answer for a node must be what ``compute`` gives for that node now, whatever happened
since it was remembered: pods assumed, confirmed, forgotten or deleted there, nodes added,
relabelled or removed, the change log started over. The answers here include each node's
``generation``, so an answer kept past a change to its node cannot pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from kframe.scheduler import NodeInfo, NodeList, PerNodeMemo, PodInfo, Snapshot, _cache
from kframe.scheduler._cache import SchedulerCache
from kframe.testing.scheduler import make_node, make_pod

NODES = [f"n{i}" for i in range(8)]
KEYS = ["a", "b", "c"]

Answer = tuple[str, str, int, int, str]


def _zone(info: NodeInfo) -> str:
    meta = info.node.metadata if info.node is not None else None
    return ((meta.labels if meta is not None else None) or {}).get("zone", "")


def _answers(key: str, nodes: Sequence[NodeInfo]) -> list[Answer]:
    return [(key, n.name, n.generation, n.requested.milli_cpu, _zone(n)) for n in nodes]


class MemoAgainstFresh(RuleBasedStateMachine):
    """Random cache histories, with the memo asked about random parts of each snapshot."""

    def __init__(self) -> None:
        super().__init__()
        self.cache = SchedulerCache()
        self.memo: PerNodeMemo[Answer] = PerNodeMemo(keys=2, generation_max=64)
        self.pods: dict[str, tuple[str, bool]] = {}  # name -> (node, confirmed)
        self.counter = 0
        self.computed = 0

    @initialize(names=st.lists(st.sampled_from(NODES), min_size=1, unique=True))
    def nodes(self, names: list[str]) -> None:
        for name in names:
            self.cache.add_node(make_node(name, labels={"zone": "z0"}))

    @rule(name=st.sampled_from(NODES), zone=st.sampled_from(["z0", "z1"]))
    def add_or_relabel_node(self, name: str, zone: str) -> None:
        self.cache.add_node(make_node(name, labels={"zone": zone}))

    @rule(name=st.sampled_from(NODES))
    def remove_node(self, name: str) -> None:
        self.cache.remove_node(make_node(name))

    @rule(node=st.sampled_from(NODES), cpu=st.sampled_from(["100m", "1", "250m"]))
    def assume(self, node: str, cpu: str) -> None:
        self.counter += 1
        name = f"p{self.counter}"
        self.cache.assume_pod(PodInfo(make_pod(name, cpu=cpu, node=node)), node)
        self.pods[name] = (node, False)

    @precondition(lambda self: self.pods)
    @rule(data=st.data())
    def confirm(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.pods)))
        node, _ = self.pods[name]
        self.cache.add_pod(make_pod(name, cpu="500m", node=node))
        self.pods[name] = (node, True)

    @precondition(lambda self: self.pods)
    @rule(data=st.data())
    def forget_or_delete(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.pods)))
        node, confirmed = self.pods.pop(name)
        if confirmed:
            self.cache.remove_pod(make_pod(name, node=node))
        else:
            self.cache.forget_pod(f"default/{name}")

    @rule(key=st.sampled_from(KEYS), data=st.data())
    def ask(self, key: str, data: st.DataObject) -> None:
        snapshot = self.cache.snapshot()
        everything = snapshot.list()
        assert isinstance(everything, NodeList)
        size = len(everything)
        how = data.draw(st.sampled_from(["all", "span", "take", "untracked", "built"]))
        nodes: Sequence[NodeInfo]
        if how == "all" or size == 0:
            nodes = everything
        elif how == "span":
            start = data.draw(st.integers(0, size - 1))
            nodes = everything.span(start, data.draw(st.integers(1, size)))
        elif how == "take":
            at = data.draw(st.lists(st.integers(0, size - 1), unique=True))
            nodes = everything.take(at)
        elif how == "untracked":
            nodes = list(everything)
        else:  # a snapshot nothing tracks (as explain builds): answers by generation
            nodes = Snapshot(everything).list()

        def compute(todo: list[NodeInfo]) -> list[Answer]:
            self.computed += len(todo)
            return _answers(key, todo)

        assert self.memo.get(key, nodes, compute) == _answers(key, nodes)


class SmallLogMemoAgainstFresh(MemoAgainstFresh):
    """The same with a change log so short that it starts over every few changes."""

    def __init__(self) -> None:
        super().__init__()
        # The cache reads its module's LOG_MAX when it takes a snapshot.
        self._log_max = vars(_cache)["LOG_MAX"]
        vars(_cache)["LOG_MAX"] = 3

    def teardown(self) -> None:
        vars(_cache)["LOG_MAX"] = self._log_max


TestMemoAgainstFresh = MemoAgainstFresh.TestCase
TestMemoAgainstFresh.settings = settings(max_examples=80, stateful_step_count=40, deadline=None)
TestSmallLogMemoAgainstFresh = SmallLogMemoAgainstFresh.TestCase
TestSmallLogMemoAgainstFresh.settings = settings(
    max_examples=40, stateful_step_count=40, deadline=None
)


def test_unchanged_nodes_are_not_computed_again() -> None:
    cache = SchedulerCache()
    for name in NODES:
        cache.add_node(make_node(name))
    memo: PerNodeMemo[Answer] = PerNodeMemo()
    computed: list[str] = []

    def compute(todo: list[NodeInfo]) -> list[Answer]:
        computed.extend(n.name for n in todo)
        return _answers("k", todo)

    memo.get("k", cache.snapshot().list(), compute)
    assert len(computed) == len(NODES)
    computed.clear()
    cache.assume_pod(PodInfo(make_pod("p", cpu="1", node="n3")), "n3")
    memo.get("k", cache.snapshot().list().span(2, 4), compute)
    assert computed == ["n3"]


@pytest.mark.parametrize("keys", [1, 2])
def test_the_oldest_key_is_forgotten_past_keys(keys: int) -> None:
    cache = SchedulerCache()
    cache.add_node(make_node("n0"))
    memo: PerNodeMemo[Answer] = PerNodeMemo(keys=keys)
    calls: list[str] = []

    def compute_for(key: str) -> object:
        def compute(todo: list[NodeInfo]) -> list[Answer]:
            calls.append(key)
            return _answers(key, todo)

        return compute

    nodes = cache.snapshot().list()
    for key in ["a", "b", "a"]:
        memo.get(key, nodes, compute_for(key))  # type: ignore[arg-type]
    assert calls == (["a", "b", "a"] if keys == 1 else ["a", "b"])
