"""The official ``kubernetes`` Python client against ``kframe apiserver``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes", reason="pip install kubernetes (a dev dependency)")
from kubernetes import client, config, watch  # noqa: E402

from kframe.testing.cluster import running_apiserver  # noqa: E402

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def core(apiserver: Path) -> client.CoreV1Api:
    api = config.new_client_from_config(str(apiserver))
    return client.CoreV1Api(api)


def test_crud_and_conflict(core: client.CoreV1Api) -> None:
    body = client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="py", labels={"a": "b"}), data={"k": "v"}
    )
    created = core.create_namespaced_config_map("default", body)
    assert created.metadata.uid and created.metadata.resource_version
    assert [
        c.metadata.name
        for c in core.list_namespaced_config_map("default", label_selector="a=b").items
    ] == ["py"]
    created.data = {"k": "v2"}
    replaced = core.replace_namespaced_config_map("py", "default", created)
    assert replaced.data == {"k": "v2"}
    patched = core.patch_namespaced_config_map("py", "default", {"data": {"z": "1"}})
    assert patched.data == {"k": "v2", "z": "1"}
    with pytest.raises(client.ApiException) as conflict:
        core.replace_namespaced_config_map("py", "default", created)
    assert conflict.value.status == 409
    core.delete_namespaced_config_map("py", "default")
    with pytest.raises(client.ApiException) as missing:
        core.read_namespaced_config_map("py", "default")
    assert missing.value.status == 404


def test_watch_resumes_from_a_resource_version(core: client.CoreV1Api) -> None:
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map(
        "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w1"))
    )
    core.create_namespaced_config_map(
        "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w2"))
    )
    seen = []
    for event in watch.Watch().stream(
        core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=2
    ):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 2:
            break
    assert seen == [("ADDED", "w1"), ("ADDED", "w2")]


def test_watch_from_a_compacted_version_gets_410(tmp_path: Path) -> None:
    with running_apiserver(tmp_path, "--etcd-compaction-interval", "0.5") as kubeconfig:
        core = client.CoreV1Api(config.new_client_from_config(str(kubeconfig)))
        old = core.list_namespaced_config_map("default").metadata.resource_version
        for i in range(3):
            core.create_namespaced_config_map(
                "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"c{i}"))
            )
        time.sleep(1.5)  # two compaction intervals: the old revision is gone
        with pytest.raises(client.ApiException) as gone:
            for _ in watch.Watch().stream(
                core.list_namespaced_config_map, "default", resource_version=old, timeout_seconds=5
            ):
                pass
        assert gone.value.status == 410
