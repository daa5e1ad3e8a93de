"""Lists (selectors, pagination) and watches (resume, selectors, 410 after compaction)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.apiserver.conftest import Api, Scenario

CM = "/api/v1/namespaces/default/configmaps"


def configmap(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels or {}},
    }


def names(listed: dict[str, Any]) -> list[str]:
    return [i["metadata"]["name"] for i in listed["items"]]


def test_selectors(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        for i in range(6):
            await api.call("POST", CM, configmap(f"c{i}", {"tier": "a" if i % 2 else "b"}))
        _, listed = await api.call("GET", CM, params={"labelSelector": "tier=a"})
        assert names(listed) == ["c1", "c3", "c5"]
        assert listed["kind"] == "ConfigMapList" and listed["metadata"]["resourceVersion"]
        _, listed = await api.call("GET", CM, params={"labelSelector": "tier in (a,b),tier!=b"})
        assert names(listed) == ["c1", "c3", "c5"]
        _, listed = await api.call("GET", CM, params={"fieldSelector": "metadata.name=c2"})
        assert names(listed) == ["c2"]
        _, listed = await api.call(
            "GET", "/api/v1/configmaps", params={"fieldSelector": "metadata.namespace=default"}
        )
        assert len(listed["items"]) == 6
        code, status = await api.call("GET", CM, params={"labelSelector": "a in (b"})
        assert code == 400 and status["reason"] == "BadRequest"

    run_api(scenario)


def test_pagination_is_consistent(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        for i in range(7):
            await api.call("POST", CM, configmap(f"c{i}"))
        _, page = await api.call("GET", CM, params={"limit": "3"})
        seen = names(page)
        assert seen == ["c0", "c1", "c2"] and page["metadata"]["remainingItemCount"] == 4
        await api.call("DELETE", f"{CM}/c5")
        await api.call("POST", CM, configmap("c35"))
        while page["metadata"].get("continue"):
            _, page = await api.call(
                "GET", CM, params={"limit": "3", "continue": page["metadata"]["continue"]}
            )
            seen += names(page)
        assert seen == [f"c{i}" for i in range(7)]
        code, _ = await api.call("GET", CM, params={"continue": "garbage"})
        assert code == 400

    run_api(scenario)


def test_watch_from_a_resource_version(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        _, a = await api.call("POST", CM, configmap("a"))
        rv = a["metadata"]["resourceVersion"]
        await api.call("PUT", f"{CM}/a", {**a, "data": {"k": "v"}})
        await api.call("POST", CM, configmap("b", {"x": "1"}))
        await api.call("DELETE", f"{CM}/a")
        events = await api.watch(CM, {"resourceVersion": rv}, 3)
        assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
            ("MODIFIED", "a"),
            ("ADDED", "b"),
            ("DELETED", "a"),
        ]
        selected = await api.watch(CM, {"resourceVersion": rv, "labelSelector": "x=1"}, 1)
        assert [e["object"]["metadata"]["name"] for e in selected] == ["b"]

    run_api(scenario)


def test_watch_without_resource_version_starts_with_current_state(
    run_api: Callable[[Scenario], None],
) -> None:
    async def scenario(api: Api) -> None:
        await api.call("POST", CM, configmap("a"))
        events = await api.watch(CM, {}, 1)
        assert events[0]["type"] == "ADDED" and events[0]["object"]["metadata"]["name"] == "a"

    run_api(scenario)


def test_watch_and_list_below_compaction_are_gone(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        _, a = await api.call("POST", CM, configmap("a"))
        await api.call("PUT", f"{CM}/a", {**a, "data": {"k": "v"}})
        await api.call("POST", CM, configmap("b"))
        await api.server.store.compact(await api.server.store.revision())
        events = await api.watch(CM, {"resourceVersion": a["metadata"]["resourceVersion"]}, 1)
        assert events[0]["type"] == "ERROR"
        assert events[0]["object"]["code"] == 410
        assert events[0]["object"]["message"].startswith("too old resource version")

    run_api(scenario)


def test_send_initial_events_ends_with_a_bookmark(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        await api.call("POST", CM, configmap("a"))
        events = await api.watch(
            CM,
            {
                "sendInitialEvents": "true",
                "allowWatchBookmarks": "true",
                "resourceVersionMatch": "NotOlderThan",
            },
            2,
        )
        assert events[0]["type"] == "ADDED"
        assert events[1]["type"] == "BOOKMARK"
        assert events[1]["object"]["metadata"]["annotations"] == {
            "k8s.io/initial-events-end": "true"
        }
        code, _status = await api.call(
            "GET", CM, params={"watch": "true", "sendInitialEvents": "true"}
        )
        assert code == 422

    run_api(scenario)


def test_table_output(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        await api.call("POST", CM, configmap("a"))
        _, table = await api.call(
            "GET",
            CM,
            headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"},
        )
        assert table["kind"] == "Table"
        assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
        assert table["rows"][0]["cells"][:2] == ["a", 0]
        assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"

    run_api(scenario)


def test_watch_timeout_ends_the_stream_cleanly(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        _, listed = await api.call("GET", CM)
        async with api.session.get(
            api.server.url + CM,
            params={
                "watch": "true",
                "timeoutSeconds": "1",
                "resourceVersion": listed["metadata"]["resourceVersion"],
            },
        ) as resp:
            assert resp.status == 200
            assert await resp.read() == b""  # no events, no error, a clean end
        code, _ = await api.call("GET", CM)  # and the server is still fine
        assert code == 200

    run_api(scenario)
