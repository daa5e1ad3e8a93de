"""The single-writer lock: an exclusive ``flock`` on ``<database>.lock``, held while open.

Watches are served from the process that writes, so two processes writing one file would each
miss the other's events. The lock makes a second opener fail at once with the holder's pid
instead. The kernel drops a ``flock`` when its holder dies (even by SIGKILL), so a crash never
leaves a stale lock behind; the pid in the file is only for the error message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os

from kframe.store import StoreUnavailableError

__all__ = ["FileLock"]


class FileLock:
    """An acquired lock; :meth:`release` (or process exit) lets the next opener in."""

    def __init__(self, fd: int, path: str) -> None:
        self._fd: int | None = fd
        self.path = path

    @classmethod
    def acquire(cls, path: str, database: str) -> FileLock:
        """Lock ``path`` for ``database``; StoreUnavailableError naming the holder if taken.

        Creates the directory first: the lock file is the first file of a new store.
        """
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoreUnavailableError(
                f"cannot open SQLite store {database}: lock file {path}: {exc.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise StoreUnavailableError(
                f"SQLite store {database} is in use by another process (pid {holder})"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise StoreUnavailableError(
                f"cannot lock SQLite store {database} ({path}): {exc.strerror}"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(fd, path)

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            # Closing the descriptor drops the flock; the file stays for the next opener.
            os.close(fd)


def _read_pid(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        return str(int(os.pread(fd, 32, 0).decode().strip()))
    return "unknown"
