"""Writing the warehouse while it is being read: one writer, readers on committed versions.

DuckDB lets either several processes read a file or one process write it (decision 0010).
The service holds the warehouse read-only all day, so a write would have to wait for it to
stop. Instead (decision 0016):

- **One writer at a time** holds `<warehouse>.writer.lock`; a second one waits for it.
- **Readers announce themselves** with a shared lock on `<warehouse>.readers.lock` for as long
  as they hold the file open (the service's processes, a CLI command that only reads).
- A writer that finds **no reader** writes the file in place, holding the readers' lock
  exclusively so that a reader starting meanwhile waits (what happened before, and the fastest).
- A writer that finds **readers** writes a copy (`<warehouse>.next`) and, when it closes,
  renames the copy over the warehouse in one step. The readers keep the version they opened
  (the old file stays readable until its last reader closes it) and switch to the new one
  when they see the name point to another file (`Version`); they never see a half-written
  version, and what a failed writer left half done is never published.

The locks are advisory file locks (`portalocker`): a process that dies lets go of them.

Within one thread the holds nest: a thread that already writes the warehouse and opens it
again (to read or to write — a command run inside a test's open warehouse, a use case calling
another) shares the writer's file, as DuckDB shares one database per file in a process; the
version is published when the outermost hold closes. Other threads wait like other processes.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import portalocker

from edubrain.errors import WarehouseError

WAIT_STEP_SECONDS = 0.2
_WRITING: dict[tuple[str, int], Writing] = {}
_WRITING_LOCK = threading.Lock()


def _thread_key(warehouse: Path) -> tuple[str, int]:
    return str(warehouse.absolute()), threading.get_ident()


def writing_in_this_thread(warehouse: Path) -> Writing | None:
    """The write hold this thread already has on `warehouse`, if any."""
    with _WRITING_LOCK:
        return _WRITING.get(_thread_key(warehouse))


@dataclass(frozen=True)
class Version:
    """Which file a warehouse path names: it changes when a writer publishes a copy."""

    inode: int
    device: int

    @classmethod
    def of(cls, path: Path) -> Version | None:
        try:
            found = path.stat()
        except FileNotFoundError:
            return None
        return cls(found.st_ino, found.st_dev)


class WarehouseBusyError(WarehouseError):
    """A writer holds the warehouse in place for longer than the caller would wait."""


def _lock_file(path: Path) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("a", encoding="utf-8")  # held until released


def _try_lock(handle: IO[str], flags: portalocker.LockFlags) -> bool:
    try:
        portalocker.lock(handle, flags | portalocker.LockFlags.NON_BLOCKING)
    except portalocker.exceptions.LockException:
        return False
    return True


def _wait_for_lock(
    handle: IO[str],
    flags: portalocker.LockFlags,
    wait_seconds: float | None,
    on_wait: Callable[[], None] | None,
) -> bool:
    """Take the lock, waiting up to `wait_seconds` (None: as long as it takes)."""
    if _try_lock(handle, flags):
        return True
    if on_wait is not None:
        on_wait()
    deadline = None if wait_seconds is None else time.monotonic() + wait_seconds
    while deadline is None or time.monotonic() < deadline:
        time.sleep(WAIT_STEP_SECONDS)
        if _try_lock(handle, flags):
            return True
    return False


def readers_lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".readers.lock")


def writer_lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".writer.lock")


def next_version_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".next")


def being_read(warehouse: Path) -> bool:
    """Whether a process (a running service, a command) holds the warehouse open to read."""
    lock = readers_lock_path(warehouse)
    if not lock.exists():
        return False
    with lock.open("a", encoding="utf-8") as handle:
        if _try_lock(handle, portalocker.LockFlags.EXCLUSIVE):
            portalocker.unlock(handle)
            return False
    return True


class ReadingHold:
    """A reader's shared lock on the readers' lock file, held while the file is open."""

    def __init__(
        self,
        warehouse: Path,
        *,
        wait_seconds: float | None,
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        self._handle: IO[str] | None = _lock_file(readers_lock_path(warehouse))
        if not _wait_for_lock(self._handle, portalocker.LockFlags.SHARED, wait_seconds, on_wait):
            self._handle.close()
            self._handle = None
            raise WarehouseBusyError(
                "数据仓库正在写入（导入、治理或计算），请稍后再试；"
                f"a job is writing the warehouse {warehouse} in place"
            )

    def release(self) -> None:
        if self._handle is not None:
            portalocker.unlock(self._handle)
            self._handle.close()
            self._handle = None


class Writing:
    """One writer's hold on the warehouse: where to write, and how to publish it."""

    def __init__(
        self,
        warehouse: Path,
        *,
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        self.warehouse = warehouse
        self.depth = 1
        self._writer: IO[str] | None = _lock_file(writer_lock_path(warehouse))
        _wait_for_lock(self._writer, portalocker.LockFlags.EXCLUSIVE, None, on_wait)
        self._readers: IO[str] | None = _lock_file(readers_lock_path(warehouse))
        self.in_place = _try_lock(self._readers, portalocker.LockFlags.EXCLUSIVE)
        with _WRITING_LOCK:
            _WRITING[_thread_key(warehouse)] = self
        if self.in_place:
            self.target = warehouse
            return
        self._readers.close()
        self._readers = None
        # Readers hold the file: write a copy, published when this writer closes. A copy left
        # by a writer that died is stale (this one holds the writer's lock now).
        self.target = next_version_path(warehouse)
        for stale in (self.target, _wal(self.target)):
            stale.unlink(missing_ok=True)
        try:
            if warehouse.exists():
                shutil.copyfile(warehouse, self.target)
                if _wal(warehouse).exists():
                    shutil.copyfile(_wal(warehouse), _wal(self.target))
        except OSError as exc:
            self.release()
            raise WarehouseError(f"cannot copy the warehouse to {self.target}: {exc}") from None

    def enter(self) -> None:
        """One more hold of this thread on the same write (a nested open)."""
        self.depth += 1

    def leave(self) -> None:
        """A hold closed: the outermost one publishes."""
        self.depth -= 1
        if self.depth == 0:
            self.publish()

    def publish(self) -> None:
        """Make what this writer committed the warehouse, then let go of the locks.

        Called after the database is closed (and so checkpointed). In place there is nothing
        to move; a copy is renamed over the warehouse in one step.
        """
        try:
            if not self.in_place and self.target.exists():
                if _wal(self.target).exists():
                    # Closed without a checkpoint (DuckDB could not write one): the log is
                    # part of the version, and moves with it.
                    _wal(self.target).replace(_wal(self.warehouse))
                else:
                    _wal(self.warehouse).unlink(missing_ok=True)
                self.target.replace(self.warehouse)
        finally:
            self.release()

    def release(self) -> None:
        with _WRITING_LOCK:
            if _WRITING.get(_thread_key(self.warehouse)) is self:
                del _WRITING[_thread_key(self.warehouse)]
        for handle in (self._readers, self._writer):
            if handle is not None:
                portalocker.unlock(handle)
                handle.close()
        self._readers = self._writer = None


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")
