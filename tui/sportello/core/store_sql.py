"""Small SQL helpers shared by the SQLite store's modules."""

from __future__ import annotations

import json
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


def json_object(raw: object) -> dict[str, str]:
    """A JSON object column as ``{str: str}``; ``{}`` for anything else (never raises)."""
    try:
        value = json.loads(str(raw))
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}
