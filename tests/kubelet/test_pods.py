"""Pod lifecycle on the kubelet: restarts and CrashLoopBackOff, restart policies, init
containers, the environment, admission, image pulls and graceful deletion (fake clock)."""

from __future__ import annotations

import asyncio
from typing import Any

from kframe.api import from_dict
from kframe.api.models import ConfigMap, Pod, Secret
from tests.kubelet.harness import Cluster, cluster, pod_body


def run(test: Any) -> None:
    asyncio.run(test())


def _crashing(
    name: str, *, policy: str = "Always", code: int = 1, after: str = "1s"
) -> dict[str, Any]:
    return pod_body(
        name,
        restartPolicy=policy,
        annotations={"fake.kframe.io/exit-after": after, "fake.kframe.io/exit-code": str(code)},
    )


def test_a_crashing_container_backs_off_10s_then_20s() -> None:
    async def main() -> None:
        async with cluster() as c:
            pod = await c.create_pod(_crashing("crash"))
            uid = pod.metadata.uid

            async def waiting(count: int) -> Any:
                cs = await c.container("crash")
                ok = cs and cs.state.waiting and cs.state.waiting.reason == "CrashLoopBackOff"
                return cs if ok and cs.restart_count == count else None

            cs = await c.eventually(lambda: waiting(1))
            assert cs.state.waiting.message == (
                f"back-off 10s restarting failed container=c pod=crash_default({uid})"
            )
            assert cs.last_state.terminated.exit_code == 1
            assert cs.last_state.terminated.reason == "Error"
            assert not cs.ready
            cs = await c.eventually(lambda: waiting(2))
            assert cs.state.waiting.message.startswith("back-off 20s ")
            pod = await c.pod("crash")
            assert pod.status.phase == "Running"  # restartPolicy Always: restarting

    run(main)


def test_restart_policy_never_and_on_failure() -> None:
    async def main() -> None:
        async with cluster() as c:
            await c.create_pod(_crashing("ok", policy="Never", code=0))
            await c.create_pod(_crashing("bad", policy="Never", code=2))
            await c.create_pod(_crashing("retry", policy="OnFailure", code=0))
            pod = await c.eventually(lambda: c.phase("ok", "Succeeded"))
            cs = pod.status.container_statuses[0]
            assert cs.state.terminated.reason == "Completed" and cs.restart_count == 0
            conds = {x.type: (x.status, x.reason) for x in pod.status.conditions}
            assert conds["Ready"] == ("False", "PodCompleted")
            pod = await c.eventually(lambda: c.phase("bad", "Failed"))
            assert pod.status.container_statuses[0].state.terminated.exit_code == 2
            await c.eventually(lambda: c.phase("retry", "Succeeded"))

    run(main)


def test_on_failure_restarts_a_failed_container() -> None:
    async def main() -> None:
        async with cluster() as c:
            await c.create_pod(_crashing("flaky", policy="OnFailure", code=1))

            async def restarted() -> Any:
                cs = await c.container("flaky")
                return cs if cs and cs.restart_count >= 1 else None

            await c.eventually(restarted)
            assert (await c.pod("flaky")).status.phase == "Running"

    run(main)


def test_init_containers_run_in_order_before_the_app() -> None:
    async def main() -> None:
        async with cluster() as c:
            body = pod_body(
                "init",
                initContainers=[
                    {"name": "one", "image": "busybox:1.36"},
                    {"name": "two", "image": "busybox:1.36"},
                ],
                annotations={
                    "fake.kframe.io/exit-after.one": "5s",
                    "fake.kframe.io/exit-after.two": "5s",
                },
            )
            await c.create_pod(body)

            async def one_running() -> Any:
                cs = await c.container("init", "one")
                return cs if cs and cs.state.running else None

            await c.eventually(one_running)
            pod = await c.pod("init")
            assert pod.status.phase == "Pending"
            conds = {x.type: x for x in pod.status.conditions}
            assert conds["Initialized"].status == "False"
            assert conds["Initialized"].reason == "ContainersNotInitialized"
            assert conds["Initialized"].message == "containers with incomplete status: [one two]"
            app = pod.status.container_statuses[0]
            assert app.state.waiting.reason == "PodInitializing"
            two = await c.container("init", "two")
            assert two.state.waiting is not None
            pod = await c.eventually(lambda: c.phase("init", "Running"))
            inits = pod.status.init_container_statuses
            assert [s.state.terminated.reason for s in inits] == ["Completed", "Completed"]
            assert inits[0].state.terminated.finished_at <= inits[1].state.terminated.started_at
            assert all(s.ready for s in inits)
            created = [cfg.metadata.name for cfg in c.runtimes[0].created]
            assert created == ["one", "two", "c"]

    run(main)


def test_the_environment_is_resolved() -> None:
    async def main() -> None:
        async with cluster() as c:
            await c.client.create(
                from_dict(
                    {
                        "metadata": {"name": "cfg", "namespace": "default"},
                        "data": {"color": "blue", "size": "L"},
                    },
                    ConfigMap,
                )
            )
            await c.client.create(
                from_dict(
                    {
                        "metadata": {"name": "sec", "namespace": "default"},
                        "data": {"token": "czNjcjN0"},
                    },
                    Secret,
                )
            )
            container = {
                "name": "c",
                "image": "busybox:1.36",
                "command": ["sh", "-c", "echo $(GREETING)"],
                "env": [
                    {"name": "GREETING", "value": "hello $(NAME)"},
                    {"name": "NAME", "value": "world"},
                    {"name": "AGAIN", "value": "$(NAME)-$$(NAME)"},
                    {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                    {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {
                        "name": "APP",
                        "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}},
                    },
                    {
                        "name": "COLOR",
                        "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "color"}},
                    },
                    {
                        "name": "TOKEN",
                        "valueFrom": {"secretKeyRef": {"name": "sec", "key": "token"}},
                    },
                ],
                "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
            }
            body = pod_body("env", containers=[container])
            body["metadata"]["labels"] = {"app": "web"}
            await c.create_pod(body)
            pod = await c.eventually(lambda: c.phase("env", "Running"))
            env = c.runtimes[0].env("c")
            assert env["GREETING"] == "hello $(NAME)"  # NAME is defined after it
            assert env["AGAIN"] == "world-$(NAME)"
            assert env["POD"] == "env" and env["NODE"] == "node-0" and env["APP"] == "web"
            assert env["IP"] == pod.status.pod_ip
            assert env["COLOR"] == "blue" and env["TOKEN"] == "s3cr3t"
            assert env["CFG_size"] == "L"
            config = c.runtimes[0].created[-1]
            assert config.command == ("sh", "-c", "echo hello $(NAME)")

    run(main)


def test_a_missing_config_map_is_a_create_container_config_error() -> None:
    async def main() -> None:
        async with cluster() as c:
            container = {
                "name": "c",
                "image": "busybox:1.36",
                "env": [
                    {"name": "X", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k"}}}
                ],
            }
            await c.create_pod(pod_body("cfgerr", containers=[container]))

            async def waiting() -> Any:
                cs = await c.container("cfgerr")
                ok = (
                    cs
                    and cs.state.waiting
                    and cs.state.waiting.reason == "CreateContainerConfigError"
                )
                return cs if ok else None

            cs = await c.eventually(waiting)
            assert cs.state.waiting.message == 'configmap "nope" not found'
            await c.client.create(
                from_dict(
                    {"metadata": {"name": "nope", "namespace": "default"}, "data": {"k": "v"}},
                    ConfigMap,
                )
            )
            await c.eventually(lambda: c.phase("cfgerr", "Running"))

    run(main)


def test_pods_that_do_not_fit_are_rejected() -> None:
    async def main() -> None:
        async with cluster(capacity={"cpu": "2", "memory": "4Gi", "pods": "3"}) as c:
            big = pod_body(
                "big",
                containers=[
                    {"name": "c", "image": "busybox:1.36", "resources": {"requests": {"cpu": "3"}}}
                ],
            )
            await c.create_pod(big)
            pod = await c.eventually(lambda: c.phase("big", "Failed"))
            assert pod.status.reason == "OutOfcpu"
            assert pod.status.message == (
                "Pod was rejected: Node didn't have enough resource: cpu, requested: 3000, "
                "used: 0, capacity: 2000"
            )
            picky = pod_body("picky", nodeSelector={"disk": "ssd"})
            await c.create_pod(picky)
            pod = await c.eventually(lambda: c.phase("picky", "Failed"))
            assert pod.status.reason == "NodeAffinity"
            assert pod.status.message == (
                "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node "
                "affinity/selector"
            )
            for i in range(3):
                await c.create_pod(pod_body(f"p{i}"))
            for i in range(3):
                await c.eventually(lambda i=i: c.phase(f"p{i}", "Running"))
            await c.create_pod(pod_body("p3"))
            pod = await c.eventually(lambda: c.phase("p3", "Failed"))
            assert pod.status.reason == "OutOfpods"

    run(main)


def test_image_pull_failures_and_never_pull() -> None:
    async def main() -> None:
        async with cluster() as c:
            await c.create_pod(
                pod_body("pullfail", annotations={"fake.kframe.io/fail-pull": "no such image"})
            )

            async def reason(name: str, want: str) -> Any:
                cs = await c.container(name)
                return cs if cs and cs.state.waiting and cs.state.waiting.reason == want else None

            cs = await c.eventually(lambda: reason("pullfail", "ErrImagePull"))
            assert cs.state.waiting.message == (
                "failed to pull image 'busybox:1.36': no such image"
            )
            cs = await c.eventually(lambda: reason("pullfail", "ImagePullBackOff"))
            assert cs.state.waiting.message == 'Back-off pulling image "busybox:1.36"'
            never = pod_body(
                "never", containers=[{"name": "c", "image": "absent:1", "imagePullPolicy": "Never"}]
            )
            await c.create_pod(never)
            cs = await c.eventually(lambda: reason("never", "ErrImageNeverPull"))
            assert cs.state.waiting.message == (
                'Container image "absent:1" is not present with pull policy of Never'
            )

    run(main)


async def _gone(c: Cluster, name: str) -> bool:
    try:
        await c.pod(name)
    except Exception as exc:
        return getattr(exc, "code", None) == 404
    return False


def test_a_deleted_pod_is_stopped_within_its_grace_period_then_removed() -> None:
    async def main() -> None:
        async with cluster() as c:
            body = pod_body(
                "slow",
                terminationGracePeriodSeconds=30,
                annotations={"fake.kframe.io/ignore-sigterm": "true"},
            )
            await c.create_pod(body)
            await c.eventually(lambda: c.phase("slow", "Running"))
            await c.client.delete(Pod, "slow", namespace="default")
            await c.advance(10)
            assert not await _gone(c, "slow")  # still stopping: SIGTERM ignored
            await c.eventually(lambda: _gone(c, "slow"), limit=40)
            assert c.kubelets[0].workers == {}
            quick = pod_body("quick")
            await c.create_pod(quick)
            await c.eventually(lambda: c.phase("quick", "Running"))
            await c.client.delete(Pod, "quick", namespace="default")
            await c.eventually(lambda: _gone(c, "quick"), limit=2)

    run(main)


def test_the_status_is_written_only_when_it_changes() -> None:
    async def main() -> None:
        async with cluster() as c:
            await c.create_pod(pod_body("still"))
            pod = await c.eventually(lambda: c.phase("still", "Running"))
            await c.advance(5)
            pod = await c.pod("still")
            version = pod.metadata.resource_version
            await c.advance(60, step=2)
            assert (await c.pod("still")).metadata.resource_version == version

    run(main)


async def _events(c: Cluster, pod: str) -> list[Any]:
    from kframe.api.models import Event

    items = (await c.client.list(Event, namespace="default")).items
    return [e for e in items if e.involved_object and e.involved_object.name == pod]


def test_events_tell_what_happened() -> None:
    async def main() -> None:
        async with cluster(capacity={"cpu": "1", "memory": "1Gi"}) as c:
            await c.create_pod(pod_body("web"))
            await c.eventually(lambda: c.phase("web", "Running"))

            async def reasons(pod: str, *want: str) -> Any:
                got = {e.reason: e for e in await _events(c, pod)}
                return got if set(want) <= set(got) else None

            got = await c.eventually(
                lambda: reasons("web", "Pulling", "Pulled", "Created", "Started")
            )
            assert got["Pulling"].message == 'Pulling image "busybox:1.36"'
            assert got["Pulled"].message.startswith(
                'Successfully pulled image "busybox:1.36" in 0s'
            )
            assert got["Created"].message == "Created container: c"
            assert got["Started"].message == "Started container c"
            assert got["Started"].source.component == "kubelet"
            assert got["Started"].source.host == "node-0"
            assert got["Started"].involved_object.field_path == "spec.containers{c}"
            await c.create_pod(_crashing("crash"))
            got = await c.eventually(lambda: reasons("crash", "BackOff"))
            assert got["BackOff"].type == "Warning"
            assert got["BackOff"].message.startswith(
                "Back-off restarting failed container c in pod crash_default("
            )
            big = pod_body(
                "big",
                containers=[
                    {"name": "c", "image": "busybox:1.36", "resources": {"requests": {"cpu": "2"}}}
                ],
            )
            await c.create_pod(big)
            got = await c.eventually(lambda: reasons("big", "OutOfcpu"))
            assert got["OutOfcpu"].message == (
                "Node didn't have enough resource: cpu, requested: 2000, used: 0, capacity: 1000"
            )

    run(main)


def test_active_deadline_fails_the_pod() -> None:
    async def main() -> None:
        async with cluster() as c:
            await c.create_pod(pod_body("late", activeDeadlineSeconds=30))
            await c.eventually(lambda: c.phase("late", "Running"))
            await c.advance(10)
            assert (await c.pod("late")).status.phase == "Running"
            pod = await c.eventually(lambda: c.phase("late", "Failed"), limit=30)
            assert pod.status.reason == "DeadlineExceeded"
            assert (
                pod.status.message
                == "Pod was active on the node longer than the specified deadline"
            )
            assert pod.status.container_statuses[0].state.terminated is not None

    run(main)


def test_a_dead_sandbox_is_replaced_and_init_containers_run_again() -> None:
    async def main() -> None:
        async with cluster() as c:
            body = pod_body("phoenix", initContainers=[{"name": "setup", "image": "busybox:1.36"}])
            body["metadata"]["annotations"] = {"fake.kframe.io/exit-after.setup": "1s"}
            await c.create_pod(body)
            pod = await c.eventually(lambda: c.phase("phoenix", "Running"))
            first_ip = pod.status.pod_ip
            worker = next(iter(c.kubelets[0].workers.values()))
            await c.runtimes[0].runtime_service.stop_pod_sandbox(worker.sandbox_id)

            async def again() -> Any:
                cs = await c.container("phoenix")
                ok = cs and cs.state.running and cs.restart_count == 1
                return cs if ok else None

            await c.eventually(again)
            setup = await c.container("phoenix", "setup")
            assert setup.restart_count == 1 and setup.state.terminated.reason == "Completed"
            names = [cfg.metadata.name for cfg in c.runtimes[0].created]
            assert names == ["setup", "c", "setup", "c"]
            assert worker.sandbox_attempt == 1
            assert (await c.pod("phoenix")).status.pod_ip != first_ip or first_ip

    run(main)


def test_a_dead_sandbox_ends_a_never_restarting_pod() -> None:
    async def main() -> None:
        async with cluster(runtime_config={"stop_exit_code": 137}) as c:
            await c.create_pod(pod_body("once", restartPolicy="Never"))
            await c.eventually(lambda: c.phase("once", "Running"))
            worker = next(iter(c.kubelets[0].workers.values()))
            await c.runtimes[0].runtime_service.stop_pod_sandbox(worker.sandbox_id)
            pod = await c.eventually(lambda: c.phase("once", "Failed"))
            assert pod.status.container_statuses[0].state.terminated.exit_code == 137

    run(main)


def test_pre_stop_runs_before_the_container_is_stopped() -> None:
    async def main() -> None:
        async with cluster() as c:
            container = {
                "name": "c",
                "image": "busybox:1.36",
                "lifecycle": {"preStop": {"exec": {"command": ["echo", "bye"]}}},
            }
            await c.create_pod(pod_body("polite", containers=[container]))
            await c.eventually(lambda: c.phase("polite", "Running"))
            await c.client.delete(Pod, "polite", namespace="default")
            await c.eventually(lambda: _gone(c, "polite"), limit=5)
            assert [cmd for _, cmd in c.runtimes[0].execs] == [("echo", "bye")]

    run(main)


def test_a_container_that_ran_ten_minutes_restarts_without_back_off() -> None:
    async def main() -> None:
        async with cluster() as c:
            await c.create_pod(_crashing("long", after="11m"))

            async def restarts(n: int) -> Any:
                cs = await c.container("long")
                assert not (
                    cs and cs.state.waiting and cs.state.waiting.reason == "CrashLoopBackOff"
                )
                return cs if cs and cs.restart_count >= n and cs.state.running else None

            await c.eventually(lambda: restarts(2), limit=1500, step=5)

    run(main)


def test_service_links_become_variables() -> None:
    async def main() -> None:
        from kframe.api.models import Service

        async with cluster() as c:
            svc = {
                "metadata": {"name": "web-api", "namespace": "default"},
                "spec": {
                    "clusterIP": "10.96.0.42",
                    "ports": [
                        {"name": "http", "port": 80},
                        {"name": "dns", "port": 53, "protocol": "UDP"},
                    ],
                },
            }
            await c.client.create(from_dict(svc, Service))
            container = {
                "name": "c",
                "image": "busybox:1.36",
                "env": [{"name": "URL", "value": "http://$(WEB_API_SERVICE_HOST)"}],
            }
            await c.create_pod(pod_body("linked", containers=[container]))
            await c.create_pod(pod_body("unlinked", enableServiceLinks=False))
            await c.eventually(lambda: c.phase("linked", "Running"))
            await c.eventually(lambda: c.phase("unlinked", "Running"))
            by_pod = {cfg.labels["io.kubernetes.pod.name"]: cfg for cfg in c.runtimes[0].created}
            first = {kv.key: kv.value for kv in by_pod["linked"].envs}
            second = {kv.key: kv.value for kv in by_pod["unlinked"].envs}
            assert first["URL"] == "http://10.96.0.42"
            assert first["WEB_API_SERVICE_HOST"] == "10.96.0.42"
            assert first["WEB_API_SERVICE_PORT"] == "80"
            assert first["WEB_API_SERVICE_PORT_DNS"] == "53"
            assert first["WEB_API_PORT"] == "tcp://10.96.0.42:80"
            assert first["WEB_API_PORT_53_UDP_PROTO"] == "udp"
            assert first["WEB_API_PORT_80_TCP_ADDR"] == "10.96.0.42"
            assert not any(k.startswith("WEB_API") for k in second)

    run(main)


def test_probes_decide_ready_and_liveness_restarts() -> None:
    async def main() -> None:
        async with cluster() as c:
            probe = {"exec": {"command": ["check"]}, "periodSeconds": 5, "failureThreshold": 1}
            unready = pod_body(
                "unready",
                containers=[{"name": "c", "image": "busybox:1.36", "readinessProbe": probe}],
                annotations={"fake.kframe.io/exec-exit-code": "1"},
            )
            ready = pod_body(
                "ready",
                containers=[{"name": "c", "image": "busybox:1.36", "readinessProbe": probe}],
                annotations={"fake.kframe.io/exec-exit-code": "0"},
            )
            dying = pod_body(
                "dying",
                containers=[{"name": "c", "image": "busybox:1.36", "livenessProbe": probe}],
                annotations={"fake.kframe.io/exec-exit-code": "1"},
            )
            for body in (unready, ready, dying):
                await c.create_pod(body)

            async def is_ready(name: str) -> Any:
                pod = await c.pod(name)
                conds = {x.type: x.status for x in (pod.status.conditions if pod.status else ())}
                return pod if conds.get("Ready") == "True" else None

            await c.eventually(lambda: is_ready("ready"))
            pod = await c.pod("unready")
            assert pod.status.phase == "Running"
            await c.advance(30)
            pod = await c.pod("unready")
            assert pod.status.container_statuses[0].ready is False
            assert {x.type: x.status for x in pod.status.conditions}["Ready"] == "False"

            async def restarted() -> Any:
                cs = await c.container("dying")
                return cs if cs and cs.restart_count >= 1 else None

            await c.eventually(restarted, limit=60)
            reasons = {e.reason for e in await _events(c, "dying")}
            assert {"Unhealthy", "Killing"} <= reasons

    run(main)


def test_a_liveness_kill_uses_the_probes_own_grace_period() -> None:
    """A probe's terminationGracePeriodSeconds overrides the pod's for the kill it causes."""

    async def main() -> None:
        async with cluster() as c:
            probe = {
                "exec": {"command": ["check"]},
                "periodSeconds": 5,
                "failureThreshold": 1,
                "terminationGracePeriodSeconds": 3,
            }
            body = pod_body(
                "dying",
                containers=[{"name": "c", "image": "busybox:1.36", "livenessProbe": probe}],
                annotations={"fake.kframe.io/exec-exit-code": "1"},
                terminationGracePeriodSeconds=60,
            )
            await c.create_pod(body)

            async def restarted() -> Any:
                cs = await c.container("dying")
                return cs if cs and cs.restart_count >= 1 else None

            await c.eventually(restarted, limit=60)
            assert c.runtimes[0].stops and c.runtimes[0].stops[0][1] == 3

    run(main)


def test_network_probes_pass_on_a_runtime_whose_pod_ips_are_make_believe() -> None:
    """The fake runtime declares its pod IPs unreachable: httpGet and tcpSocket probes pass
    without connecting, so a fake node's pods become Ready as on KWOK."""

    async def main() -> None:
        async with cluster() as c:
            probes = {
                "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1},
                "livenessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1},
            }
            container = {"name": "c", "image": "busybox:1.36", **probes}
            await c.create_pod(pod_body("web", containers=[container]))

            async def is_ready() -> Any:
                pod = await c.pod("web")
                conds = {x.type: x.status for x in (pod.status.conditions if pod.status else ())}
                return pod if conds.get("Ready") == "True" else None

            await c.eventually(is_ready)
            await c.advance(30)
            cs = await c.container("web")
            assert cs is not None and cs.restart_count == 0 and cs.ready is True

    run(main)


def test_a_failing_init_container_is_retried_unless_never() -> None:
    async def main() -> None:
        async with cluster() as c:
            for name, policy in (("retry", "Always"), ("never", "Never")):
                body = pod_body(
                    name,
                    restartPolicy=policy,
                    initContainers=[{"name": "setup", "image": "busybox:1.36"}],
                    annotations={
                        "fake.kframe.io/exit-after.setup": "1s",
                        "fake.kframe.io/exit-code.setup": "1",
                    },
                )
                await c.create_pod(body)

            async def init_restarted() -> Any:
                cs = await c.container("retry", "setup")
                return cs if cs and cs.restart_count >= 2 else None

            cs = await c.eventually(init_restarted)
            assert (await c.pod("retry")).status.phase == "Pending"
            pod = await c.eventually(lambda: c.phase("never", "Failed"))
            assert pod.status.init_container_statuses[0].state.terminated.exit_code == 1
            assert pod.status.container_statuses[0].state.waiting.reason == "PodInitializing"
            assert cs.last_state.terminated.exit_code == 1

    run(main)


def test_volumes_are_set_up_and_mounted(tmp_path: Any) -> None:
    async def main() -> None:
        async with cluster(root_dir=str(tmp_path)) as c:
            container = {
                "name": "c",
                "image": "busybox:1.36",
                "volumeMounts": [
                    {"name": "scratch", "mountPath": "/scratch"},
                    {"name": "cfg", "mountPath": "/etc/cfg", "readOnly": True},
                    {"name": "info", "mountPath": "/etc/info"},
                ],
            }
            body = pod_body(
                "vols",
                containers=[container],
                volumes=[
                    {"name": "scratch", "emptyDir": {}},
                    {
                        "name": "cfg",
                        "configMap": {
                            "name": "settings",
                            "items": [{"key": "a", "path": "x/a.txt"}],
                        },
                    },
                    {
                        "name": "info",
                        "downwardAPI": {
                            "items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]
                        },
                    },
                ],
            )
            pod = await c.create_pod(body)

            async def failed_mount() -> Any:
                return [e for e in await _events(c, "vols") if e.reason == "FailedMount"]

            (event,) = await c.eventually(failed_mount)
            assert event.message == (
                'MountVolume.SetUp failed for volume "cfg" : configmap "settings" not found'
            )
            assert (await c.container("vols")).state.waiting.reason == "ContainerCreating"
            await c.client.create(
                from_dict(
                    {"metadata": {"name": "settings", "namespace": "default"}, "data": {"a": "1"}},
                    ConfigMap,
                )
            )
            await c.eventually(lambda: c.phase("vols", "Running"), limit=60)
            config = c.runtimes[0].created[-1]
            mounts = {m.container_path: m for m in config.mounts}
            base = tmp_path / "pods" / pod.metadata.uid / "volumes"
            assert mounts["/scratch"].host_path == str(base / "kubernetes.io~empty-dir" / "scratch")
            assert mounts["/etc/cfg"].readonly
            cfg = base / "kubernetes.io~configmap" / "cfg" / "x" / "a.txt"
            assert cfg.read_text() == "1"
            assert (base / "kubernetes.io~downward-api" / "info" / "name").read_text() == "vols"
            await c.client.delete(Pod, "vols", namespace="default")
            await c.eventually(lambda: _gone(c, "vols"), limit=5)
            assert not (tmp_path / "pods" / pod.metadata.uid).exists()

    run(main)
