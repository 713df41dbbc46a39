"""Small SQL helpers shared by the SQLite store's modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import aiosqlite

Row = tuple[Any, ...]


async def fetchall(
    conn: aiosqlite.Connection, sql: str, parameters: Sequence[Any] = ()
) -> list[Row]:
    # Rows are plain tuples: no row factory is ever set.
    return cast(list[Row], await conn.execute_fetchall(sql, parameters))


async def bump(conn: aiosqlite.Connection, *scopes: str) -> None:
    """Advance the revisions of ``scopes``, inside the caller's transaction."""
    await conn.executemany(
        "INSERT INTO revisions (scope, n) VALUES (?, 1)"
        " ON CONFLICT (scope) DO UPDATE SET n = n + 1",
        [(scope,) for scope in dict.fromkeys(scopes)],
    )
