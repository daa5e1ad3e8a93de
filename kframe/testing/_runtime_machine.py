"""A Hypothesis state machine that drives a CRI runtime and a simple model side by side.

The model: sandboxes READY or NOTREADY, containers CREATED, RUNNING or EXITED, each in one
sandbox. Rules run, stop and remove sandboxes, create, start, stop and remove containers, with
ids drawn from everything ever created (removed ones included, which must act as missing).
Invariants: the runtime's lists equal the model; every container's sandbox exists; states only
move forward; a removed id never comes back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kframe.runtime import (
    AlreadyExistsError,
    ContainerState,
    FailedPreconditionError,
    ImageSpec,
    NotFoundError,
    PodSandboxState,
    Runtime,
)
from kframe.testing._runtime_helpers import (
    DEFAULT_COMMAND,
    DEFAULT_IMAGE,
    container_config,
    sandbox_config,
)

__all__ = ["runtime_state_machine"]

T = TypeVar("T")
NAMES = st.sampled_from(["a", "b", "c"])
_ORDER = {ContainerState.CREATED: 0, ContainerState.RUNNING: 1, ContainerState.EXITED: 2}


def runtime_state_machine(
    opener: Callable[[], Awaitable[Runtime]],
    *,
    image: str = DEFAULT_IMAGE,
    command: tuple[str, ...] = DEFAULT_COMMAND,
    max_examples: int = 25,
) -> type[RuleBasedStateMachine]:
    """A state machine class for the runtime ``opener`` opens; use its ``TestCase``."""

    class RuntimeMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.rt = self.run(opener())
            self.rs = self.rt.runtime_service
            self.run(self.rt.image_service.pull_image(ImageSpec(image=image)))
            self.sandboxes: dict[str, PodSandboxState] = {}
            self.containers: dict[str, tuple[str, ContainerState]] = {}  # id -> (sandbox, state)
            self.names: dict[tuple[str, str], str] = {}  # (sandbox, name) -> container id
            self.ever: list[str] = []  # every sandbox id ever returned
            self.ever_containers: list[str] = []
            self.removed: set[str] = set()
            self.serial = 0
            self.seen: dict[str, ContainerState] = {}  # the runtime's last reported states

        def run(self, coro: Awaitable[T]) -> T:
            async def wrapped() -> T:
                return await asyncio.wait_for(coro, 30)

            return self.loop.run_until_complete(wrapped())

        def teardown(self) -> None:
            try:
                self.run(self.rt.close())
            finally:
                self.loop.close()

        def _pick(self, data: st.DataObject, ids: list[str]) -> str:
            return ids[data.draw(st.integers(0, len(ids) - 1))] if ids else "never-created"

        # -- sandboxes ------------------------------------------------------------------------

        @rule()
        def run_sandbox(self) -> None:
            self.serial += 1
            sid = self.run(self.rs.run_pod_sandbox(sandbox_config(f"m{self.serial}")))
            assert sid and sid not in self.ever and sid not in self.ever_containers
            self.ever.append(sid)
            self.sandboxes[sid] = PodSandboxState.READY

        @rule(data=st.data())
        def stop_sandbox(self, data: st.DataObject) -> None:
            sid = self._pick(data, self.ever)
            self.run(self.rs.stop_pod_sandbox(sid))
            if sid in self.sandboxes:
                self.sandboxes[sid] = PodSandboxState.NOTREADY
                for cid, (owner, _) in self.containers.items():
                    if owner == sid:
                        self.containers[cid] = (owner, ContainerState.EXITED)

        @rule(data=st.data())
        def remove_sandbox(self, data: st.DataObject) -> None:
            sid = self._pick(data, self.ever)
            self.run(self.rs.remove_pod_sandbox(sid))
            if sid in self.sandboxes:
                del self.sandboxes[sid]
                self.removed.add(sid)
                for cid in [c for c, (owner, _) in self.containers.items() if owner == sid]:
                    self._forget(cid)

        # -- containers -----------------------------------------------------------------------

        @precondition(lambda self: self.ever)
        @rule(data=st.data(), name=NAMES)
        def create_container(self, data: st.DataObject, name: str) -> None:
            sid = self._pick(data, self.ever)
            config = container_config(name, image=image, command=command)
            call = self.rs.create_container(sid, config, sandbox_config(f"for-{sid}"))
            if sid not in self.sandboxes:
                try:
                    self.run(call)
                except NotFoundError:
                    return
                raise AssertionError(f"create_container in missing sandbox {sid} succeeded")
            if self.sandboxes[sid] != PodSandboxState.READY:
                try:
                    self.run(call)
                except FailedPreconditionError:
                    return
                raise AssertionError(f"create_container in NOTREADY sandbox {sid} succeeded")
            if (sid, name) in self.names:
                try:
                    self.run(call)
                except AlreadyExistsError:
                    return
                raise AssertionError(f"second container {name!r} in {sid} was created")
            cid = self.run(call)
            assert cid and cid not in self.ever_containers and cid not in self.ever
            self.ever_containers.append(cid)
            self.containers[cid] = (sid, ContainerState.CREATED)
            self.names[(sid, name)] = cid

        @precondition(lambda self: self.ever_containers)
        @rule(data=st.data())
        def start_container(self, data: st.DataObject) -> None:
            cid = self._pick(data, self.ever_containers)
            call = self.rs.start_container(cid)
            if cid not in self.containers:
                try:
                    self.run(call)
                except NotFoundError:
                    return
                raise AssertionError(f"start of removed container {cid} succeeded")
            sid, state = self.containers[cid]
            if state != ContainerState.CREATED:
                try:
                    self.run(call)
                except FailedPreconditionError:
                    return
                raise AssertionError(f"start of a {state.name} container succeeded")
            self.run(call)
            self.containers[cid] = (sid, ContainerState.RUNNING)

        @precondition(lambda self: self.ever_containers)
        @rule(data=st.data())
        def stop_container(self, data: st.DataObject) -> None:
            cid = self._pick(data, self.ever_containers)
            self.run(self.rs.stop_container(cid, 0))
            if cid in self.containers:
                self.containers[cid] = (self.containers[cid][0], ContainerState.EXITED)

        @precondition(lambda self: self.ever_containers)
        @rule(data=st.data())
        def remove_container(self, data: st.DataObject) -> None:
            cid = self._pick(data, self.ever_containers)
            self.run(self.rs.remove_container(cid))
            if cid in self.containers:
                self._forget(cid)

        def _forget(self, cid: str) -> None:
            del self.containers[cid]
            self.removed.add(cid)
            for key in [k for k, v in self.names.items() if v == cid]:
                del self.names[key]

        # -- invariants -----------------------------------------------------------------------

        @invariant()
        def lists_equal_the_model(self) -> None:
            sandboxes = {s.id: s.state for s in self.run(self.rs.list_pod_sandbox())}
            assert sandboxes == self.sandboxes
            listed = self.run(self.rs.list_containers())
            containers = {c.id: (c.pod_sandbox_id, c.state) for c in listed}
            assert containers == self.containers
            assert not (self.removed & (set(sandboxes) | set(containers))), "a removed id is back"
            for sid, _ in containers.values():
                assert sid in sandboxes, f"a container's sandbox {sid} does not exist"

        @invariant()
        def states_only_move_forward(self) -> None:
            for c in self.run(self.rs.list_containers()):
                before = self.seen.get(c.id)
                assert before is None or _ORDER[c.state] >= _ORDER[before], (
                    f"container {c.id} went from {before.name} back to {c.state.name}"
                )
                self.seen[c.id] = c.state

    RuntimeMachine.TestCase.settings = settings(
        max_examples=max_examples, stateful_step_count=25, deadline=None
    )
    return RuntimeMachine
