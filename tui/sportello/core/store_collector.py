"""The store's record of who collects, and the requests other processes make of it.

A part of :class:`sportello.core.store.Store` (a mixin: it uses the store's one write
transaction and its reader). The collector writes its row when it takes over and
when it pauses or resumes — never on a timer, so an idle store sees no writes.
Viewers read it to say who polls (:mod:`sportello.core.polling_status`) and ask for a
poll by adding a request, which the collector notices within a second.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiosqlite

from sportello.core.polling_status import CollectorInfo
from sportello.core.store_contract import Request
from sportello.core.store_sql import bump, json_object

__all__ = ["REQUESTS_KEPT_S", "CollectorRecords", "Request"]

REQUESTS_KEPT_S = 86_400.0
POLL = "poll"
_NAME_MAX = 200


class CollectorRecords:
    """Methods of :class:`~sportello.core.store.Store`; see the module docstring."""

    # Provided by Store.
    def _transaction(self, what: str) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        raise NotImplementedError

    async def _read(
        self, what: str, sql: str, parameters: Sequence[Any] = ()
    ) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def set_collector(self, info: CollectorInfo) -> None:
        """Record this process as the collector (replacing whoever was)."""
        async with self._transaction("recording the collector") as conn:
            await conn.execute(
                "INSERT OR REPLACE INTO collector (slot, user, host, pid, started_at, paused,"
                " channels) VALUES (1, ?, ?, ?, ?, ?, ?)",
                (
                    info.user[:_NAME_MAX],
                    info.host[:_NAME_MAX],
                    int(info.pid),
                    float(info.started_at),
                    int(info.paused),
                    json.dumps(dict(info.channels), sort_keys=True),
                ),
            )
            await bump(conn, "collector")

    async def set_collector_paused(self, pid: int, paused: bool) -> None:
        """Say whether the collector (process ``pid``) is paused."""
        async with self._transaction("recording a pause") as conn:
            await conn.execute(
                "UPDATE collector SET paused = ? WHERE pid = ? AND paused IS NOT ?",
                (int(paused), int(pid), int(paused)),
            )
            await bump(conn, "collector")

    async def clear_collector(self, pid: int) -> None:
        """The collector (process ``pid``) stops: nobody collects until the next one."""
        async with self._transaction("recording the collector's end") as conn:
            await conn.execute("DELETE FROM collector WHERE pid = ?", (int(pid),))
            await bump(conn, "collector")

    async def collector(self) -> CollectorInfo | None:
        """Who collects, as the collector recorded it; None when nobody has."""
        rows = await self._read(
            "reading who collects",
            "SELECT user, host, pid, started_at, paused, channels FROM collector WHERE slot = 1",
        )
        if not rows:
            return None
        user, host, pid, started_at, paused, channels = rows[0]
        return CollectorInfo(
            user=str(user),
            host=str(host),
            pid=int(pid),
            started_at=float(started_at),
            paused=bool(paused),
            channels=json_object(channels),
        )

    async def request(
        self, kind: str, made_at: float, made_by: str, channel_id: str | None = None
    ) -> int:
        """Ask the collector for something (``"poll"``); returns the request's id.

        Ids only grow, even across requests dropped (they are kept a day).
        """
        async with self._transaction("asking the collector") as conn:
            cursor = await conn.execute(
                "INSERT INTO requests (kind, channel_id, made_at, made_by) VALUES (?, ?, ?, ?)",
                (kind, channel_id, made_at, made_by[:_NAME_MAX]),
            )
            request_id = int(cursor.lastrowid or 0)
            # After the insert, and never the new row: SQLite numbers a row one past
            # the largest id left, so emptying the table first would hand out an id
            # already seen, and the collector (reading after the last it saw) would
            # miss the request.
            await conn.execute(
                "DELETE FROM requests WHERE made_at < ? AND id < ?",
                (made_at - REQUESTS_KEPT_S, request_id),
            )
            await bump(conn, "collector")
            return request_id

    async def requests_after(self, request_id: int) -> list[Request]:
        """Requests newer than ``request_id``, oldest first."""
        rows = await self._read(
            "reading requests",
            "SELECT id, kind, channel_id, made_at, made_by FROM requests WHERE id > ? ORDER BY id",
            (int(request_id),),
        )
        return [Request(int(r[0]), str(r[1]), r[2], float(r[3]), str(r[4])) for r in rows]

    async def last_request_id(self) -> int:
        rows = await self._read("reading requests", "SELECT coalesce(max(id), 0) FROM requests")
        return int(rows[0][0])
