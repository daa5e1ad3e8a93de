"""Namespace deletion as upstream's namespace REST: DELETE marks the namespace Terminating, the
``kubernetes`` spec finalizer holds it until ``namespaces/{name}/finalize`` clears it; and the
garbage collector's propagation finalizers on DELETE (deletionFinalizersForGarbageCollection)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.apiserver.conftest import Api, Scenario

NS = "/api/v1/namespaces"


def _namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def _configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


def test_delete_marks_terminating_until_finalized(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        code, created = await api.call("POST", NS, _namespace("doomed"))
        assert code == 201 and created["spec"]["finalizers"] == ["kubernetes"]
        code, marked = await api.call("DELETE", f"{NS}/doomed")
        assert code == 200
        assert marked["status"]["phase"] == "Terminating"
        assert marked["metadata"]["deletionTimestamp"]
        # A second DELETE changes nothing while spec.finalizers remain.
        code, again = await api.call("DELETE", f"{NS}/doomed")
        assert code == 200
        assert again["metadata"]["resourceVersion"] == marked["metadata"]["resourceVersion"]
        # No new content in a terminating namespace.
        code, status = await api.call("POST", f"{NS}/doomed/configmaps", _configmap("c"))
        assert code == 403 and status["details"]["causes"][0]["reason"] == "NamespaceTerminating"
        # A main-resource update cannot drop spec.finalizers, and keeps the namespace.
        code, still = await api.call("GET", f"{NS}/doomed")
        dropped = {**still, "spec": {"finalizers": []}}
        code, updated = await api.call("PUT", f"{NS}/doomed", dropped)
        assert code == 200 and updated["spec"]["finalizers"] == ["kubernetes"]
        # A status update keeps it too.
        code, _ = await api.call("PUT", f"{NS}/doomed/status", updated)
        assert code == 200
        code, _ = await api.call("GET", f"{NS}/doomed/finalize")
        assert code == 405
        # finalize clears spec.finalizers: the namespace goes.
        code, current = await api.call("GET", f"{NS}/doomed")
        code, _ = await api.call("PUT", f"{NS}/doomed/finalize", {**current, "spec": {}})
        assert code == 200
        code, _ = await api.call("GET", f"{NS}/doomed")
        assert code == 404

    run_api(scenario)


def test_finalize_on_a_live_namespace_keeps_it(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        await api.call("POST", NS, _namespace("live"))
        code, current = await api.call("GET", f"{NS}/live")
        body = {**current, "spec": {"finalizers": []}, "status": {"phase": "Terminating"}}
        code, finalized = await api.call("PUT", f"{NS}/live/finalize", body)
        assert code == 200
        assert not finalized.get("spec", {}).get("finalizers")
        assert finalized["status"]["phase"] == "Active"  # finalize does not write status
        code, status = await api.call(
            "PUT", f"{NS}/live/finalize", {**finalized, "spec": {"finalizers": ["bad/"]}}
        )
        assert code == 422, status

    run_api(scenario)


def test_namespace_delete_records_propagation(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        await api.call("POST", NS, _namespace("kept"))
        code, marked = await api.call(
            "DELETE", f"{NS}/kept", params={"propagationPolicy": "Orphan"}
        )
        assert code == 200 and marked["metadata"]["finalizers"] == ["orphan"]
        code, _ = await api.call("PUT", f"{NS}/kept/finalize", {**marked, "spec": {}})
        code, held = await api.call("GET", f"{NS}/kept")
        assert code == 200  # the orphan finalizer still holds it
        released = {**held, "metadata": {**held["metadata"], "finalizers": []}}
        code, _ = await api.call("PUT", f"{NS}/kept", released)
        assert code == 200
        code, _ = await api.call("GET", f"{NS}/kept")
        assert code == 404

    run_api(scenario)


def test_explicit_policy_replaces_the_objects_own(run_api: Callable[[Scenario], None]) -> None:
    cms = "/api/v1/namespaces/default/configmaps"

    async def scenario(api: Api) -> None:
        cm = _configmap("o")
        cm["metadata"]["finalizers"] = ["orphan"]
        await api.call("POST", cms, cm)
        # Foreground replaces orphan.
        code, marked = await api.call(
            "DELETE", f"{cms}/o", params={"propagationPolicy": "Foreground"}
        )
        assert code == 200 and marked["metadata"]["finalizers"] == ["foregroundDeletion"]
        # The same policy again changes nothing.
        code, again = await api.call(
            "DELETE", f"{cms}/o", params={"propagationPolicy": "Foreground"}
        )
        assert again["metadata"]["resourceVersion"] == marked["metadata"]["resourceVersion"]
        # Without a policy the object's own finalizer stays.
        code, same = await api.call("DELETE", f"{cms}/o")
        assert same["metadata"]["finalizers"] == ["foregroundDeletion"]
        # Background clears both: nothing holds it any more.
        code, _ = await api.call("DELETE", f"{cms}/o", params={"propagationPolicy": "Background"})
        assert code == 200
        code, _ = await api.call("GET", f"{cms}/o")
        assert code == 404

    run_api(scenario)
