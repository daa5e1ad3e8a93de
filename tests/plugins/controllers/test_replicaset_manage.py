"""manageReplicas against a scripted client: the burst cap, slow start and the expectations
left after a failed batch, concurrent deletes where a 404 counts as done, the events."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import attrs
import pytest

from kframe.api import from_dict
from kframe.api.models import ObjectMeta, OwnerReference, Pod, ReplicaSet
from kframe.apiserver import APIError
from kframe.client import object_key
from kframe.controller import ControllerContext, SharedInformers
from kframe_plugins.controllers.replicaset import ReplicaSetController
from tests.plugins.controllers.replicaset_objects import replica_set


class ScriptedClient:
    """Creates succeed (named ``<generateName><n>``) unless their number is in ``fail_creates``;
    deletes of names in ``missing`` are 404s, of names in ``refuse`` 500s."""

    def __init__(
        self,
        *,
        fail_creates: set[int] | None = None,
        missing: set[str] | None = None,
        refuse: set[str] | None = None,
    ) -> None:
        self.fail_creates = fail_creates or set()
        self.missing = missing or set()
        self.refuse = refuse or set()
        self.created: list[Pod] = []
        self.deleted: list[str] = []
        self.attempts = 0
        self._n = itertools.count(1)

    async def create(self, obj: Any, *, namespace: str | None = None) -> Any:
        await asyncio.sleep(0)
        n = next(self._n)
        self.attempts += 1
        if n in self.fail_creates:
            raise APIError(403, "Forbidden", f'pods "x{n}" is forbidden: exceeded quota: q')
        meta = attrs.evolve(obj.metadata, name=f"{obj.metadata.generate_name}{n}", uid=f"u{n}")
        pod = attrs.evolve(obj, metadata=meta)
        self.created.append(pod)
        return pod

    async def delete(self, cls: type[Any], name: str, *, namespace: str | None = None) -> None:
        await asyncio.sleep(0)
        if name in self.missing:
            raise APIError(404, "NotFound", f'pods "{name}" not found')
        if name in self.refuse:
            raise APIError(500, "InternalError", "etcd went away")
        self.deleted.append(name)


def make(
    client: ScriptedClient, **options: str
) -> tuple[ReplicaSetController, list[tuple[Any, ...]]]:
    ctx = ControllerContext(
        "replicaset-controller",
        client,
        SharedInformers(client),
        options=options,  # type: ignore[arg-type]
    )
    recorded: list[tuple[Any, ...]] = []
    ctx.event = lambda obj, type_, reason, message: recorded.append((type_, reason, message))  # type: ignore[method-assign]
    return ReplicaSetController(ctx), recorded


def with_uid(rs: ReplicaSet) -> ReplicaSet:
    assert rs.metadata is not None
    return attrs.evolve(rs, metadata=attrs.evolve(rs.metadata, uid="rs-uid", generation=1))


def running(name: str, node: str = "n1", ready: bool = True) -> Pod:
    status: dict[str, Any] = {"phase": "Running"}
    if ready:
        status["conditions"] = [
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
        ]
    return from_dict(
        {
            "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "i"}]},
            "status": status,
        },
        Pod,
    )


def test_creations_are_capped_by_the_burst_and_expected() -> None:
    async def main() -> None:
        client = ScriptedClient()
        rsc, events = make(client, **{"replicaset-burst-replicas": "4"})
        rs = with_uid(replica_set(replicas=10))
        await rsc._manage(rs, [])
        assert len(client.created) == 4
        assert rsc.expectations.pending(object_key(rs)) == (4, 0)
        pod = client.created[0]
        assert pod.metadata is not None and pod.metadata.generate_name == "web-"
        assert pod.metadata.labels == {"app": "web"}
        (ref,) = pod.metadata.owner_references
        assert (ref.kind, ref.name, ref.uid, ref.controller) == (
            "ReplicaSet",
            "web",
            "rs-uid",
            True,
        )
        assert [e[1:] for e in events] == [
            ("SuccessfulCreate", f"Created pod: web-{i}") for i in range(1, 5)
        ]

    asyncio.run(main())


def test_the_default_burst_is_500() -> None:
    async def main() -> None:
        client = ScriptedClient()
        rsc, _ = make(client)
        await rsc._manage(with_uid(replica_set(replicas=1200)), [])
        assert len(client.created) == 500

    asyncio.run(main())


def test_a_failed_batch_stops_the_slow_start_and_lowers_the_expectations() -> None:
    async def main() -> None:
        # Batches 1, 2, 4, ...: the 3rd create (2nd batch) fails; the 4th runs in the same
        # batch; nothing after it is tried.
        client = ScriptedClient(fail_creates={3})
        rsc, events = make(client)
        rs = with_uid(replica_set(replicas=10))
        with pytest.raises(APIError, match="exceeded quota"):
            await rsc._manage(rs, [])
        assert client.attempts == 3 and len(client.created) == 2
        # Only the two creations that happened are still to be observed (skippedPods).
        assert rsc.expectations.pending(object_key(rs)) == (2, 0)
        failed = [e for e in events if e[1] == "FailedCreate"]
        assert failed == [
            ("Warning", "FailedCreate", 'Error creating: pods "x3" is forbidden: exceeded quota: q')
        ]

    asyncio.run(main())


def test_deletes_run_concurrently_and_a_404_counts_as_observed() -> None:
    async def main() -> None:
        client = ScriptedClient(missing={"b"})
        rsc, events = make(client)
        rs = with_uid(replica_set(replicas=1))
        pods = [running("a", "n1"), running("b", "n1", ready=False), running("c", "n2", False)]
        await rsc._manage(rs, pods)
        # The two not-ready pods go; "b" was gone already: its deletion needs no watching.
        assert client.deleted == ["c"]
        assert rsc.expectations.pending(object_key(rs)) == (0, 1)
        assert [e[1:] for e in events] == [("SuccessfulDelete", "Deleted pod: c")]

    asyncio.run(main())


def test_a_failed_delete_is_raised_with_an_event() -> None:
    async def main() -> None:
        client = ScriptedClient(refuse={"b"})
        rsc, events = make(client)
        rs = with_uid(replica_set(replicas=0))
        with pytest.raises(APIError, match="etcd went away"):
            await rsc._manage(rs, [running("a"), running("b")])
        assert client.deleted == ["a"]
        assert rsc.expectations.pending(object_key(rs)) == (0, 1)
        assert ("Warning", "FailedDelete", "Error deleting: etcd went away") in events

    asyncio.run(main())


def test_a_bad_burst_option_is_refused() -> None:
    client = ScriptedClient()
    for value in ("0", "many"):
        with pytest.raises(ValueError, match="replicaset-burst-replicas"):
            make(client, **{"replicaset-burst-replicas": value})


def test_pod_metadata_is_the_templates() -> None:
    async def main() -> None:
        client = ScriptedClient()
        rsc, _ = make(client)
        rs = with_uid(replica_set(replicas=1))
        assert rs.spec is not None and rs.spec.template is not None
        meta = ObjectMeta(labels={"app": "web", "tier": "x"}, annotations={"a": "b"})
        template = attrs.evolve(rs.spec.template, metadata=meta)
        rs = attrs.evolve(rs, spec=attrs.evolve(rs.spec, template=template))
        await rsc._manage(rs, [])
        (pod,) = client.created
        assert pod.metadata is not None
        assert pod.metadata.labels == {"app": "web", "tier": "x"}
        assert pod.metadata.annotations == {"a": "b"}

    asyncio.run(main())


def test_scale_down_ranks_by_pods_of_sibling_replica_sets_on_the_node() -> None:
    """getIndirectlyRelatedPods: the pods of every ReplicaSet with the same controller (a
    Deployment's old and new ones) count towards crowding a node."""

    async def main() -> None:
        client = ScriptedClient()
        rsc, _ = make(client)
        owner = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "d",
            "uid": "dep-uid",
            "controller": True,
        }

        def owned_rs(name: str, uid: str, replicas: int) -> ReplicaSet:
            rs = replica_set(name, replicas=replicas)
            assert rs.metadata is not None
            ref = from_dict(owner, OwnerReference)
            meta = attrs.evolve(rs.metadata, uid=uid, generation=1, owner_references=(ref,))
            rs = attrs.evolve(rs, metadata=meta)
            rsc.sets.store.put(rs)
            return rs

        new = owned_rs("new", "new-uid", 1)
        old = owned_rs("old", "old-uid", 0)

        def pod_of(rs: ReplicaSet, name: str, node: str) -> Pod:
            pod = running(name, node)
            assert pod.metadata is not None and rs.metadata is not None
            ref = from_dict(
                {**owner, "kind": "ReplicaSet", "name": rs.metadata.name, "uid": rs.metadata.uid},
                OwnerReference,
            )
            pod = attrs.evolve(pod, metadata=attrs.evolve(pod.metadata, owner_references=(ref,)))
            rsc._pod_observed(pod)
            return pod

        mine = [pod_of(new, "a", "n1"), pod_of(new, "b", "n2")]
        pod_of(old, "x", "n2")
        pod_of(old, "y", "n2")
        await rsc._manage(new, mine)
        assert client.deleted == ["b"]  # n2 holds three of the Deployment's pods

        # Without a controller, ranks are all equal (upstream: no related pods).
        client.deleted.clear()
        alone = with_uid(replica_set("alone", replicas=1))
        older = attrs.evolve(mine[0], metadata=attrs.evolve(mine[0].metadata, uid="zz"))  # type: ignore[arg-type]
        await rsc._manage(alone, [older, mine[1]])
        assert len(client.deleted) == 1

    asyncio.run(main())
