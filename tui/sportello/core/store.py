"""The store: conversations, messages, queue history and poll outcomes in SQLite.

Usage::

    store = await Store.open(path)
    try:
        ...
    finally:
        await store.close()

or, the same thing as a context manager (note the ``await``: ``open`` is a
coroutine that returns an open store, and the store is the context manager;
``async with Store.open(path)`` without it does not work)::

    async with await Store.open(path) as store:
        ...

Both connections are closed when the block ends, whatever ends it, and when
``open`` itself fails. (aiosqlite runs each connection in a non-daemon thread: a
connection left open would keep the process from exiting.)

One ``Store`` per process. It holds one writer connection (every write is one
``BEGIN IMMEDIATE`` transaction, serialised by an asyncio lock) and one read-only
reader connection. The database runs in WAL mode with a busy timeout, so several
processes can read while one writes, and writers in different processes queue for
the lock instead of failing.

No commit waits for the disk. ``synchronous = NORMAL`` (in WAL mode a commit then
survives a crash of the process, but its last transactions may roll back on a
power cut), and the WAL is written back to the database (checkpointed, with the
one fsync) by a checkpoint of its own, on a third connection, every
:data:`CHECKPOINT_EVERY` commits — never inside a commit. With ``synchronous =
FULL`` every COMMIT did an fsync, and on a busy disk (ext4 flushes everyone's
dirty data with it) a commit was seen to take 5 to 60 seconds while other
processes read: the whole server's dashboards froze behind it.

The file is created 0600 (its ``-wal``/``-shm`` are set 0600 after opening) and
missing parent folders 0700. An existing file's mode is left as it is.

Customer text is stored raw, never interpreted, but bounded: subjects and customer
fields at :data:`FIELD_MAX` characters, message text at :data:`TEXT_MAX`; a lone
surrogate (which UTF-8 cannot hold) becomes "?". External ids are never cut.

Every database or file failure is raised as :class:`StoreError`, whose message
names the store's path and what failed, and never carries customer text or secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from sportello.core.folding import SEARCH_MESSAGES, SEARCH_READ_CHARS, search_text
from sportello.core.ingest import (
    ERROR_MAX,
    FIELD_MAX,
    SNAPSHOT_HEARTBEAT_S,
    TEXT_MAX,
    message_key,
    prepare_fetch,
    snapshot_figures,
)
from sportello.core.ingest import storable as _storable
from sportello.core.ingest import text as _text
from sportello.core.leader import CollectorLock
from sportello.core.migrations import (
    APPLICATION_ID,
    MIGRATIONS,
    Migration,
    check,
    latest,
    statements,
)
from sportello.core.records import (
    ChannelRecord,
    ConversationState,
    DropReport,
    FirstResponse,
    Health,
    MessageRecord,
    PollOutcome,
    QueueItem,
    Snapshot,
)
from sportello.core.settings import Channel
from sportello.core.store_collector import CollectorRecords
from sportello.core.store_contract import Revisions, StoreError
from sportello.core.store_outbox import OutboxRecords
from sportello.core.store_sql import bump, fetchall
from sportello_sdk.models import ChannelState

PREPARE_IN_THREAD = 2_000  # conversations in a fetch above which it is prepared in a thread

__all__ = [
    "CHECKPOINT_EVERY",
    "ERROR_MAX",
    "FIELD_MAX",
    "HISTORY_S",
    "POLLS_S",
    "SNAPSHOT_HEARTBEAT_S",
    "TEXT_MAX",
    "WAL_LIMIT_BYTES",
    "Store",
    "StoreError",
    "message_key",
]

HISTORY_S = 365 * 86_400.0  # queue snapshots are kept a year
POLLS_S = 90 * 86_400.0  # poll outcomes are kept 90 days at most
CHECKPOINT_EVERY = 100  # commits between two checkpoints of the WAL
WAL_LIMIT_BYTES = 16 * 1024 * 1024  # the WAL's file is cut back to this once written back

Row = tuple[Any, ...]


class Store(CollectorRecords, OutboxRecords):
    """The SQLite store (the :class:`~sportello.core.store_contract.StoreBackend` contract).
    Open with :meth:`open`; see the module docstring.

    Who collects and the requests made of it: :mod:`sportello.core.store_collector`; the
    outbox and drafts: :mod:`sportello.core.store_outbox`.
    """

    def __init__(
        self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection
    ) -> None:
        """Use :meth:`open`."""
        self.path = path
        self._writer: aiosqlite.Connection | None = writer
        self._reader: aiosqlite.Connection | None = reader
        self._lock = asyncio.Lock()
        self._checkpointer: aiosqlite.Connection | None = None
        self._checkpoint_task: asyncio.Task[None] | None = None
        self._since_checkpoint = 0
        self._lead = CollectorLock(path)

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        migrations: Sequence[Migration] = MIGRATIONS,
        busy_timeout: float = 5.0,
    ) -> Store:
        """Open (creating if needed) the store at ``path`` and bring its schema up to date.

        ``migrations`` is for tests of the migration mechanism. ``busy_timeout`` is
        how many seconds a statement waits for another process's lock before failing.
        Raises :class:`StoreError` for a file that cannot be opened, is not a
        sportello store, or was written by a newer sportello.
        """
        check(migrations)
        store_path = _absolute(path)
        writer: aiosqlite.Connection | None = None
        reader: aiosqlite.Connection | None = None
        try:
            _create_private(store_path)
            uri = store_path.as_uri()
            writer = await _connect(f"{uri}?mode=rw")
            await _configure(writer, busy_timeout)
            mode = await _fetchall(writer, "PRAGMA journal_mode = WAL")
            if not mode or str(mode[0][0]).lower() != "wal":
                raise StoreError(f"cannot open the store at {store_path}: WAL mode is unavailable")
            await writer.execute("PRAGMA synchronous = NORMAL")
            await writer.execute("PRAGMA wal_autocheckpoint = 0")  # see _checkpoint
            # A WAL that a burst grew (the first fetch of a big queue) is cut back
            # to this when the writer starts it over after a checkpoint.
            await writer.execute(f"PRAGMA journal_size_limit = {int(WAL_LIMIT_BYTES)}")
            await _migrate(writer, store_path, migrations)
            for statement in _SEARCH_STALE:
                await writer.execute(statement)
            _private_sidecars(store_path)
            reader = await _connect(f"{uri}?mode=ro")
            await _configure(reader, busy_timeout)
            await _fetchall(reader, "SELECT count(*) FROM channels")
        except BaseException as exc:
            for conn in (reader, writer):
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
            if isinstance(exc, StoreError):
                raise
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cannot open the store at {store_path}: {exc}") from exc
            if isinstance(exc, OSError):
                reason = exc.strerror or type(exc).__name__
                raise StoreError(f"cannot open the store at {store_path}: {reason}") from exc
            raise
        return cls(store_path, writer, reader)

    async def close(self) -> None:
        """Close the connections and give up the lead, if held. Safe to call more than once."""
        self._lead.release()
        async with self._lock:
            reader, self._reader = self._reader, None
            writer, self._writer = self._writer, None
            task, self._checkpoint_task = self._checkpoint_task, None
        if task is not None:
            with contextlib.suppress(Exception):
                await task  # a checkpoint under way is finished, not cut off
        checkpointer, self._checkpointer = self._checkpointer, None
        try:
            if checkpointer is not None:
                with contextlib.suppress(Exception):
                    await checkpointer.close()
            if reader is not None:
                await reader.close()
        finally:
            if writer is not None:
                with contextlib.suppress(sqlite3.Error):  # planner statistics, bounded
                    await writer.execute("PRAGMA analysis_limit = 400")
                    await writer.execute("PRAGMA optimize")
                await writer.close()

    @property
    def closed(self) -> bool:
        return self._writer is None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ writes

    async def sync_channels(self, channels: Iterable[Channel], kinds: Mapping[str, str]) -> None:
        """Make the channels table match the config.

        ``kinds`` maps a channel id (or, failing that, an adapter name) to the
        channel's kind; "other" when neither is there. Channels no longer in the
        config keep their rows and history but are no longer listed by
        :meth:`channels`, which follows the config's order.
        """
        rows = [
            (
                channel.id,
                channel.label,
                channel.adapter,
                str(kinds.get(channel.id) or kinds.get(channel.adapter) or "other"),
                position,
            )
            for position, channel in enumerate(channels)
        ]
        configured = {row[0] for row in rows}
        async with self._transaction("saving the channels") as conn:
            listed = await _fetchall(conn, "SELECT id FROM channels WHERE position IS NOT NULL")
            await conn.executemany(
                "UPDATE channels SET position = NULL WHERE id = ?",
                [(cid,) for (cid,) in listed if cid not in configured],
            )
            await conn.executemany(
                "INSERT INTO channels (id, label, adapter, kind, position) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET label = excluded.label,"
                " adapter = excluded.adapter, kind = excluded.kind, position = excluded.position"
                " WHERE (label, adapter, kind, position) IS NOT"
                " (excluded.label, excluded.adapter, excluded.kind, excluded.position)",
                rows,
            )
            await bump(conn, *(f"c:{row[0]}" for row in rows))

    async def apply_fetch(
        self,
        channel_id: str,
        state: ChannelState,
        fetched_at: float,
        *,
        keep: Iterable[str] = (),
        poll: PollOutcome | None = None,
        health: Health = Health.OK,
        dropped: DropReport | None = None,
    ) -> int:
        """Store what one fetch saw on a channel, in one transaction.

        Conversations are upserted by (channel, external id): the earliest
        ``first_customer_message_at`` is kept, a known ``first_response_at`` is
        never cleared (the earliest is kept), customer fields the fetch lacks keep
        their stored value. Messages are upserted by :func:`message_key`; none is
        ever dropped. When ``state.complete``, conversations waiting before and
        absent now leave the queue (``waiting_since`` NULL, ``left_queue_at`` =
        ``fetched_at``). Rows that did not change are not rewritten. ``keep``:
        external ids the fetch saw but the sense checks dropped
        (:mod:`sportello.core.state_check`): their rows stay as they are, and
        they do not leave the queue.

        A conversation whose messages changed (or that has no search text yet) gets
        its ``search_text`` recomputed from its last stored messages
        (:func:`sportello.core.folding.search_text`): what the queue filter searches of them.

        Then the channel's on-hold figures are saved and a queue snapshot is
        appended: on a channel with ``on_hold`` (a phone queue) the callers on
        hold and the start of the longest hold, else the waiting conversations
        and the oldest ``waiting_since``.

        ``poll``, ``health``, ``dropped``: the poll that made the fetch, recorded as
        :meth:`record_poll` does (its ``conversations`` set to the waiting count), in
        the same transaction: one commit per poll.

        Returns the number of waiting conversations of the channel after the fetch.
        """
        if len(state.conversations) > PREPARE_IN_THREAD:
            # Tuples and fingerprints for every conversation: at 100,000 a good part of
            # a second of pure Python, which must not be the screen's.
            fetch = await asyncio.to_thread(prepare_fetch, state)
        else:
            fetch = prepare_fetch(state)
        on_hold, longest_hold_s = fetch.on_hold, fetch.longest_hold_s

        async with self._transaction("saving a fetch") as conn:
            await self._require_channel(conn, channel_id)
            # What the store holds of this channel's conversations: the fingerprint
            # each was stored with (None where it may not be trusted) and which wait.
            stored = await _fetchall(conn, _STORED_FINGERPRINTS, (channel_id, fetched_at))
            known = {external_id: print_ for _cid, external_id, print_, _w in stored}
            changed = {
                external_id: print_
                for external_id, print_ in fetch.fingerprints.items()
                if known.get(external_id) != print_
            }
            conversations = [
                (channel_id, *row, fetched_at, changed[row[0]])
                for row in fetch.conversations
                if row[0] in changed
            ]
            changes = conn.total_changes
            await conn.executemany(_UPSERT_CONVERSATION, conversations)
            queue_changed = conn.total_changes != changes
            # The changed ids, in a table of this connection's temp database (never
            # in the file): any string an id may hold compares exactly.
            await conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS fetched (external_id TEXT PRIMARY KEY)"
                " WITHOUT ROWID"
            )
            await conn.execute("DELETE FROM temp.fetched")
            await conn.executemany(
                "INSERT OR IGNORE INTO temp.fetched (external_id) VALUES (?)",
                [(external_id,) for external_id in changed],
            )
            messages = fetch.messages
            if messages and changed:
                found = await _fetchall(
                    conn,
                    # CROSS JOIN: walk the ids, look each up (the planner may
                    # otherwise scan the table for every id when it has no stats).
                    "SELECT c.external_id, c.id FROM temp.fetched AS f"
                    " CROSS JOIN conversations AS c"
                    " WHERE c.channel_id = ? AND c.external_id = f.external_id",
                    (channel_id,),
                )
                await conn.executemany(
                    _UPSERT_MESSAGE,
                    (
                        (conversation_id, *row)
                        for external_id, conversation_id in found
                        for row in messages.get(external_id, ())
                    ),
                )
            await conn.execute(
                # Stored before schema 2 (or without messages yet): compute it now.
                # (A conversation without search text is never skipped.)
                "INSERT OR IGNORE INTO temp.search_stale (conversation_id)"
                " SELECT c.id FROM temp.fetched AS f CROSS JOIN conversations AS c"
                " WHERE c.channel_id = ? AND c.external_id = f.external_id"
                " AND c.search_text IS NULL",
                (channel_id,),
            )
            changes = conn.total_changes
            await _refresh_search_text(conn)
            if state.complete:
                # Waiting before, absent now (and not dropped: those keep their rows).
                present = set(fetch.fingerprints)
                present.update(_storable(str(external_id)) for external_id in keep)
                await conn.executemany(
                    "UPDATE conversations SET waiting_since = NULL, left_queue_at = ?,"
                    " fingerprint = NULL WHERE id = ? AND waiting_since IS NOT NULL",
                    [
                        (fetched_at, conversation_id)
                        for conversation_id, external_id, _print, waiting in stored
                        if waiting and external_id not in present
                    ],
                )
            queue_changed = queue_changed or conn.total_changes != changes
            await conn.execute(
                "UPDATE channels SET on_hold = ?, longest_hold_s = ?"
                " WHERE id = ? AND (on_hold, longest_hold_s) IS NOT (?, ?)",
                (on_hold, longest_hold_s, channel_id, on_hold, longest_hold_s),
            )
            if fetch.memory is not None:
                await conn.execute(
                    "UPDATE channels SET memory = ? WHERE id = ? AND memory IS NOT ?",
                    (fetch.memory, channel_id, fetch.memory),
                )
            counted = await _fetchall(
                conn,
                "SELECT count(*), min(waiting_since) FROM conversations"
                " WHERE channel_id = ? AND waiting_since IS NOT NULL",
                (channel_id,),
            )
            waiting_count = int(counted[0][0])
            snapshot_waiting, oldest = snapshot_figures(
                fetch, waiting_count, counted[0][1], fetched_at
            )
            await bump(conn, f"c:{channel_id}", *([f"q:{channel_id}"] if queue_changed else []))
            await _snapshot(conn, channel_id, fetched_at, snapshot_waiting, oldest)
            if poll is not None:
                outcome = dataclasses.replace(
                    poll, channel_id=channel_id, conversations=waiting_count
                )
                await _record_poll(conn, outcome, health, dropped)
        return waiting_count

    async def record_poll(
        self, outcome: PollOutcome, health: Health, *, dropped: DropReport | None = None
    ) -> None:
        """Append a poll's outcome and set the channel's health.

        ``outcome.error`` must already be free of secrets; it is capped at
        :data:`ERROR_MAX` characters. A successful poll clears ``failing_since``, and
        ``last_error`` unless it carries a warning (an adapter that answered but
        blocked its thread: ``ok`` with an ``error``); a failed one sets
        ``failing_since`` to the start of the first poll of the failing run. A
        successful poll also sets what its sense checks ``dropped`` (None:
        nothing); a failed one keeps the last.
        """
        async with self._transaction("saving a poll") as conn:
            await self._require_channel(conn, outcome.channel_id)
            await _record_poll(conn, outcome, health, dropped)

    async def prune(self, before: float, *, history_before: float | None = None) -> None:
        """Delete what retention no longer allows.

        - conversations (with their messages) whose last activity is before
          ``before``, unless they are waiting;
        - a channel's queue snapshots taken before ``history_before``, by default
          those more than a year (:data:`HISTORY_S`) older than its newest one;
        - a channel's poll outcomes that finished before ``before`` or more than
          :data:`POLLS_S` before its newest one (a poll every 30 s is a million
          rows a year per channel; their use is diagnosing recent trouble).
        """
        async with self._transaction("pruning") as conn:
            await conn.execute(
                "DELETE FROM conversations WHERE last_activity_at < ? AND waiting_since IS NULL",
                (before,),
            )
            channel_ids = [row[0] for row in await _fetchall(conn, "SELECT id FROM channels")]
            if history_before is None:
                await conn.executemany(
                    "DELETE FROM snapshots WHERE channel_id = ?1 AND taken_at <"
                    " (SELECT max(taken_at) FROM snapshots WHERE channel_id = ?1) - ?2",
                    [(cid, HISTORY_S) for cid in channel_ids],
                )
            else:
                await conn.execute("DELETE FROM snapshots WHERE taken_at < ?", (history_before,))
            await conn.executemany(
                "DELETE FROM polls WHERE channel_id = ?1 AND finished_at < max(?2,"
                " coalesce((SELECT max(finished_at) FROM polls WHERE channel_id = ?1) - ?3, ?2))",
                [(cid, before, POLLS_S) for cid in channel_ids],
            )

    # ------------------------------------------------------------------ reads

    async def save_transport(self, channel_id: str, report: str) -> None:
        """What the channel's HTTP policy saw (JSON: breaker, rate limits, TLS facts),
        for the security checklist; written only when it changed."""
        async with self._transaction("saving what the channel's connection showed") as conn:
            await conn.execute(
                "UPDATE channels SET transport = ? WHERE id = ? AND transport IS NOT ?",
                (report, channel_id, report),
            )

    async def transports(self) -> dict[str, dict[str, Any]]:
        """Every channel's last transport report, by channel id."""
        rows = await self._read(
            "reading what the channels' connections showed",
            "SELECT id, transport FROM channels WHERE transport IS NOT NULL",
        )
        return {str(cid): value for cid, text in rows if isinstance(value := _json(text), dict)}

    async def memories(self) -> dict[str, dict[str, Any]]:
        """Every channel's memory (what its last fetch asked to keep), by channel id."""
        rows = await self._read(
            "reading the channels' memory",
            "SELECT id, memory FROM channels WHERE memory IS NOT NULL",
        )
        return {str(cid): value for cid, text in rows if isinstance(value := _json(text), dict)}

    async def channels(self) -> list[ChannelRecord]:
        """The configured channels, in the config's order."""
        rows = await self._read(
            "reading the channels",
            "SELECT id, label, adapter, kind, health, last_error, failing_since, last_poll_at,"
            " last_ok_at, on_hold, longest_hold_s, dropped FROM channels"
            " WHERE position IS NOT NULL ORDER BY position",
        )
        return [
            ChannelRecord(
                row[0],
                row[1],
                row[2],
                row[3],
                _health(row[4]),
                row[5],
                row[6],
                row[7],
                row[8],
                row[9],
                row[10],
                DropReport.from_json(row[11]),
            )
            for row in rows
        ]

    async def waiting(
        self, channel_id: str | None = None, *, search: bool = True
    ) -> list[QueueItem]:
        """Every waiting conversation (of one channel, if given), longest waiting first.

        ``search=False``: without the search texts (empty), a few hundred bytes a
        conversation that only the filter reads.
        """
        select = _WAITING if search else _WAITING_UNSEARCHED
        if channel_id is None:
            rows = await self._read("reading the queue", select + _WAITING_ORDER)
        else:
            rows = await self._read(
                "reading the queue",
                select + " AND channel_id = ?" + _WAITING_ORDER,
                (channel_id,),
            )
        return _items(rows)

    async def waiting_summary(self) -> dict[str, tuple[int, float]]:
        """Per channel: how many conversations wait, and the oldest waiting since.

        Reads only the waiting index: cheap even with 100,000 waiting.
        """
        rows = await self._read(
            "counting the queue",
            "SELECT channel_id, count(*), min(waiting_since) FROM conversations"
            " WHERE waiting_since IS NOT NULL GROUP BY channel_id",
        )
        return {row[0]: (int(row[1]), float(row[2])) for row in rows}

    async def waiting_head(self, per_channel: int) -> list[QueueItem]:
        """The ``per_channel`` longest-waiting conversations of every channel.

        Within a channel the longest waiting has the worst gap, so these hold
        the top of the queue in any of its orders by gap or wait: enough for
        a first screen while the whole queue is read.
        """
        channels = await self._read(
            "reading the queue",
            "SELECT DISTINCT channel_id FROM conversations WHERE waiting_since IS NOT NULL",
        )
        items: list[QueueItem] = []
        for (channel_id,) in channels:
            rows = await self._read(
                "reading the queue",
                _WAITING + " AND channel_id = ?" + _WAITING_ORDER + " LIMIT ?",
                (channel_id, int(per_channel)),
            )
            items.extend(_items(rows))
        return items

    async def conversation(self, conversation_id: int) -> QueueItem | None:
        """The conversation with this id while it waits; ``None`` once it has left the
        queue (or never existed)."""
        rows = await self._read(
            "reading a conversation", _WAITING + " AND id = ?", (int(conversation_id),)
        )
        return _items(rows)[0] if rows else None

    async def messages(self, conversation_id: int, limit: int = 50) -> list[MessageRecord]:
        """The last ``limit`` messages of a conversation, oldest first."""
        if limit <= 0:
            return []
        rows = await self._read(
            "reading messages",
            "SELECT author, author_name, sent_at, text FROM ("
            " SELECT id, author, author_name, sent_at, text FROM messages"
            " WHERE conversation_id = ? ORDER BY sent_at DESC, id DESC LIMIT ?"
            ") ORDER BY sent_at, id",
            (int(conversation_id), int(limit)),
        )
        return list(itertools.starmap(MessageRecord, rows))

    async def first_responses(self, since: float) -> list[FirstResponse]:
        """Conversations first answered at or after ``since``, oldest answer first."""
        rows = await self._read(
            "reading first responses",
            "SELECT channel_id, first_customer_message_at, first_response_at FROM conversations"
            " WHERE first_response_at >= ? ORDER BY first_response_at",
            (since,),
        )
        return list(itertools.starmap(FirstResponse, rows))

    async def snapshots(self, channel_id: str, since: float) -> list[Snapshot]:
        """A channel's queue snapshots taken at or after ``since``, oldest first."""
        rows = await self._read(
            "reading queue history",
            "SELECT channel_id, taken_at, waiting, oldest_waiting_since FROM snapshots"
            " WHERE channel_id = ? AND taken_at >= ? ORDER BY taken_at",
            (channel_id, since),
        )
        return list(itertools.starmap(Snapshot, rows))

    async def trend(
        self, channel_id: str, since: float, bucket: float, *, carry: float = 0.0
    ) -> list[tuple[int, int]]:
        """The deepest queue of a channel per time bucket since ``since``.

        Pairs ``(index, waiting)``, ``index`` counting buckets of ``bucket`` seconds
        from ``since``; buckets without a snapshot are left out. Computed in SQLite
        on the (channel, time) key, so a week out of a year of snapshots is cheap.

        ``carry``: snapshots are taken on change (and a heartbeat), so a snapshot
        holds until the next one, for up to ``carry`` seconds: a bucket without a
        snapshot that starts within ``carry`` of the last one before it has that
        one's figure.
        """
        if not bucket > 0:
            raise ValueError("bucket must be a positive number of seconds")
        rows = await self._read(
            "reading queue history",
            "SELECT CAST((taken_at - ?1) / ?2 AS INTEGER) AS bucket, max(waiting),"
            " max(taken_at) FROM snapshots WHERE channel_id = ?3 AND taken_at >= ?1"
            " GROUP BY bucket ORDER BY bucket",
            (since, float(bucket), channel_id),
        )
        if not carry > 0:
            return [(int(index), int(value)) for index, value, _last in rows]
        before = await self._read(
            "reading queue history",
            "SELECT taken_at, waiting FROM snapshots WHERE channel_id = ? AND taken_at < ?"
            " ORDER BY taken_at DESC LIMIT 1",
            (channel_id, since),
        )
        # Each bucket's last snapshot (SQLite: a bare column beside a lone max()
        # comes from the row holding the max).
        last_value = {
            float(taken_at): int(waiting)
            for _bucket, taken_at, waiting in await self._read(
                "reading queue history",
                "SELECT CAST((taken_at - ?1) / ?2 AS INTEGER) AS bucket, max(taken_at), waiting"
                " FROM snapshots WHERE channel_id = ?3 AND taken_at >= ?1 GROUP BY bucket",
                (since, float(bucket), channel_id),
            )
        }
        own = {int(index): (int(value), float(last)) for index, value, last in rows}
        held: tuple[float, int] | None = (
            (float(before[0][0]), int(before[0][1])) if before else None
        )
        out: list[tuple[int, int]] = []
        index, end = 0, max(own, default=-1)
        while True:
            start = since + index * bucket
            carried = held[1] if held is not None and start - held[0] <= carry else None
            if index in own:
                value, last = own[index]
                out.append((index, value))
                held = (last, last_value.get(last, value))
            elif carried is not None:
                out.append((index, carried))
            elif index > end:
                break
            else:  # nothing held: on to the next bucket with snapshots
                index = min(i for i in own if i > index)
                continue
            index += 1
        return out

    async def revisions(self) -> Revisions:
        """The store's revisions (see :mod:`sportello.core.store_contract`): one small read."""
        rows = await self._read("reading revisions", "SELECT scope, n FROM revisions")
        channels: dict[str, int] = {}
        queues: dict[str, int] = {}
        outbox = collector = 0
        for scope, n in rows:
            kind, _, name = str(scope).partition(":")
            if kind == "c":
                channels[name] = int(n)
            elif kind == "q":
                queues[name] = int(n)
            elif scope == "outbox":
                outbox = int(n)
            elif scope == "collector":
                collector = int(n)
        return Revisions(channels, queues, outbox, collector)

    async def conversation_state(self, conversation_id: int) -> ConversationState | None:
        """How a conversation has been handled (waiting or not)."""
        rows = await self._read(
            "reading a conversation",
            "SELECT c.id, c.assignee, (SELECT max(sent_at) FROM messages AS m"
            " WHERE m.conversation_id = c.id AND m.author = 'business'),"
            " c.handled_at, c.snoozed_until, c.closed_at IS NOT NULL"
            " FROM conversations AS c WHERE c.id = ?",
            (int(conversation_id),),
        )
        if not rows:
            return None
        row = rows[0]
        return ConversationState(int(row[0]), row[1], row[2], row[3], row[4], bool(row[5]))

    # ------------------------------------------------------------------ leadership

    def try_lead(self) -> bool:
        """Take the right to collect for this store if nobody holds it; never waits.

        An OS lock on a file beside the database (``flock``): the kernel releases
        it when the holding process exits, even on a crash or ``kill -9``, and
        :meth:`close` releases it. A folder that cannot hold the lock file is a
        :class:`StoreError`.
        """
        try:
            return self._lead.try_acquire()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise StoreError(f"cannot use the store at {self.path}: {reason}") from exc

    def release_lead(self) -> None:
        self._lead.release()

    @property
    def leading(self) -> bool:
        return self._lead.held

    # ------------------------------------------------------------------ internals

    @contextlib.asynccontextmanager
    async def _transaction(
        self, what: str, *, durable: bool = False
    ) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction, begun IMMEDIATE, committed at the end of the block.

        ``durable``: the commit waits for the disk (``synchronous = FULL`` for this
        transaction alone), so that it survives a power cut too — the outbox's
        claim of an action before it is handed to the channel.
        """
        async with self._lock:
            conn = self._writer
            if conn is None:
                raise StoreError(f"the store at {self.path} is closed ({what})")
            if durable:
                try:
                    await conn.execute("PRAGMA synchronous = FULL")
                except sqlite3.Error as exc:
                    raise self._failure(what, exc) from exc
            # A statement runs on the connection's thread whether or not the task
            # awaiting it is cancelled: a cancelled BEGIN may still have begun, a
            # cancelled COMMIT may still commit. So every way out of here ends with
            # a ROLLBACK queued behind them (a no-op when nothing is open), or the
            # connection would keep the write lock and refuse the next BEGIN.
            try:
                await conn.execute("BEGIN IMMEDIATE")
                yield conn
                await conn.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    await conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._failure(what, exc) from exc
                raise
            finally:
                if durable:  # back to commits that do not wait for the disk
                    with contextlib.suppress(Exception):
                        await conn.execute("PRAGMA synchronous = NORMAL")
            self._since_checkpoint += 1
            if self._since_checkpoint >= CHECKPOINT_EVERY and self._checkpoint_task is None:
                self._since_checkpoint = 0
                self._checkpoint_task = asyncio.create_task(self._checkpoint(), name="checkpoint")

    async def _checkpoint(self) -> None:
        """Write the WAL back into the database, beside the writer, mostly not in its way.

        PASSIVE: it takes no lock that a writer or a reader of another process
        waits for. First the bulk, while this process goes on writing (on its own
        connection: its fsync holds up no commit); then, holding this store's
        write lock, the few frames written meanwhile, so that the WAL is written
        back whole and the next write can start it over. Without that second
        step a busy writer never let a checkpoint catch up, and the WAL grew for
        as long as the program ran.
        """
        try:
            if self._checkpointer is None:
                conn = await _connect(f"{self.path.as_uri()}?mode=rw")
                await conn.execute("PRAGMA busy_timeout = 0")
                self._checkpointer = conn
            # Fetched to the end: a statement left stepped would hold a read mark on
            # the WAL, which then could never start over.
            await _fetchall(self._checkpointer, "PRAGMA wal_checkpoint(PASSIVE)")
            async with self._lock:
                if self._writer is not None:
                    await _fetchall(self._checkpointer, "PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            pass  # the next one tries again; the WAL only grows meanwhile
        finally:
            self._checkpoint_task = None

    async def _read(self, what: str, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        conn = self._reader
        if conn is None:
            raise StoreError(f"the store at {self.path} is closed ({what})")
        try:
            return await _fetchall(conn, sql, parameters)
        except sqlite3.Error as exc:
            raise self._failure(what, exc) from exc

    async def _require_channel(self, conn: aiosqlite.Connection, channel_id: str) -> None:
        if not await _fetchall(conn, "SELECT 1 FROM channels WHERE id = ?", (channel_id,)):
            raise StoreError(
                f"the store at {self.path} has no channel {channel_id!r}:"
                " sync_channels() must come first"
            )

    def _failure(self, what: str, exc: sqlite3.Error) -> StoreError:
        # sqlite3's messages name tables and columns, never bound values.
        return StoreError(f"the store at {self.path}: {what} failed: {exc}")


# ---------------------------------------------------------------------- SQL


def _items(rows: Iterable[Sequence[Any]]) -> list[QueueItem]:
    """The QueueItems of rows read with ``_WAITING``, with one string per channel id:
    the driver makes one for every row (a million copies of a few names)."""
    shared: dict[str, str] = {}
    share = shared.setdefault
    return [
        QueueItem(conversation_id, share(channel_id, channel_id), since, texts, search_text)
        for conversation_id, channel_id, since, texts, search_text in rows
    ]


# A QueueItem's fields, in its order: its texts are the six columns joined by char(31)
# (each without it, a NULL as empty: sportello.core.records.pack_texts).
_WAITING = (
    "SELECT id, channel_id, waiting_since,"
    " replace(coalesce(external_id, ''), char(31), '') || char(31) ||"
    " replace(coalesce(customer_name, ''), char(31), '') || char(31) ||"
    " replace(coalesce(customer_email, ''), char(31), '') || char(31) ||"
    " replace(coalesce(customer_phone, ''), char(31), '') || char(31) ||"
    " replace(coalesce(customer_handle, ''), char(31), '') || char(31) ||"
    " replace(coalesce(subject, ''), char(31), ''),"
    " coalesce(search_text, '') FROM conversations WHERE waiting_since IS NOT NULL"
)
_WAITING_UNSEARCHED = _WAITING.replace("coalesce(search_text, '')", "''")
_WAITING_ORDER = " ORDER BY waiting_since, id"

# ?13 is the fetch time, ?14 the fingerprint (written with the row, in the same
# write: the trigger of schema 6 clears it only when an update leaves it as it
# was). Unqualified columns are the stored row; the WHERE skips
# rewriting rows that would not change (every poll upserts the whole queue).
# {kept} is sportello.core.ingest.kept_waiting: a wait sportello already handled (answered,
# closed, snoozed) stays handled until the customer writes again or the snooze ends.
_KEPT_WAITING = """CASE
    WHEN excluded.waiting_since IS NOT NULL AND handled_at IS NOT NULL
        AND excluded.waiting_since <= handled_at
        AND (snoozed_until IS NULL OR snoozed_until > ?13) THEN NULL
    ELSE excluded.waiting_since
END"""

_UPSERT_CONVERSATION = """
INSERT INTO conversations (
    channel_id, external_id, customer_name, customer_email, customer_phone, customer_handle,
    subject, first_customer_message_at, waiting_since, first_response_at, assignee,
    last_activity_at, fingerprint
) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?14)
ON CONFLICT (channel_id, external_id) DO UPDATE SET
    fingerprint = excluded.fingerprint,
    customer_name = coalesce(excluded.customer_name, customer_name),
    customer_email = coalesce(excluded.customer_email, customer_email),
    customer_phone = coalesce(excluded.customer_phone, customer_phone),
    customer_handle = coalesce(excluded.customer_handle, customer_handle),
    subject = excluded.subject,
    first_customer_message_at = min(first_customer_message_at, excluded.first_customer_message_at),
    waiting_since = {kept},
    first_response_at = coalesce(min(first_response_at, excluded.first_response_at),
        first_response_at, excluded.first_response_at),
    assignee = excluded.assignee,
    last_activity_at = max(last_activity_at, excluded.last_activity_at),
    left_queue_at = CASE
        WHEN ({kept}) IS NOT NULL THEN NULL
        WHEN waiting_since IS NOT NULL THEN ?13
        ELSE left_queue_at
    END
WHERE (
    customer_name, customer_email, customer_phone, customer_handle, subject,
    first_customer_message_at, waiting_since, first_response_at, assignee, last_activity_at,
    fingerprint
) IS NOT (
    coalesce(excluded.customer_name, customer_name),
    coalesce(excluded.customer_email, customer_email),
    coalesce(excluded.customer_phone, customer_phone),
    coalesce(excluded.customer_handle, customer_handle),
    excluded.subject,
    min(first_customer_message_at, excluded.first_customer_message_at),
    {kept},
    coalesce(min(first_response_at, excluded.first_response_at),
        first_response_at, excluded.first_response_at),
    excluded.assignee,
    max(last_activity_at, excluded.last_activity_at),
    excluded.fingerprint
)
""".replace("{kept}", _KEPT_WAITING)

# A channel's conversations that a fetch may skip or take out of the queue: (id,
# external id, the fingerprint it was stored with, waiting). The fingerprint is
# NULL where a fetch saying the same again must still be applied: no search text
# yet, or a snooze that has run out by ?2, the fetch time (the wait comes back,
# sportello.core.ingest.kept_waiting).
_STORED_FINGERPRINTS = """
SELECT id, external_id,
    CASE WHEN search_text IS NOT NULL AND (snoozed_until IS NULL OR snoozed_until > ?2)
        THEN fingerprint END,
    waiting_since IS NOT NULL
FROM conversations
WHERE channel_id = ?1 AND (fingerprint IS NOT NULL OR waiting_since IS NOT NULL)
"""

# Conversations whose search text is out of date: a message of theirs was inserted
# or changed through this connection (the upserts skip unchanged messages, so an
# unchanged conversation is never marked). Temp: of this connection, never in the file.
_SEARCH_STALE = (
    "CREATE TEMP TABLE IF NOT EXISTS search_stale (conversation_id INTEGER PRIMARY KEY)",
    # NOT EXISTS rather than OR IGNORE: the upsert's conflict clause would override
    # the trigger's.
    "CREATE TEMP TRIGGER IF NOT EXISTS search_stale_insert AFTER INSERT ON main.messages"
    " BEGIN INSERT INTO search_stale SELECT new.conversation_id WHERE NOT EXISTS"
    " (SELECT 1 FROM search_stale WHERE conversation_id = new.conversation_id); END",
    "CREATE TEMP TRIGGER IF NOT EXISTS search_stale_update AFTER UPDATE ON main.messages"
    " BEGIN INSERT INTO search_stale SELECT new.conversation_id WHERE NOT EXISTS"
    " (SELECT 1 FROM search_stale WHERE conversation_id = new.conversation_id); END",
)

# The last messages of the stale conversations, oldest first, each cut to what
# search_text() reads of it.
_STALE_LAST_MESSAGES = """
SELECT conversation_id, text FROM (
    SELECT m.conversation_id, substr(m.text, 1, ?1) AS text, m.sent_at, m.id,
        row_number() OVER (
            PARTITION BY m.conversation_id ORDER BY m.sent_at DESC, m.id DESC
        ) AS rank
    FROM temp.search_stale AS s CROSS JOIN messages AS m ON m.conversation_id = s.conversation_id
) WHERE rank <= ?2 ORDER BY conversation_id, sent_at, id
"""

_UPSERT_MESSAGE = """
INSERT INTO messages (conversation_id, key, author, author_name, sent_at, text)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (conversation_id, key) DO UPDATE SET
    author = excluded.author, author_name = excluded.author_name,
    sent_at = excluded.sent_at, text = excluded.text
WHERE (author, author_name, sent_at, text)
    IS NOT (excluded.author, excluded.author_name, excluded.sent_at, excluded.text)
"""


# ---------------------------------------------------------------------- helpers


async def _record_poll(
    conn: aiosqlite.Connection,
    outcome: PollOutcome,
    health: Health,
    dropped: DropReport | None,
) -> None:
    """:meth:`Store.record_poll`, inside the caller's transaction."""
    error = None if outcome.error is None else _text(outcome.error, ERROR_MAX)
    ok = bool(outcome.ok)
    await conn.execute(
        "INSERT INTO polls (channel_id, started_at, finished_at, ok, error, conversations)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            outcome.channel_id,
            outcome.started_at,
            outcome.finished_at,
            int(ok),
            error,
            int(outcome.conversations),
        ),
    )
    await conn.execute(
        "UPDATE channels SET health = ?, last_error = ?, last_poll_at = ?,"
        " last_ok_at = CASE WHEN ? THEN ? ELSE last_ok_at END,"
        " failing_since = CASE WHEN ? THEN NULL ELSE coalesce(failing_since, ?) END,"
        " dropped = CASE WHEN ? THEN ? ELSE dropped END"
        " WHERE id = ?",
        (
            str(Health(health)),
            error,
            outcome.finished_at,
            ok,
            outcome.finished_at,
            ok,
            outcome.started_at,
            ok,
            None if dropped is None else dropped.to_json(),
            outcome.channel_id,
        ),
    )
    await bump(conn, f"c:{outcome.channel_id}")


async def _snapshot(
    conn: aiosqlite.Connection,
    channel_id: str,
    taken_at: float,
    waiting: int,
    oldest: float | None,
) -> None:
    """Append a queue snapshot when a figure changed since the channel's last one, or
    :data:`SNAPSHOT_HEARTBEAT_S` after it (so that a gap in the history means
    "unchanged" for that long, and "not polled" beyond).

    A change also closes the run of polls that saw the last figures: they are
    snapshotted again at the channel's last good poll (``last_ok_at``) when that
    came after them, so that the maximum over any stretch of time reads as it
    did with a snapshot at every poll.
    """
    last = await _fetchall(
        conn,
        "SELECT s.taken_at, s.waiting, s.oldest_waiting_since, c.last_ok_at"
        " FROM snapshots AS s JOIN channels AS c ON c.id = s.channel_id"
        " WHERE s.channel_id = ? AND s.taken_at <= ? ORDER BY s.taken_at DESC LIMIT 1",
        (channel_id, taken_at),
    )
    rows = [(channel_id, taken_at, waiting, oldest)]
    if last:
        last_at, last_waiting, last_oldest, last_ok = last[0]
        if (last_waiting, last_oldest) == (waiting, oldest):
            if last_at == taken_at or taken_at - last_at < SNAPSHOT_HEARTBEAT_S:
                return
        elif last_ok is not None and last_at < last_ok < taken_at:
            rows.insert(0, (channel_id, last_ok, last_waiting, last_oldest))
    await conn.executemany(
        "INSERT OR REPLACE INTO snapshots (channel_id, taken_at, waiting,"
        " oldest_waiting_since) VALUES (?, ?, ?, ?)",
        rows,
    )


async def _refresh_search_text(conn: aiosqlite.Connection) -> None:
    """Recompute the search text of the conversations marked stale, then unmark them.

    Inside the caller's transaction. A conversation whose text comes out the same
    is not rewritten.
    """
    stale = await _fetchall(conn, "SELECT conversation_id FROM temp.search_stale")
    if not stale:
        return
    texts: dict[int, list[str]] = {conversation_id: [] for (conversation_id,) in stale}
    for conversation_id, text in await _fetchall(
        conn, _STALE_LAST_MESSAGES, (SEARCH_READ_CHARS, SEARCH_MESSAGES)
    ):
        texts[conversation_id].append(text)
    await conn.executemany(
        "UPDATE conversations SET search_text = ?1 WHERE id = ?2 AND search_text IS NOT ?1",
        [(search_text(parts), conversation_id) for conversation_id, parts in texts.items()],
    )
    await conn.execute("DELETE FROM temp.search_stale")


def _health(value: str) -> Health:
    try:
        return Health(value)
    except ValueError:
        return Health.UNKNOWN


def _absolute(path: str | os.PathLike[str]) -> Path:
    return Path(path).expanduser().absolute()


def _private_sidecars(path: Path) -> None:
    """Make the ``-wal`` and ``-shm`` files 0600 (SQLite copies the database's mode)."""
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").chmod(0o600)


def _create_private(path: Path) -> None:
    """Create missing parent folders 0700 and the file 0600, whatever the umask."""
    missing: list[Path] = []
    parent = path.parent
    while not parent.exists() and not parent.is_symlink():
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
            folder.chmod(0o700)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


async def _connect(uri: str) -> aiosqlite.Connection:
    conn = aiosqlite.connect(uri, uri=True, isolation_level=None)
    try:
        return await conn
    except Exception:
        # On a failed connect aiosqlite stops its worker thread without waiting
        # for it: wait here, or the thread reports its end into a closed loop.
        thread = getattr(conn, "_thread", None)
        if isinstance(thread, threading.Thread) and thread.is_alive():
            await asyncio.to_thread(thread.join, 1.0)
        raise


async def _configure(conn: aiosqlite.Connection, busy_timeout: float) -> None:
    await conn.execute(f"PRAGMA busy_timeout = {max(0, int(busy_timeout * 1000))}")
    await conn.execute("PRAGMA foreign_keys = ON")


_fetchall = fetchall


async def _migrate(conn: aiosqlite.Connection, path: Path, migrations: Sequence[Migration]) -> None:
    """Apply the migrations the database lacks, in one IMMEDIATE transaction."""
    known = latest(migrations)
    await conn.execute("BEGIN IMMEDIATE")
    try:
        version = int((await _fetchall(conn, "PRAGMA user_version"))[0][0])
        application_id = int((await _fetchall(conn, "PRAGMA application_id"))[0][0])
        if application_id != APPLICATION_ID:
            tables = await _fetchall(conn, "SELECT count(*) FROM sqlite_schema")
            if application_id != 0 or version != 0 or tables[0][0]:
                raise StoreError(
                    f"cannot open the store at {path}: it is a SQLite database"
                    " of another program, not a sportello store"
                )
        if version > known:
            raise StoreError(
                f"the store at {path} was written by a newer sportello (schema {version});"
                f" this version knows up to {known}"
            )
        if version == 0 and migrations:
            await conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        for number, script in migrations:
            if number <= version:
                continue
            for statement in statements(script):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {int(number)}")
        await conn.execute("COMMIT")
    except BaseException as exc:
        with contextlib.suppress(Exception):
            await conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise StoreError(f"cannot open the store at {path}: migrating failed: {exc}") from exc
        raise


def _json(text: object) -> object:
    try:
        return json.loads(str(text))
    except ValueError:
        return None
