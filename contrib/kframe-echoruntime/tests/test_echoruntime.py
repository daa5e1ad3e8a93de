"""The echo runtime: scripts, their logs and exits on a fake clock, and the conformance suite."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kframe_echoruntime import (
    NAME,
    EchoRuntime,
    ExecTimeoutError,
    Line,
    Program,
    open_echo_runtime,
    parse_program,
    parse_sleep,
)

from kframe.client import FakeClock
from kframe.registry import build_registry
from kframe.runtime import (
    ContainerState,
    ImageSpec,
    InvalidArgumentError,
    Runtime,
    RuntimeOptions,
    open_runtime,
)
from kframe.testing.runtime import (
    RuntimeConformance,
    RuntimeOpener,
    container_config,
    runtime_state_machine,
    sandbox_config,
)

# -- the conformance suite, as any third-party runtime runs it ----------------------------------


async def open_echo() -> Runtime:
    return await open_runtime("echo", RuntimeOptions(node_name="echo-conformance"))


class TestEchoConformance(RuntimeConformance):
    @pytest.fixture
    def runtime_factory(self) -> RuntimeOpener:
        return open_echo

    @pytest.fixture(autouse=True)
    def _lacks_only_what_it_declares(self, request: pytest.FixtureRequest) -> Iterator[None]:
        yield
        recorded = {v for k, v in request.node.user_properties if k == "capability-absent"}
        assert recorded <= {"exec", "attach", "stats", "update_resources", "pod_network"}


TestEchoStateMachine = runtime_state_machine(open_echo).TestCase


def test_registered_through_its_entry_point() -> None:
    entry = build_registry().get("runtime", NAME)
    assert entry.factory is open_echo_runtime


def test_config_is_checked() -> None:
    with pytest.raises(InvalidArgumentError, match="unknown config key 'nope'"):
        asyncio.run(open_echo_runtime(RuntimeOptions(config={"nope": 1})))


# -- scripts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "program"),
    [
        ((), Program()),
        (("nginx", "-g", "daemon off;"), Program()),
        (("echo", "hi"), Program(lines=(Line(0, "hi"),), ends_at=0)),
        (("sleep", "1m"), Program(ends_at=60)),
        (("sleep", "infinity"), Program()),
        (("/bin/false",), Program(ends_at=0, exit_code=1)),
        (
            ("sh", "-c", "echo 'a b'; sleep 2 && echo done; exit 3; echo never"),
            Program(lines=(Line(0, "a b"), Line(2, "done")), ends_at=2, exit_code=3),
        ),
        (
            ("sh", "-c", "false && echo skipped; echo ran"),
            Program(lines=(Line(0, "ran"),), ends_at=0),
        ),
        (("sh", "-c", "echo up; exec nginx"), Program(lines=(Line(0, "up"),))),
    ],
)
def test_parse_program(argv: tuple[str, ...], program: Program) -> None:
    assert parse_program(argv) == program


def test_bad_sleep_and_exit_are_invalid_arguments() -> None:
    with pytest.raises(InvalidArgumentError, match="sleep: invalid number 'soon'"):
        parse_program(("sleep", "soon"))
    with pytest.raises(InvalidArgumentError, match="exit: bad code 'x'"):
        parse_program(("sh", "-c", "exit x"))
    assert parse_sleep("1.5h") == 5400


WORDS = st.lists(st.text("abcxyz01 ", min_size=1, max_size=6), min_size=1, max_size=4)


@given(st.lists(st.tuples(WORDS, st.integers(0, 100)), max_size=6))
def test_a_script_prints_its_lines_in_order_at_the_sum_of_its_sleeps(
    steps: list[tuple[list[str], int]],
) -> None:
    script = "; ".join(f"echo {' '.join(repr(w) for w in words)}; sleep {n}" for words, n in steps)
    program = parse_program(("sh", "-c", script or "true"))
    assert [line.text for line in program.lines] == [" ".join(words) for words, _ in steps]
    starts = [sum(n for _, n in steps[:i]) for i in range(len(steps))]
    assert [line.at for line in program.lines] == starts
    assert program.ends_at == sum(n for _, n in steps) and program.exit_code == 0


# -- playing scripts on a fake clock -------------------------------------------------------------

WALL = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def run(body: Callable[[EchoRuntime, FakeClock], Awaitable[None]]) -> None:
    async def main() -> None:
        clock = FakeClock(wall_start=WALL)
        rt = EchoRuntime(clock)
        await rt.pull_image(ImageSpec(image="busybox"))
        try:
            await asyncio.wait_for(body(rt, clock), 10)
        finally:
            await rt.close()

    asyncio.run(main())


async def start(rt: EchoRuntime, script: str, logs: Path | None = None) -> str:
    sc = sandbox_config(log_directory=str(logs) if logs else "")
    sid = await rt.run_pod_sandbox(sc)
    config = container_config(image="busybox", command=("sh", "-c", script), log_path="c/0.log")
    cid = await rt.create_container(sid, config, sc)
    await rt.start_container(cid)
    return cid


def test_lines_reach_the_log_as_the_clock_passes_them(tmp_path: Path) -> None:
    async def body(rt: EchoRuntime, clock: FakeClock) -> None:
        cid = await start(rt, "echo start; sleep 5; echo done; exit 2", tmp_path)
        log = tmp_path / "c" / "0.log"
        clock.advance(4)
        assert (await rt.container_status(cid)).state == ContainerState.RUNNING
        assert log.read_text() == "2024-01-01T00:00:00.000000000Z stdout F start\n"
        clock.advance(1)
        status = await rt.container_status(cid)
        assert (status.state, status.exit_code) == (ContainerState.EXITED, 2)
        assert status.reason == "Error"
        assert status.finished_at - status.started_at == 5 * 10**9
        assert log.read_text().splitlines()[1] == "2024-01-01T00:00:05.000000000Z stdout F done"

    run(body)


def test_a_script_without_sleeps_completes_at_once() -> None:
    async def body(rt: EchoRuntime, clock: FakeClock) -> None:
        status = await rt.container_status(await start(rt, "echo hello"))
        assert (status.state, status.exit_code, status.reason) == (
            ContainerState.EXITED,
            0,
            "Completed",
        )

    run(body)


def test_stop_is_sigterm_and_a_sandbox_stop_is_sigkill() -> None:
    async def body(rt: EchoRuntime, clock: FakeClock) -> None:
        polite = await start(rt, "sleep infinity")
        await rt.stop_container(polite, 30)
        assert (await rt.container_status(polite)).exit_code == 143
        killed = await start(rt, "sleep 60")
        sandbox = (await rt.list_containers())[-1].pod_sandbox_id
        await rt.stop_pod_sandbox(sandbox)
        assert (await rt.container_status(killed)).exit_code == 137

    run(body)


def test_exec_sync_plays_the_command_within_its_timeout() -> None:
    async def body(rt: EchoRuntime, clock: FakeClock) -> None:
        cid = await start(rt, "sleep infinity")
        ok = await rt.exec_sync(cid, ["sh", "-c", "echo ok; exit 0"])
        assert (ok.stdout, ok.exit_code) == (b"ok\n", 0)
        missing = await rt.exec_sync(cid, ["cat", "/tmp/healthy"])
        assert (missing.exit_code, missing.stderr) == (127, b"sh: cat: not found\n")
        slow = asyncio.ensure_future(rt.exec_sync(cid, ["sleep", "10"], timeout=3))
        await asyncio.sleep(0)
        clock.advance(3)
        with pytest.raises(ExecTimeoutError, match="timed out after 3s"):
            await slow

    run(body)
