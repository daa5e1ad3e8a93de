"""Run real etcd for tests: one member or an N-member cluster on free 127.0.0.1 ports.

Each member gets a temporary data directory, removed on exit; a cluster is healthy when every
member answers ``/health``. Kill or stop a member to test failover, restart it to rejoin::

    from kframe.testing.etcd import EtcdCluster, require_etcd, store_factory

    def test_failover():
        require_etcd()  # skips without etcd; fails under KFRAME_REQUIRE_ALL=1
        with EtcdCluster(members=3) as cluster:
            url = cluster.url("/my-test")  # etcd://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3/my-test
            cluster.kill(cluster.leader())

For a server shared by many tests, :func:`store_factory` opens each store under a fresh key
prefix, so each starts out empty.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType

from kframe.store import (
    KeyValue,
    Lease,
    ListResult,
    Store,
    StoreError,
    Watch,
    open_store,
)
from kframe.testing import require

__all__ = [
    "ETCD_MISSING",
    "EtcdCluster",
    "EtcdMember",
    "LeaseCleanupStore",
    "etcd_binary",
    "require_etcd",
    "store_factory",
]

ETCD_MISSING = "etcd not found: apt-get install etcd-server"


def etcd_binary() -> str | None:
    """The etcd executable on PATH, or None."""
    return shutil.which("etcd")


def require_etcd() -> str:
    """The etcd executable; skips the calling test without one (fails under KFRAME_REQUIRE_ALL)."""
    binary = etcd_binary()
    require(binary is not None, ETCD_MISSING)
    assert binary is not None
    return binary


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class EtcdMember:
    """One etcd process of a cluster. ``endpoint`` is its client ``127.0.0.1:port``."""

    def __init__(self, name: str, client_port: int, peer_port: int, data_dir: Path) -> None:
        self.name = name
        self.client_port = client_port
        self.peer_port = peer_port
        self.data_dir = data_dir
        self.log_path = data_dir.with_suffix(".log")
        self.args: list[str] = []
        self.process: subprocess.Popen[bytes] | None = None
        self.wanted = False  # started and not killed or stopped on purpose

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    @property
    def client_url(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://127.0.0.1:{self.peer_port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the process (again, after kill or stop: it rejoins with its data)."""
        self.wanted = True
        if self.running:
            return
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )

    def kill(self) -> None:
        """SIGKILL: the member vanishes at once, as in a crash."""
        self.wanted = False
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
        self.wanted = False
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def _get(self, path: str, body: bytes | None = None) -> dict[str, object]:
        request = urllib.request.Request(self.client_url + path, data=body)
        with urllib.request.urlopen(request, timeout=2) as response:
            data = json.load(response)
        return data if isinstance(data, dict) else {}

    def healthy(self) -> bool:
        """Whether the member answers ``/health`` with true (it has a leader, no alarm)."""
        if not self.running:
            return False
        try:
            return self._get("/health").get("health") == "true"
        except (OSError, ValueError):
            return False

    def status(self) -> dict[str, object]:
        """The member's maintenance status (JSON gateway): ``header.member_id``, ``leader``..."""
        return self._get("/v3/maintenance/status", b"{}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class EtcdCluster:
    """An etcd cluster of ``members`` processes (1 for a single server); a context manager.

    Members elect a leader in about half a second (``--election-timeout 500``), so failover
    tests stay short. ``extra_args`` go to every member's command line.
    """

    def __init__(
        self,
        members: int = 1,
        *,
        binary: str | None = None,
        startup_timeout: float = 30.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        if members < 1:
            raise ValueError("an etcd cluster needs at least one member")
        self.size = members
        self.binary = binary
        self.startup_timeout = startup_timeout
        self.extra_args = tuple(extra_args)
        self.members: list[EtcdMember] = []
        self.root: Path | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> EtcdCluster:
        """Start every member and wait until all are healthy; RuntimeError with logs if not."""
        binary = self.binary or require_etcd()
        self.root = Path(tempfile.mkdtemp(prefix="kframe-etcd-"))
        try:
            for attempt in range(3):  # a free port can be taken between choosing and binding it
                self._create(binary, attempt)
                try:
                    self.wait_healthy(self.startup_timeout)
                    return self
                except RuntimeError:
                    logs = "\n".join(m.log_tail() for m in self.members)
                    self._stop_all()
                    if "address already in use" not in logs or attempt == 2:
                        raise
        except BaseException:
            self.close()
            raise
        raise AssertionError("unreachable")

    def _create(self, binary: str, attempt: int) -> None:
        assert self.root is not None
        ports = _free_ports(2 * self.size)
        self.members = [
            EtcdMember(f"m{i}", ports[2 * i], ports[2 * i + 1], self.root / f"m{i}-{attempt}")
            for i in range(self.size)
        ]
        initial = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
        token = f"kframe-{uuid.uuid4().hex[:12]}"
        for m in self.members:
            m.args = [
                binary,
                *("--name", m.name, "--data-dir", str(m.data_dir)),
                *("--listen-client-urls", m.client_url, "--advertise-client-urls", m.client_url),
                *("--listen-peer-urls", m.peer_url, "--initial-advertise-peer-urls", m.peer_url),
                *("--initial-cluster", initial, "--initial-cluster-token", token),
                *("--initial-cluster-state", "new"),
                *("--heartbeat-interval", "50", "--election-timeout", "500"),
                *("--logger", "zap", "--log-level", "warn"),
                *self.extra_args,
            ]
            m.start()

    def wait_healthy(self, timeout: float = 30.0, members: Sequence[int] | None = None) -> None:
        """Wait until every member started and not killed (or those at ``members``) is healthy.

        RuntimeError, with the end of their logs, if one exits or ``timeout`` passes.
        """
        chosen = [self.members[i] for i in members] if members is not None else self.members
        chosen = [m for m in chosen if m.wanted]
        deadline = time.monotonic() + timeout
        while True:
            dead = [m for m in chosen if not m.running]
            if dead:
                raise RuntimeError(self._report("exited", dead))
            waiting = [m for m in chosen if not m.healthy()]
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(self._report(f"not healthy after {timeout:g}s", waiting))
            time.sleep(0.05)

    def _report(self, what: str, members: Sequence[EtcdMember]) -> str:
        names = ", ".join(m.name for m in members)
        logs = "\n".join(f"--- {m.name} ({m.log_path}):\n{m.log_tail()}" for m in members)
        return f"etcd member(s) {names} {what}\n{logs}"

    def _stop_all(self) -> None:
        for m in self.members:
            m.stop()

    def close(self) -> None:
        """Stop every member and delete the data directories."""
        self._stop_all()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> EtcdCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- addresses and failures -----------------------------------------------------------------

    @property
    def endpoints(self) -> tuple[str, ...]:
        return tuple(m.endpoint for m in self.members)

    def url(self, prefix: str = "", *, members: Sequence[int] | None = None) -> str:
        """An ``etcd://`` store URL for every member (or those at ``members``) and ``prefix``."""
        chosen = [self.members[i] for i in members] if members is not None else self.members
        path = "/" + prefix.strip("/") if prefix.strip("/") else ""
        return "etcd://" + ",".join(m.endpoint for m in chosen) + path

    def kill(self, index: int) -> None:
        """SIGKILL member ``index``."""
        self.members[index].kill()

    def stop(self, index: int) -> None:
        """Stop member ``index`` gracefully."""
        self.members[index].stop()

    def restart(self, index: int, timeout: float = 30.0) -> None:
        """Start member ``index`` again with its data and wait until it is healthy."""
        self.members[index].start()
        self.wait_healthy(timeout, [index])

    def leader(self) -> int:
        """The index of the current leader, as the running members report it."""
        ids: dict[str, int] = {}
        leaders: set[str] = set()
        for i, m in enumerate(self.members):
            if not m.running:
                continue
            with contextlib.suppress(OSError, ValueError):
                status = m.status()
                header = status.get("header")
                if isinstance(header, dict):
                    ids[str(header.get("member_id"))] = i
                leaders.add(str(status.get("leader")))
        for leader in leaders:
            if leader in ids:
                return ids[leader]
        raise RuntimeError("no running etcd member reports a leader")


class LeaseCleanupStore:
    """A Store that revokes, when closed, the leases it granted and did not revoke.

    On a server shared by many tests, a lease left behind would expire later and delete its
    keys at a revision that another test's model does not expect.
    """

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self._leases: set[int] = set()

    async def revision(self) -> int:
        return await self.inner.revision()

    async def get(self, key: str, *, revision: int | None = None) -> KeyValue | None:
        return await self.inner.get(key, revision=revision)

    async def list(
        self,
        prefix: str,
        *,
        limit: int | None = None,
        start: str | None = None,
        revision: int | None = None,
    ) -> ListResult:
        return await self.inner.list(prefix, limit=limit, start=start, revision=revision)

    async def count(self, prefix: str) -> int:
        return await self.inner.count(prefix)

    async def create(self, key: str, value: bytes, *, lease: int = 0) -> KeyValue:
        return await self.inner.create(key, value, lease=lease)

    async def update(
        self, key: str, value: bytes, *, expected_revision: int, lease: int = 0
    ) -> KeyValue:
        return await self.inner.update(key, value, expected_revision=expected_revision, lease=lease)

    async def delete(self, key: str, *, expected_revision: int | None = None) -> KeyValue:
        return await self.inner.delete(key, expected_revision=expected_revision)

    def watch(self, prefix: str, *, start_revision: int | None = None) -> Watch:
        return self.inner.watch(prefix, start_revision=start_revision)

    async def compact(self, revision: int) -> None:
        await self.inner.compact(revision)

    async def grant_lease(self, ttl: int) -> Lease:
        lease = await self.inner.grant_lease(ttl)
        self._leases.add(lease.id)
        return lease

    async def keep_alive(self, lease_id: int) -> int:
        return await self.inner.keep_alive(lease_id)

    async def revoke_lease(self, lease_id: int) -> None:
        self._leases.discard(lease_id)
        await self.inner.revoke_lease(lease_id)

    async def close(self) -> None:
        try:
            for lease_id in sorted(self._leases):
                with contextlib.suppress(StoreError):
                    await self.inner.revoke_lease(lease_id)
        finally:
            await self.inner.close()


def store_factory(
    cluster: EtcdCluster, root: str = "/kframe-test"
) -> Callable[[], Awaitable[Store]]:
    """An async callable that opens a store on ``cluster`` under a fresh prefix ``root/<random>``.

    Each store starts empty, so tests can share one server; each is a LeaseCleanupStore.
    """

    async def open_test_store() -> Store:
        url = cluster.url(f"{root.strip('/')}/{uuid.uuid4().hex[:12]}")
        return LeaseCleanupStore(await open_store(url))

    return open_test_store


_: type[Store] = LeaseCleanupStore
