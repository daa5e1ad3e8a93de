"""The simulated cloud: its config file, its console command, and load balancers that carry
real TCP traffic to the nodes' nodePorts."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kframe.cli import main
from kframe.cloud import open_cloud_provider
from kframe.testing.cloud import make_node, make_service
from kframe_plugins.cloud.simulated import SimulatedCloud, SimulatedConfig, State, load_config


def test_config_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    conf = tmp_path / "cloud.yaml"
    conf.write_text("db: state/cloud.db\nzone: z1\nregion: r1\nloadBalancerCIDR: 127.9.0.0/24\n")
    config = load_config(conf)
    assert config.db == tmp_path / "state" / "cloud.db"
    assert (config.zone, config.region, config.load_balancer_cidr) == ("z1", "r1", "127.9.0.0/24")
    assert load_config(None) == SimulatedConfig()


@pytest.mark.parametrize(
    ("text", "message"),
    [("nope: 1\n", "unknown keys nope"), ("loadBalancerCIDR: 10.0.0.0/24\n", "not a loopback")],
)
def test_bad_configs_are_refused(tmp_path: Path, text: str, message: str) -> None:
    conf = tmp_path / "cloud.yaml"
    conf.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_config(conf)


def test_opened_by_name_through_the_registry(tmp_path: Path) -> None:
    conf = tmp_path / "cloud.yaml"
    conf.write_text("db: cloud.db\n")
    cloud = open_cloud_provider("simulated", conf)
    assert isinstance(cloud, SimulatedCloud) and cloud.config.db == tmp_path / "cloud.db"


def test_the_console_adds_stops_and_deletes_instances(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "cloud.db")
    base = ["cloud-simulated", "--db", db, "instances"]
    assert main([*base, "add", "node-0", "--zone", "z9", "--type", "sim.large"]) == 0
    assert main([*base, "add", "node-1"]) == 0
    assert main([*base, "stop", "node-1"]) == 0
    assert main([*base, "delete", "node-0"]) == 0
    capsys.readouterr()
    assert main([*base, "list"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert rows[0][:6] == ["NAME", "ID", "TYPE", "ZONE", "REGION", "STATE"]
    assert [(r[0], r[5]) for r in rows[1:]] == [("node-1", "stopped")]
    assert main([*base, "delete", "node-0"]) == 1
    assert "no instance 'node-0'" in capsys.readouterr().err
    assert main([*base, "add", "node-1"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["cloud-simulated", "--db", db, "routes", "list"]) == 0
    assert main(["cloud-simulated", "--db", db, "load-balancers", "list"]) == 0


@contextlib.asynccontextmanager
async def _echo_server(tag: bytes) -> AsyncIterator[int]:
    """A stand-in for a node's nodePort: answers every line with ``tag`` and the line."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write(tag + line)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.close()
        await server.wait_closed()


async def _ask(address: str, port: int, text: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(address, port)
    writer.write(text + b"\n")
    await writer.drain()
    answer = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return answer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cloud(tmp_path: Path) -> SimulatedCloud:
    return SimulatedCloud(
        SimulatedConfig(db=tmp_path / "cloud.db", load_balancer_cidr="127.77.3.0/29")
    )


def test_a_load_balancer_forwards_to_the_node_port(tmp_path: Path) -> None:
    asyncio.run(_forwarding(tmp_path))


async def _forwarding(tmp: Path) -> None:
    cloud = _cloud(tmp)
    async with _echo_server(b"node:") as node_port:
        svc = make_service("web", port=_free_port(), node_port=node_port)
        nodes = [make_node("down", address="127.0.0.2"), make_node("up", address="127.0.0.1")]
        try:
            status = await cloud.ensure_load_balancer("c", svc, nodes)
            assert status.ingress is not None
            address = status.ingress[0].ip or ""
            assert address.startswith("127.77.3.")
            assert svc.spec is not None and svc.spec.ports
            port = svc.spec.ports[0].port or 0
            # Both turns answer: the backend that refuses (nothing on 127.0.0.2) is skipped.
            for turn in range(3):
                assert await _ask(address, port, b"hi %d" % turn) == b"node:hi %d\n" % turn
            # Two load balancers get two addresses and may share a port.
            other = make_service("other", port=port, node_port=node_port)
            second = await cloud.ensure_load_balancer("c", other, nodes)
            assert second.ingress and second.ingress[0].ip not in (None, address)
            await cloud.ensure_load_balancer_deleted("c", svc)
            with pytest.raises(ConnectionRefusedError):
                await _ask(address, port, b"gone")
            # A restarted provider listens again where the state says.
            await cloud.close()
            again = _cloud(tmp)
            await again.initialize(client=None)  # type: ignore[arg-type]
            try:
                other_ip = second.ingress[0].ip or ""
                assert await _ask(other_ip, port, b"back") == b"node:back\n"
            finally:
                await again.close()
        finally:
            await cloud.close()
    assert [lb.service for lb in State(tmp / "cloud.db").load_balancers()] == ["default/other"]
