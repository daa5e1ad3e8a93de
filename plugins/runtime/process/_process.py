"""Starting a container's (or an exec's) process and carrying its streams.

:func:`command_line` wraps the command so that the process enters the sandbox's network
namespace (``nsenter --net``), joins the container's cgroup before anything else runs (a
``sh -c`` that writes its pid to ``cgroup.procs`` and execs on), takes the pod's user
(``setpriv --reuid``) and dies with the runtime (``setpriv --pdeathsig KILL``). Every step
execs, so the pid the runtime started is the command's. :func:`spawn` starts it in a session
of its own (its process group is the container's) with plain pipes, or a pty for ``tty``,
read without asyncio transports so the runtime decides when they close.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shlex
import shutil
import signal
import struct
import termios
from collections.abc import Mapping, Sequence

import attrs

from kframe.runtime import Mount

from ._cgroups import ContainerCgroup
from ._logs import FdReader, wake

__all__ = [
    "FdWriter",
    "prepare_mounts",
    "Spawned",
    "command_line",
    "exit_code_of",
    "resolve",
    "spawn",
    "wait_setup",
]

SETPRIV = shutil.which("setpriv")
UNSHARE = shutil.which("unshare")
NSENTER = shutil.which("nsenter")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def command_line(
    argv: Sequence[str],
    *,
    enter: Sequence[str] = (),
    cgroup: ContainerCgroup | None = None,
    uid: int | None = None,
    gid: int | None = None,
    mounts: Sequence[Mount] = (),
    hostname: str = "",
) -> list[str]:
    """The full argv that runs ``argv`` in the sandbox network, cgroup, mounts and user.

    ``mounts`` are bind mounts in a mount namespace of the process's own (host mounts still
    propagate in, its own never out); their mount points must exist. ``hostname`` is set in a
    UTS namespace of its own.
    """
    out = list(enter)
    script = ""
    if cgroup is not None:
        files = cgroup.procs_files
        script += "".join(f"{{ echo $$ >{shlex.quote(p)}; }} 2>/dev/null; " for p in files)
    if mounts or hostname:
        out.append(UNSHARE or "unshare")
        out += ["--uts"] if hostname else []
        out += ["--mount", "--propagation", "slave"] if mounts else []
        out.append("--")
    if hostname:
        script += f"echo {shlex.quote(hostname)} >/proc/sys/kernel/hostname || exit 128; "
    if mounts:
        for m in mounts:
            host, target = shlex.quote(m.host_path), shlex.quote(m.container_path)
            script += f"mount --bind {host} {target} || exit 128; "
            if m.readonly:
                script += f"mount -o remount,bind,ro {target} || exit 128; "
    if script:
        out += ["/bin/sh", "-c", script + 'exec "$@"', "kframe-init"]
    if SETPRIV is not None:
        out += [SETPRIV, "--pdeathsig", "KILL"]
        if uid is not None:
            out += [f"--reuid={uid}", f"--regid={gid if gid is not None else 0}", "--clear-groups"]
        out.append("--")
    return out + list(argv)


def prepare_mounts(mounts: Sequence[Mount]) -> list[Mount]:
    """The bind mounts to make, their mount points created; ValueError says what is wrong.

    As a runtime creates a missing mount point in the image, a missing ``container_path`` is
    created on the host: an empty directory (an empty file for a file), which the bind mount
    covers only inside the container. A mount of a path onto itself is left out.
    """
    out = []
    for m in mounts:
        if not m.host_path or not m.container_path:
            continue
        if not os.path.isabs(m.container_path):
            raise ValueError(f"mount point {m.container_path!r} is not an absolute path")
        if not os.path.exists(m.host_path):
            raise ValueError(f"mount source {m.host_path!r} does not exist")
        if os.path.realpath(m.host_path) == os.path.realpath(m.container_path):
            continue
        try:
            if os.path.isdir(m.host_path):
                os.makedirs(m.container_path, exist_ok=True)
            elif not os.path.exists(m.container_path):
                os.makedirs(os.path.dirname(m.container_path), exist_ok=True)
                open(m.container_path, "a").close()
        except OSError as e:
            raise ValueError(f"cannot create mount point {m.container_path!r}: {e.strerror}") from e
        out.append(m)
    return out


def _in_wrapper(pid: int) -> bool:
    """Whether the process still runs one of :func:`command_line`'s setup steps."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False  # gone
    first = argv[0].decode(errors="replace")
    if first in (NSENTER, UNSHARE, SETPRIV, "ip"):
        return True
    return first == "/bin/sh" and len(argv) > 3 and argv[3] == b"kframe-init"


async def wait_setup(spawned: Spawned, timeout: float = 5.0) -> None:
    """Until the process has passed its setup steps (namespaces, cgroup, mounts, user) and
    runs the command itself, or has exited; at most ``timeout`` seconds (a command named like
    a setup step would otherwise keep us here)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while spawned.proc.returncode is None and loop.time() < deadline:
        if not _in_wrapper(spawned.pid):
            return
        await asyncio.sleep(0.002)


def resolve(program: str, env: Mapping[str, str], cwd: str) -> str | None:
    """Where ``program`` is, searched as execvp would in the container's PATH (None: nowhere)."""
    if "/" in program:
        path = program if os.path.isabs(program) else os.path.join(cwd or os.getcwd(), program)
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    return shutil.which(program, path=env.get("PATH", DEFAULT_PATH))


def exit_code_of(returncode: int) -> int:
    """A shell's exit status: a signal's death is 128 + the signal (137 for SIGKILL)."""
    return 128 - returncode if returncode < 0 else returncode


class FdWriter:
    """Non-blocking writes to a pipe or pty from the event loop; close() ends the input."""

    def __init__(self, fd: int, *, owned: bool = True) -> None:
        os.set_blocking(fd, False)
        self.fd = fd
        self.owned = owned

    async def write(self, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        view = memoryview(data)
        while view and self.fd >= 0:
            try:
                view = view[os.write(self.fd, view) :]
                continue
            except BlockingIOError:
                pass
            ready: asyncio.Future[None] = loop.create_future()
            loop.add_writer(self.fd, wake, ready)
            try:
                await ready
            finally:
                loop.remove_writer(self.fd)

    def close(self) -> None:
        if self.fd >= 0 and self.owned:
            with contextlib.suppress(OSError):
                os.close(self.fd)
        self.fd = -1


@attrs.define(eq=False)
class Spawned:
    """A started process: its stdout (the pty with a tty), stderr, and stdin ends."""

    proc: asyncio.subprocess.Process
    out: FdReader
    err: FdReader | None
    stdin: FdWriter | None
    pty: int = -1

    @property
    def pid(self) -> int:
        return self.proc.pid

    def signal_group(self, sig: int) -> None:
        """Signal the process group (the process and every child it did not move out)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def resize(self, width: int, height: int) -> None:
        if self.pty >= 0:
            with contextlib.suppress(OSError):
                fcntl.ioctl(self.pty, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))

    def close(self) -> None:
        self.out.close()
        if self.err is not None:
            self.err.close()
        if self.stdin is not None:
            self.stdin.close()


async def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: str | None,
    stdin: bool,
    tty: bool = False,
) -> Spawned:
    """Start ``argv`` in a new session; OSError if it cannot be started."""
    parent: list[int] = []  # our ends
    child: list[int] = []  # the child's ends, closed here once it has them
    try:
        if tty:
            master, slave = os.openpty()
            parent.append(master)
            child.append(slave)
            fds = {"stdin": slave, "stdout": slave, "stderr": slave}
        else:
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            parent += [out_r, err_r]
            child += [out_w, err_w]
            fds = {"stdout": out_w, "stderr": err_w, "stdin": asyncio.subprocess.DEVNULL}
            if stdin:
                in_r, in_w = os.pipe()
                parent.append(in_w)
                child.append(in_r)
                fds["stdin"] = in_r
        for fd in parent:
            os.set_inheritable(fd, False)
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=fds["stdin"],
            stdout=fds["stdout"],
            stderr=fds["stderr"],
            env=dict(env),
            cwd=cwd or None,
            start_new_session=True,
            # The container's signal dispositions are the defaults, not this process's.
            restore_signals=True,
        )
    except BaseException:
        for fd in parent:
            os.close(fd)
        raise
    finally:
        for fd in child:
            os.close(fd)
    if tty:
        master = parent[0]
        return Spawned(
            proc, FdReader(master), None, FdWriter(master, owned=False) if stdin else None, master
        )
    writer = FdWriter(parent[2]) if stdin else None
    return Spawned(proc, FdReader(parent[0]), FdReader(parent[1]), writer)


def kill_group_now(spawned: Spawned) -> None:
    spawned.signal_group(signal.SIGKILL)
