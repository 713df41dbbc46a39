"""The store's outbox and drafts (SQLite): a part of :class:`sportello.core.store.Store`.

A mixin, like :mod:`sportello.core.store_collector`: it uses the store's one write
transaction and its reader. The states and their rules are in
:mod:`sportello.core.outbox`; this module only persists them.

Every change is compare-and-set: :meth:`OutboxRecords.transition` writes the new
action only if the stored one is still in the state the caller read, so two
processes never both claim (or undo) one action. A delivered reply is marked sent
in the same transaction that records the business's message and takes the
conversation out of the queue (:meth:`OutboxRecords.deliver`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import aiosqlite

from sportello.core.ingest import FIELD_MAX, TEXT_MAX, field, message_id_key, storable, text
from sportello.core.outbox import Action, Kind, State
from sportello.core.records import Draft
from sportello.core.store_contract import Delivery
from sportello.core.store_sql import Row, bump, fetchall, json_object

__all__ = ["ACTIONS_KEPT_S", "OutboxRecords"]

ACTIONS_KEPT_S = 90 * 86_400.0  # finished actions are kept 90 days
DRAFTS_KEPT_S = 30 * 86_400.0

_COLUMNS = (
    "key, kind, channel_id, conversation_id, external_id, payload, made_by, made_at, due_at,"
    " state, attempts, next_try_at, lease_owner, error, retryable, done_at, result,"
    " updated_at, extra"
)


class OutboxRecords:
    """Methods of :class:`~sportello.core.store.Store`; see the module docstring."""

    # Provided by Store.
    def _transaction(
        self, what: str, *, durable: bool = False
    ) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        raise NotImplementedError

    async def _read(self, what: str, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        raise NotImplementedError

    # ------------------------------------------------------------------ actions

    async def enqueue(self, action: Action, *, drop_draft_of: str | None = None) -> None:
        """Commit a new action (its key must be new); with ``drop_draft_of``, that
        author's draft of the conversation goes in the same transaction (a reply
        sent is no longer being written)."""
        async with self._transaction("saving an action") as conn:
            if drop_draft_of is not None:
                await conn.execute(
                    "DELETE FROM drafts WHERE conversation_id = ? AND author = ?",
                    (int(action.conversation_id), drop_draft_of),
                )
            await conn.execute(
                f"INSERT INTO outbox ({_COLUMNS}) VALUES"  # noqa: S608 (constant columns)
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _row(action),
            )
            await _bump_for(conn, action)

    async def action(self, key: str) -> Action | None:
        rows = await self._read(
            "reading an action",
            f"SELECT {_COLUMNS} FROM outbox WHERE key = ?",  # noqa: S608 (constant columns)
            (key,),
        )
        return _action(rows[0]) if rows else None

    async def actions(
        self,
        *,
        states: Iterable[State] | None = None,
        conversation_id: int | None = None,
        channel_id: str | None = None,
        since: float | None = None,
        limit: int | None = None,
    ) -> list[Action]:
        """Actions, oldest first: in ``states``, of a conversation or channel, or
        updated at or after ``since``."""
        where: list[str] = []
        params: list[Any] = []
        if states is not None:
            wanted = [str(State(s)) for s in states]
            if not wanted:
                return []
            where.append(f"state IN ({', '.join('?' * len(wanted))})")
            params.extend(wanted)
        if conversation_id is not None:
            where.append("conversation_id = ?")
            params.append(int(conversation_id))
        if channel_id is not None:
            where.append("channel_id = ?")
            params.append(channel_id)
        if since is not None:
            where.append("updated_at >= ?")
            params.append(float(since))
        sql = f"SELECT {_COLUMNS} FROM outbox"  # noqa: S608 (constants and placeholders)
        if where:
            sql += " WHERE " + " AND ".join(where)
        if limit is None:
            rows = await self._read("reading the outbox", sql + " ORDER BY made_at, key", params)
        else:  # the newest ``limit``, oldest first
            sql += " ORDER BY made_at DESC, key DESC LIMIT ?"
            rows = (await self._read("reading the outbox", sql, [*params, int(limit)]))[::-1]
        return [_action(row) for row in rows]

    async def transition(self, new: Action, expected: State, *, durable: bool = False) -> bool:
        """Write ``new`` if the stored action is still ``expected``; True if written.

        ``durable``: on disk before this returns, even through a power cut (the
        claim before a send: a claim lost after the channel accepted would make
        the action pending again, and sent twice)."""
        async with self._transaction("saving an action", durable=durable) as conn:
            done = await _compare_and_set(conn, new, expected)
            if done:
                await _bump_for(conn, new)
            return done

    async def deliver(self, new: Action, delivery: Delivery) -> bool:
        """Mark a sending action sent and apply it to its conversation, atomically.

        False (and nothing written) when the action is no longer ``sending``.
        """
        async with self._transaction("recording a delivery") as conn:
            if not await _compare_and_set(conn, new, State.SENDING):
                return False
            await _apply(conn, new, delivery)
            await _bump_for(conn, new)
            return True

    async def prune_outbox(self, before: float) -> None:
        """Delete finished actions and drafts not touched since ``before``."""
        async with self._transaction("pruning the outbox") as conn:
            await conn.execute(
                "DELETE FROM outbox WHERE updated_at < ? AND state IN (?, ?, ?)",
                (before, str(State.SENT), str(State.UNDONE), str(State.DISCARDED)),
            )
            await conn.execute("DELETE FROM drafts WHERE updated_at < ?", (before,))

    # ------------------------------------------------------------------ drafts

    async def save_draft(self, draft: Draft) -> None:
        async with self._transaction("saving a draft") as conn:
            await conn.execute(
                "INSERT INTO drafts (conversation_id, author, text, opened_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (conversation_id, author) DO UPDATE SET"
                " text = excluded.text, updated_at = excluded.updated_at",
                (
                    int(draft.conversation_id),
                    text(draft.author, FIELD_MAX),
                    text(draft.text, TEXT_MAX),
                    float(draft.opened_at),
                    float(draft.updated_at),
                ),
            )
            await _bump_conversation(conn, int(draft.conversation_id))

    async def delete_draft(self, conversation_id: int, author: str) -> None:
        async with self._transaction("deleting a draft") as conn:
            await conn.execute(
                "DELETE FROM drafts WHERE conversation_id = ? AND author = ?",
                (int(conversation_id), author),
            )
            await _bump_conversation(conn, int(conversation_id))

    async def drafts(self, conversation_id: int | None = None) -> list[Draft]:
        sql = "SELECT conversation_id, author, text, opened_at, updated_at FROM drafts"
        params: tuple[Any, ...] = ()
        if conversation_id is not None:
            sql += " WHERE conversation_id = ?"
            params = (int(conversation_id),)
        rows = await self._read("reading drafts", sql + " ORDER BY opened_at", params)
        return [Draft(int(r[0]), str(r[1]), str(r[2]), float(r[3]), float(r[4])) for r in rows]


# ---------------------------------------------------------------------- helpers


async def _compare_and_set(conn: aiosqlite.Connection, new: Action, expected: State) -> bool:
    row = _row(new)
    cursor = await conn.execute(
        "UPDATE outbox SET state = ?, attempts = ?, next_try_at = ?, lease_owner = ?,"
        " error = ?, retryable = ?, done_at = ?, result = ?, updated_at = ?, due_at = ?,"
        " extra = ? WHERE key = ? AND state = ?",
        (
            row[9],
            row[10],
            row[11],
            row[12],
            row[13],
            row[14],
            row[15],
            row[16],
            row[17],
            row[8],
            row[18],
            new.key,
            str(expected),
        ),
    )
    return (cursor.rowcount or 0) == 1


async def _apply(conn: aiosqlite.Connection, action: Action, delivery: Delivery) -> None:
    at = float(delivery.at)
    cid = int(action.conversation_id)
    if action.kind is Kind.REPLY:
        message_id = delivery.message_id
        key = message_id_key(message_id) if message_id else "out:" + action.key
        await conn.execute(
            "INSERT INTO messages (conversation_id, key, author, author_name, sent_at, text)"
            " SELECT id, ?, 'business', ?, ?, ? FROM conversations WHERE id = ?"
            " ON CONFLICT (conversation_id, key) DO NOTHING",
            (key, field(delivery.author_name), at, text(action.text, TEXT_MAX), cid),
        )
        await conn.execute(
            "UPDATE conversations SET"
            " left_queue_at = CASE WHEN waiting_since IS NOT NULL THEN ?1 ELSE left_queue_at END,"
            " waiting_since = NULL, handled_at = ?1, snoozed_until = NULL, closed_at = NULL,"
            " first_response_at = coalesce(first_response_at, ?1),"
            " last_activity_at = max(last_activity_at, ?1) WHERE id = ?2",
            (at, cid),
        )
    elif action.kind in (Kind.CLOSE, Kind.SNOOZE):
        until = action.snooze_until() if action.kind is Kind.SNOOZE else None
        await conn.execute(
            "UPDATE conversations SET"
            " left_queue_at = CASE WHEN waiting_since IS NOT NULL THEN ?1 ELSE left_queue_at END,"
            " waiting_since = NULL, handled_at = ?1, snoozed_until = ?2, closed_at = ?3,"
            " last_activity_at = max(last_activity_at, ?1) WHERE id = ?4",
            (
                at,
                None if until is None or math.isinf(until) else until,
                at if action.kind is Kind.CLOSE else None,
                cid,
            ),
        )
    elif action.kind is Kind.ASSIGN:
        await conn.execute(
            "UPDATE conversations SET assignee = ? WHERE id = ?",
            (field(action.payload.get("assignee")), cid),
        )
    elif action.kind is Kind.REOPEN:
        await conn.execute(
            "UPDATE conversations SET handled_at = NULL, snoozed_until = NULL, closed_at = NULL,"
            " waiting_since = coalesce(waiting_since, ?1), left_queue_at = NULL,"
            " last_activity_at = max(last_activity_at, ?1) WHERE id = ?2",
            (at, cid),
        )


async def _bump_for(conn: aiosqlite.Connection, action: Action) -> None:
    await bump(conn, "outbox", f"c:{action.channel_id}", f"q:{action.channel_id}")


async def _bump_conversation(conn: aiosqlite.Connection, conversation_id: int) -> None:
    rows = await fetchall(
        conn, "SELECT channel_id FROM conversations WHERE id = ?", (conversation_id,)
    )
    scopes = ["outbox"] + [f"q:{row[0]}" for row in rows]
    await bump(conn, *scopes)


def _row(action: Action) -> Row:
    return (
        action.key,
        str(action.kind),
        action.channel_id,
        int(action.conversation_id),
        storable(action.external_id),
        json.dumps(_capped(action.payload), ensure_ascii=False, sort_keys=True),
        text(action.made_by, FIELD_MAX),
        float(action.made_at),
        float(action.due_at),
        str(action.state),
        int(action.attempts),
        action.next_try_at,
        action.lease_owner,
        None if action.error is None else text(action.error, FIELD_MAX),
        int(action.retryable),
        action.done_at,
        None if action.result is None else text(action.result, FIELD_MAX),
        float(action.updated_at),
        json.dumps(_capped(action.extra), ensure_ascii=False, sort_keys=True),
    )


def _capped(values: Mapping[str, str]) -> dict[str, str]:
    return {str(k)[:100]: text(v, TEXT_MAX) for k, v in values.items()}


def _action(row: Row) -> Action:
    return Action(
        key=str(row[0]),
        kind=Kind(row[1]),
        channel_id=str(row[2]),
        conversation_id=int(row[3]),
        external_id=str(row[4]),
        payload=json_object(row[5]),
        made_by=str(row[6]),
        made_at=float(row[7]),
        due_at=float(row[8]),
        state=State(row[9]),
        attempts=int(row[10]),
        next_try_at=row[11],
        lease_owner=row[12],
        error=row[13],
        retryable=bool(row[14]),
        done_at=row[15],
        result=row[16],
        updated_at=float(row[17]),
        extra=json_object(row[18]),
    )
