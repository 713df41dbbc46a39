"""One collector per store: an OS lock that dies with the process holding it.

The first sportello process on a store takes the lock and polls the channels;
later ones are viewers that read the store and call :meth:`CollectorLock.try_acquire`
now and then, so that one of them takes over when the collector goes away. The
kernel releases an ``flock`` when its process exits, even on a crash or ``kill -9``.

With a server database (PostgreSQL) this becomes an advisory lock; callers only
see ``try_acquire``, ``held`` and ``release``.
"""

from __future__ import annotations

from pathlib import Path

from filelock import Timeout, UnixFileLock


def lock_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".collector.lock")


class CollectorLock:
    """The right to poll the channels of one store."""

    def __init__(self, store_path: Path) -> None:
        self.path = lock_path(store_path)
        self._lock = UnixFileLock(
            str(self.path), timeout=0, mode=0o600, thread_local=False, fallback_to_soft=False
        )

    @property
    def held(self) -> bool:
        return bool(self._lock.is_locked)

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; never waits."""
        if self.held:
            return True
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            return False
        return True

    def release(self) -> None:
        if self.held:
            self._lock.release(force=True)
