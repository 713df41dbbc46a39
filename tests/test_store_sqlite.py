"""What only the SQLite store does: its file (WAL, modes 0600/0700, paths), its
schema and migrations, its indexes, checkpoints, the rows it does not rewrite,
locking between processes, its connection threads, and the flock file of its lead.

What any store backend does is in the contract suite, ``tests/store_contract``;
these tests may look at the file behind the store's back (``raw``).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sportello.core import migrations
from sportello.core.migrations import APPLICATION_ID, MIGRATIONS, latest, statements
from sportello.core.records import Health, PollOutcome
from sportello.core.store import (
    CHECKPOINT_EVERY,
    POLLS_S,
    Store,
    StoreError,
)
from sportello_sdk.models import Author
from tests.helpers_store import (
    GENERATION_SIZE,
    T0,
    channel,
    conversation,
    generation,
    message,
    open_store,
    state,
)

HELPER = Path(__file__).with_name("helpers_store.py")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def raw(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection to look at the file behind the store's back."""
    return sqlite3.connect(path, isolation_level=None)


@pytest.fixture(params=[0o000, 0o277], ids=["umask-000", "umask-277"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """An umask that lets everything through, and one that even takes the owner's
    write bit: the modes must come out the same under both."""
    value: int = request.param
    old = os.umask(value)
    try:
        yield value
    finally:
        os.umask(old)


def new_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    """Threads started since ``before`` that are still alive after a short grace."""
    extra = [t for t in threading.enumerate() if t not in before]
    for thread in extra:
        thread.join(timeout=5)
    return [t for t in extra if t.is_alive()]


# ---------------------------------------------------------------------- files and modes


async def test_new_store_file_and_folders_are_private_whatever_the_umask(
    tmp_path: Path, umask: int
) -> None:
    db = tmp_path / "a" / "b" / "store.db"
    async with await Store.open(db) as store:
        assert store.path == db
        assert mode(db) == 0o600
        for suffix in ("-wal", "-shm"):
            assert mode(Path(f"{db}{suffix}")) == 0o600, suffix  # stat fails if missing
        assert mode(tmp_path / "a") == 0o700
        assert mode(tmp_path / "a" / "b") == 0o700


async def test_existing_folder_and_file_keep_their_mode_but_wal_and_shm_are_private(
    tmp_path: Path, umask: int
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o755)
    db = folder / "store.db"
    db.touch()
    db.chmod(0o640)  # SQLite gives -wal and -shm the database's mode
    async with await Store.open(db):
        assert mode(Path(f"{db}-wal")) == 0o600
        assert mode(Path(f"{db}-shm")) == 0o600
    assert mode(folder) == 0o755
    assert mode(db) == 0o640


async def test_paths_with_uri_characters_are_taken_literally(tmp_path: Path) -> None:
    db = tmp_path / "Bottega Rossi #1" / "store?mode=memory&x=%20.db"
    async with await Store.open(db) as store:
        await store.sync_channels([channel("email")], {})
    assert db.is_file()
    with raw(db) as conn:
        assert conn.execute("SELECT id FROM channels").fetchall() == [("email",)]
    async with await Store.open(str(db)) as store:  # a str path does the same
        assert [c.id for c in await store.channels()] == ["email"]


async def test_store_is_in_wal_mode_with_the_latest_schema(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    async with await Store.open(db):
        with raw(db) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA user_version").fetchone()[0] == latest(MIGRATIONS)
            assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
            schema = {
                name: sql
                for name, sql in conn.execute("SELECT name, sql FROM sqlite_schema")
                if sql is not None
            }
    for table in ("channels", "conversations", "messages", "snapshots", "polls"):
        assert table in schema
    assert "WITHOUT ROWID" in schema["snapshots"]
    assert "WHERE waiting_since IS NOT NULL" in schema["conversations_waiting"]


async def test_store_uses_its_indexes_for_the_hot_queries(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    async with await Store.open(db):
        pass
    with raw(db) as conn:

        def plan(sql: str) -> str:
            return " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))

        queue = plan(
            "SELECT id FROM conversations WHERE waiting_since IS NOT NULL"
            " ORDER BY waiting_since, id"
        )
        history = plan(
            "SELECT * FROM snapshots WHERE channel_id = 'x' AND taken_at >= 0 ORDER BY taken_at"
        )
    assert "conversations_waiting" in queue and "TEMP B-TREE" not in queue
    assert "PRIMARY KEY" in history and "TEMP B-TREE" not in history


# ---------------------------------------------------------------------- migrations

# A migration after the real ones, to test the mechanism on the current schema.
NEXT = latest(MIGRATIONS) + 1
PROBE = (
    NEXT,
    """
    ALTER TABLE conversations ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE outbox_probe (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
    INSERT INTO outbox_probe (text) VALUES ('semi;colon');
    """,
)


async def v1_store(db: Path) -> None:
    """A store of schema 1 with one waiting conversation and its message, as written
    before schema 2 (the current code writes columns schema 1 lacks)."""
    async with await Store.open(db, migrations=MIGRATIONS[:1]):
        pass
    with raw(db) as conn:
        conn.execute(
            "INSERT INTO channels (id, label, adapter, kind, position)"
            " VALUES ('email', 'email', 'imap', 'email', 0)"
        )
        conn.execute(
            "INSERT INTO conversations (id, channel_id, external_id, customer_name, subject,"
            " first_customer_message_at, waiting_since, last_activity_at)"
            " VALUES (1, 'email', 'c1', 'Maria Rossi', 'Disponibilità', ?1, ?1, ?1)",
            (T0 + 1,),
        )
        conn.execute(
            "INSERT INTO messages (conversation_id, key, author, sent_at, text)"
            " VALUES (1, 'id:m1', 'customer', ?, 'È ancora disponibile in CITTÀ?')",
            (T0 + 1,),
        )
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1


async def test_v1_store_upgraded_keeps_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    await v1_store(db)
    async with await Store.open(db, migrations=(*MIGRATIONS, PROBE)) as store:
        (item,) = await store.waiting()
        assert (item.external_id, item.customer_name, item.subject, item.waiting_since) == (
            "c1",
            "Maria Rossi",
            "Disponibilità",
            T0 + 1,
        )
        assert [m.text for m in await store.messages(item.conversation_id)] == [
            "È ancora disponibile in CITTÀ?"
        ]
        assert [c.id for c in await store.channels()] == ["email"]
    with raw(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == NEXT
        assert conn.execute("SELECT priority FROM conversations").fetchall() == [(0,)]
        assert conn.execute("SELECT text FROM outbox_probe").fetchall() == [("semi;colon",)]


async def test_a_conversation_stored_before_v2_gets_its_search_text_at_its_next_fetch(
    tmp_path: Path,
) -> None:
    """Migration 2 only adds the column (SQL cannot fold accents): the next fetch of
    the conversation fills it from the stored messages, even a fetch without them."""
    db = tmp_path / "store.db"
    await v1_store(db)
    async with await Store.open(db) as store:
        with raw(db) as conn:
            assert conn.execute("SELECT search_text FROM conversations").fetchall() == [(None,)]
        (before,) = await store.waiting()
        assert before.search_text == ""
        fetched = conversation("c1", first=1, waiting=1, subject="Disponibilità")
        await store.apply_fetch("email", state(fetched), T0 + 30)
        (after,) = await store.waiting()
    assert after.search_text == "e ancora disponibile in citta?"


async def test_store_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    async with await Store.open(db, migrations=(*MIGRATIONS, PROBE)):
        pass
    with pytest.raises(StoreError) as info:
        await Store.open(db)
    assert str(info.value) == (
        f"the store at {db} was written by a newer sportello (schema {NEXT});"
        f" this version knows up to {NEXT - 1}"
    )


async def test_failed_migration_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    async with await Store.open(db, migrations=MIGRATIONS[:1]):
        pass
    with raw(db) as conn:
        conn.execute(
            "INSERT INTO channels (id, label, adapter, position) VALUES ('email', 'e', 'x', 0)"
        )
    broken = (2, "CREATE TABLE half_done (a); SELECT * FROM no_such_table;")
    with pytest.raises(StoreError, match="migrating failed") as info:
        await Store.open(db, migrations=(*MIGRATIONS[:1], broken))
    assert str(db) in str(info.value)
    with raw(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema")}
    assert "half_done" not in tables
    async with await Store.open(db, migrations=MIGRATIONS[:1]):
        pass  # opens at version 1 (its reads are those of the latest version)
    with raw(db) as conn:
        assert [r[0] for r in conn.execute("SELECT id FROM channels")] == ["email"]


def test_migration_versions_must_be_consecutive() -> None:
    migrations.check(MIGRATIONS)
    with pytest.raises(ValueError, match="1, 2, 3"):
        migrations.check([(1, "SELECT 1"), (3, "SELECT 1")])


def test_statements_split_on_statement_boundaries_only() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (a TEXT DEFAULT 'x;y');
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 'z'; END;
    ;
    """
    parts = list(statements(script))
    assert len(parts) == 2
    assert parts[0].endswith("DEFAULT 'x;y');")
    assert parts[1].startswith("CREATE TRIGGER") and parts[1].endswith("END;")
    with pytest.raises(ValueError, match="incomplete"):
        list(statements("INSERT INTO t VALUES ('unclosed;"))


# ---------------------------------------------------------------------- open errors


async def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_bytes(b"these are not the pages you are looking for\n" * 200)
    before = set(threading.enumerate())
    with pytest.raises(StoreError) as info:
        await Store.open(db)
    assert str(info.value) == f"cannot open the store at {db}: file is not a database"
    assert new_threads(before) == []  # the connection opened for it was closed


async def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with raw(db) as conn:
        conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, secret TEXT)")
    with pytest.raises(StoreError, match="another program, not a sportello store"):
        await Store.open(db)
    with raw(db) as conn:  # and it is left as it was
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_schema")] == ["accounts"]


async def test_unusable_paths_are_clear_errors(tmp_path: Path) -> None:
    a_file = tmp_path / "plain-file"
    a_file.write_text("x")
    with pytest.raises(StoreError, match=f"cannot open the store at {a_file}/store.db: "):
        await Store.open(a_file / "store.db")
    folder = tmp_path / "folder.db"
    folder.mkdir()
    with pytest.raises(StoreError, match=f"cannot open the store at {folder}: "):
        await Store.open(folder)


async def test_permission_denied_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root ignores file modes, so the refusal is staged at the one call that meets it."""
    db = tmp_path / "store.db"

    def refuse(path: object, *args: object, **kw: object) -> int:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(StoreError) as info:
        await Store.open(db)
    assert str(info.value) == f"cannot open the store at {db}: Permission denied"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
async def test_permission_denied_by_the_file_system_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="Permission denied"):
            await Store.open(folder / "store.db")
    finally:
        folder.chmod(0o700)


# ---------------------------------------------------------------------- closing


async def test_close_is_idempotent_and_stops_the_connection_threads(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    store = await Store.open(tmp_path / "store.db")
    assert len([t for t in threading.enumerate() if t not in before]) == 2  # writer, reader
    await store.close()
    await store.close()
    assert store.closed
    assert new_threads(before) == []
    with pytest.raises(StoreError, match="is closed"):
        await store.waiting()
    with pytest.raises(StoreError, match="is closed"):
        await store.sync_channels([channel("email")], {})


async def test_context_manager_closes_on_error(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    with pytest.raises(RuntimeError):
        async with await Store.open(tmp_path / "store.db") as store:
            raise RuntimeError("boom")
    assert store.closed
    assert new_threads(before) == []


async def test_a_process_that_fails_inside_the_store_still_exits(tmp_path: Path) -> None:
    """aiosqlite's threads are not daemons: a connection left open would hang the exit."""
    db = tmp_path / "store.db"
    process = await _start("crash", str(db))
    try:
        _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 1
    assert b"boom inside the store's block" in err


# ---------------------------------------------------------------------- what a fetch writes


async def test_a_conversation_that_leaves_the_queue_records_when(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    async with await open_store(db) as store:
        await store.apply_fetch("email", state(conversation("a"), conversation("b")), T0 + 1)
        await store.apply_fetch("email", state(conversation("a")), T0 + 3)  # b left
        await store.apply_fetch("email", state(conversation("a", waiting=None)), T0 + 4)
        await store.apply_fetch("email", state(conversation("b", waiting=9)), T0 + 5)  # back
    with raw(db) as conn:
        rows = dict(
            conn.execute(
                "SELECT external_id, left_queue_at - ? FROM conversations"
                " WHERE channel_id = 'email'",
                (T0,),
            ).fetchall()
        )
    assert rows == {"a": 4.0, "b": None}


async def test_an_unchanged_queue_rewrites_no_rows(tmp_path: Path) -> None:
    """Every poll upserts the whole queue: unchanged rows must not be rewritten."""
    db = tmp_path / "store.db"
    queue = [
        conversation(f"c{i}", waiting=i, messages=[message(f"m{i}", i, external_id=f"m{i}")])
        for i in range(50)
    ]
    async with await open_store(db) as store:
        await store.apply_fetch("email", state(*queue), T0)
        with raw(db) as conn:
            conn.executescript(
                """
                CREATE TABLE rewrites (what TEXT);
                CREATE TRIGGER c_rewrites AFTER UPDATE ON conversations
                    BEGIN INSERT INTO rewrites VALUES ('conversation'); END;
                CREATE TRIGGER m_rewrites AFTER UPDATE ON messages
                    BEGIN INSERT INTO rewrites VALUES ('message'); END;
                """
            )
        await store.apply_fetch("email", state(*queue), T0 + 30)
        with raw(db) as conn:
            assert conn.execute("SELECT what FROM rewrites").fetchall() == []
        changed = conversation(
            "c7", waiting=7, subject="Nuovo", messages=[message("edited", 7, external_id="m7")]
        )
        await store.apply_fetch("email", state(*queue[:7], changed, *queue[8:]), T0 + 60)
        with raw(db) as conn:
            rewrites = sorted(r[0] for r in conn.execute("SELECT what FROM rewrites"))
    # c7's subject, then its search text (m7's text changed); m7's text
    assert rewrites == ["conversation", "conversation", "message"]


async def test_a_new_message_updates_the_search_text_of_its_conversation_only(
    tmp_path: Path,
) -> None:
    db = tmp_path / "store.db"
    queue = [
        conversation(f"c{i}", waiting=i, messages=[message(f"Ordine {i}", i, external_id=f"m{i}")])
        for i in range(50)
    ]
    async with await open_store(db) as store:
        await store.apply_fetch("email", state(*queue), T0)
        with raw(db) as conn:
            conn.executescript(
                """
                CREATE TABLE rewrites (external_id TEXT);
                CREATE TRIGGER c_rewrites AFTER UPDATE ON conversations
                    BEGIN INSERT INTO rewrites VALUES (new.external_id); END;
                """
            )
        reply = message("Disponibilità confermata", 60, author=Author.BUSINESS, external_id="r3")
        answered = conversation(
            "c3", waiting=None, first_response=60, messages=[*queue[3].messages, reply]
        )
        await store.apply_fetch("email", state(*queue[:3], answered, *queue[4:]), T0 + 60)
        with raw(db) as conn:
            rewritten = {r[0] for r in conn.execute("SELECT external_id FROM rewrites")}
            texts = dict(conn.execute("SELECT external_id, search_text FROM conversations"))
    assert rewritten == {"c3"}
    assert texts["c3"] == "ordine 3\ndisponibilita confermata"
    assert texts["c4"] == "ordine 4"


async def test_a_huge_text_stays_a_small_file(tmp_path: Path) -> None:
    """The caps (sportello.core.ingest) apply before anything is written."""
    db = tmp_path / "store.db"
    async with await open_store(db) as store:
        huge = conversation("c1", subject="S" * 1_000_000, messages=[message("T" * 1_000_000, 1)])
        await store.apply_fetch("email", state(huge), T0)
    assert db.stat().st_size < 1_000_000


# ---------------------------------------------------------------------- polls, prune


async def test_every_poll_is_a_row(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    async with await open_store(db) as store:
        await store.record_poll(PollOutcome("email", T0, T0 + 1, True, None, 4), Health.OK)
        await store.record_poll(
            PollOutcome("email", T0 + 30, T0 + 31, False, "timed out", 0), Health.DEGRADED
        )
        await store.record_poll(PollOutcome("email", T0 + 90, T0 + 91, True, None, 2), Health.OK)
    with raw(db) as conn:
        polls = conn.execute("SELECT ok, error, conversations FROM polls ORDER BY id").fetchall()
    assert polls == [(1, None, 4), (0, "timed out", 0), (1, None, 2)]


async def test_prune_deletes_rows_with_their_messages_and_keeps_90_days_of_polls(
    tmp_path: Path,
) -> None:
    db = tmp_path / "store.db"
    day = 86_400.0

    def poll(channel_id: str, at_s: float) -> PollOutcome:
        return PollOutcome(channel_id, T0 + at_s, T0 + at_s, True, None, 1)

    async with await open_store(db) as store:
        old = conversation("old", waiting=None, messages=[message("vecchio", 1)])
        old_waiting = conversation("old-waiting", waiting=2)
        await store.apply_fetch("email", state(old, old_waiting), T0)
        recent = conversation("new", first=100 * day, waiting=None, first_response=100 * day)
        await store.apply_fetch("email", state(recent, old_waiting), T0 + 100 * day)
        for channel_id, at_s in [("email", 0), ("email", 20 * day), ("chat", 200 * day)]:
            await store.record_poll(poll(channel_id, at_s), Health.OK)
        await store.record_poll(poll("chat", 200 * day + POLLS_S + 1), Health.OK)
        await store.prune(T0 + 10 * day)
    with raw(db) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0  # cascaded
        assert conn.execute("SELECT external_id FROM conversations ORDER BY 1").fetchall() == [
            ("new",),
            ("old-waiting",),
        ]
        polls = conn.execute("SELECT channel_id, finished_at - ? FROM polls ORDER BY 2", (T0,))
        assert polls.fetchall() == [("email", 20 * day), ("chat", 200 * day + POLLS_S + 1)]


async def test_prune_finds_what_to_delete_through_indexes(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    async with await Store.open(db):
        pass
    with raw(db) as conn:
        for sql in (
            "SELECT max(taken_at) FROM snapshots WHERE channel_id = 'x'",
            "SELECT max(finished_at) FROM polls WHERE channel_id = 'x'",
            "DELETE FROM snapshots WHERE channel_id = 'x' AND taken_at < 5",
            "DELETE FROM polls WHERE channel_id = 'x' AND finished_at < 5",
        ):
            plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql))
            assert "SEARCH" in plan and "SCAN" not in plan, (sql, plan)


# ---------------------------------------------------------------------- failed writes


async def test_a_failed_write_rolls_back_and_names_no_customer_text(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    async with await open_store(db) as store:
        with raw(db) as conn:  # sabotage: make the snapshot insert fail
            conn.execute(
                "CREATE TRIGGER no_snapshots BEFORE INSERT ON snapshots"
                " BEGIN SELECT RAISE(ABORT, 'snapshots are frozen'); END"
            )
        secret_subject = "IBAN IT60X0542811101000000123456"
        with pytest.raises(StoreError) as info:
            await store.apply_fetch("email", state(conversation("c1", subject=secret_subject)), T0)
        assert str(db) in str(info.value) and "saving a fetch failed" in str(info.value)
        assert secret_subject not in str(info.value)
        assert await store.waiting() == []  # the conversation upsert was rolled back
        with raw(db) as conn:
            conn.execute("DROP TRIGGER no_snapshots")
        assert await store.apply_fetch("email", state(conversation("c1")), T0) == 1


# ---------------------------------------------------------------------- durability vs latency


async def test_no_commit_waits_for_the_disk(tmp_path: Path) -> None:
    """synchronous=NORMAL and no checkpoint inside a commit: an fsync of a busy disk
    (seconds, on a shared server) is never on the path of a write."""
    db = tmp_path / "store.db"
    async with await open_store(db) as store:
        assert store._writer is not None
        sync = await store._writer.execute_fetchall("PRAGMA synchronous")
        auto = await store._writer.execute_fetchall("PRAGMA wal_autocheckpoint")
        assert list(sync) == [(1,)], "synchronous is not NORMAL: every commit fsyncs"
        assert list(auto) == [(0,)], "commits checkpoint the WAL (and fsync) themselves"
        for number in range(CHECKPOINT_EVERY + 5):
            await store.record_poll(
                PollOutcome("email", T0 + number, T0 + number, True, None, 0), Health.OK
            )
        for _ in range(100):
            if store._checkpoint_task is None and store._checkpointer is not None:
                break
            await asyncio.sleep(0.01)
        assert store._checkpointer is not None, "the WAL was never checkpointed"
    with raw(db) as conn:  # everything is there after close
        count = conn.execute("SELECT count(*) FROM polls").fetchone()[0]
    assert count == CHECKPOINT_EVERY + 5


# ---------------------------------------------------------------------- other processes


async def _start(*args: str) -> asyncio.subprocess.Process:
    """Run tests/helpers_store.py in a new Python process."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(HELPER),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _kill(*processes: asyncio.subprocess.Process) -> None:
    for process in processes:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _finish(process: asyncio.subprocess.Process, seconds: float) -> dict[str, object]:
    """Wait for a helper process and return the JSON it printed."""
    try:
        out, err = await asyncio.wait_for(process.communicate(), seconds)
    finally:
        await _kill(process)
    assert process.returncode == 0, err.decode(errors="replace")
    result: dict[str, object] = json.loads(out)
    return result


MAX_COMMIT_S = 1.0
"""The longest a write may take while other processes read and write the store."""


async def test_two_processes_read_consistently_while_this_one_writes(tmp_path: Path) -> None:
    """Two reader processes see whole generations, in order, and never "database is
    locked"; meanwhile another process writes too, and no write here waits long."""
    db = tmp_path / "store.db"
    async with await open_store(db) as store:
        await store.apply_fetch("email", generation(0), T0)
        readers = [await _start("read", str(db), "60", "15") for _ in range(2)]
        writer = await _start("write", str(db), "200")
        latencies: list[float] = []
        try:
            number = 0
            deadline = time.monotonic() + 90
            while any(r.returncode is None for r in readers) and time.monotonic() < deadline:
                number += 1
                started = time.monotonic()
                waiting = await store.apply_fetch("email", generation(number), T0 + number)
                assert waiting == GENERATION_SIZE
                await store.record_poll(
                    PollOutcome("email", T0 + number, T0 + number, True, None, waiting),
                    Health.OK,
                )
                latencies.append(time.monotonic() - started)
                await asyncio.sleep(0.01)
            results = [await _finish(r, 30) for r in readers]
            written = await _finish(writer, 60)
        finally:
            await _kill(*readers, writer)
    assert written["error_count"] == 0, written["errors"]
    assert max(latencies) < MAX_COMMIT_S, f"a write took {max(latencies):.2f} s"
    for result in results:
        assert result["error_count"] == 0, result["errors"]
        assert result["torn"] == 0
        assert result["backwards"] == 0
        # Enough commits seen to prove reading went on while this process wrote;
        # how many depends on the machine's load, not on the store.
        assert isinstance(result["generations"], int) and result["generations"] >= 3, result
        assert isinstance(result["versions"], int) and result["versions"] >= 3, result
    assert number >= 3


async def test_another_process_writing_at_the_same_time_waits_its_turn(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    count = 300
    async with await open_store(db) as store:
        writer = await _start("write", str(db), str(count))
        try:
            number = 0
            deadline = time.monotonic() + 90
            while writer.returncode is None and time.monotonic() < deadline:
                number += 1
                await store.apply_fetch("email", generation(number), T0 + number)
                await asyncio.sleep(0)
            result = await _finish(writer, 60)
        finally:
            await _kill(writer)
        assert result["error_count"] == 0, result["errors"]
        record = {c.id: c for c in await store.channels()}["chat"]
        assert record.last_poll_at == T0 + count - 1 + 0.5
    with raw(db) as conn:
        polls = conn.execute("SELECT count(*) FROM polls WHERE channel_id = 'chat'").fetchone()
    assert polls[0] == count
    assert number > 0


# ---------------------------------------------------------------------- cancelled writes, the WAL


async def test_a_write_cancelled_at_any_step_leaves_the_store_writable(tmp_path: Path) -> None:
    """A cancelled write still runs on the connection's thread; it must not leave a
    transaction open behind it (the next write would fail, and other processes would
    wait on the write lock)."""
    async with await Store.open(tmp_path / "s.db") as store:
        await store.sync_channels([channel("email")], {})
        for steps in range(40):
            outcome = PollOutcome("email", T0 + steps, T0 + steps, True, None, 0)
            task = asyncio.create_task(store.record_poll(outcome, Health.OK))
            for _ in range(steps):
                await asyncio.sleep(0)
            task.cancel()
            await asyncio.wait({task})
            await store.record_poll(
                PollOutcome("email", T0 + 100 + steps, T0 + 100 + steps, True, None, 0), Health.OK
            )
        outside = sqlite3.connect(tmp_path / "s.db", timeout=0)
        try:
            outside.execute("BEGIN IMMEDIATE")  # nobody holds the write lock
            outside.execute("ROLLBACK")
        finally:
            outside.close()


async def test_the_wal_starts_over_while_the_store_is_written_without_pause(
    tmp_path: Path,
) -> None:
    """A checkpoint that runs beside a busy writer must still catch up, or the WAL
    grows for as long as the program runs (seen: 7 MiB in 30 s of fast polls)."""
    db = tmp_path / "store.db"
    async with await open_store(db) as store:
        for number in range(8 * CHECKPOINT_EVERY):
            await store.apply_fetch("email", generation(number), T0 + number)
            await store.waiting("email")  # a reader beside the writer, as the screen is
        wal = os.stat(f"{db}-wal").st_size
    assert wal < 8 * 2**20, f"the WAL grew to {wal / 2**20:.1f} MiB"


# ---------------------------------------------------------------------- the lead: a flock file

LEADER = """
import asyncio, sys
from sportello.core.store import Store

async def main() -> None:
    async with await Store.open(sys.argv[1]) as store:
        print("leads" if store.try_lead() else "follows", flush=True)
        sys.stdin.readline()  # hold it until told

asyncio.run(main())
"""


async def _leader(db: Path) -> tuple[asyncio.subprocess.Process, str]:
    """Another process that opens the store and tries to lead; its answer."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LEADER,
        str(db),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    return process, line.decode().strip()


async def test_the_lead_is_a_private_flock_file_beside_the_store_held_across_processes(
    tmp_path: Path,
) -> None:
    db = tmp_path / "store.db"
    lock = tmp_path / "store.db.collector.lock"
    async with await Store.open(db) as store:
        assert store.try_lead()
        assert mode(lock) == 0o600
        other, answer = await _leader(db)
        try:
            assert answer == "follows"
        finally:
            await _kill(other)
        store.release_lead()
        other, answer = await _leader(db)
        try:
            assert answer == "leads"
            assert not store.try_lead()
            other.kill()  # kill -9: the kernel lets go of its flock
            await other.wait()
        finally:
            await _kill(other)
        assert store.try_lead()


async def test_a_folder_that_cannot_hold_the_lock_file_is_a_store_error(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    (tmp_path / "store.db.collector.lock").mkdir()  # in the way of the lock file
    async with await Store.open(db) as store:
        with pytest.raises(StoreError, match=f"cannot use the store at {db}: "):
            store.try_lead()
        assert not store.leading


# ---------------------------------------------------------------------- delivery


async def test_a_delivery_that_fails_midway_writes_nothing(tmp_path: Path) -> None:
    """The sent mark and the reply's effects are one transaction: when recording
    the message fails, the action is still 'sending' and the conversation waits."""
    from sportello.core import outbox
    from sportello.core.outbox import Kind, State
    from sportello.core.store_contract import Delivery

    db = tmp_path / "store.db"
    async with await open_store(db) as store:
        await store.apply_fetch("email", state(conversation("c1", waiting=10)), T0 + 20)
        (item,) = await store.waiting()
        action = outbox.make(
            Kind.REPLY,
            channel_id="email",
            conversation_id=item.conversation_id,
            external_id="c1",
            payload={"text": "Spedito ieri"},
            made_by="anna@shop",
            now=T0 + 100,
            undo_window_s=10.0,
        )
        await store.enqueue(action)
        sending = outbox.claim(action, T0 + 110, "collector@shop:1")
        assert await store.transition(sending, State.PENDING)
        with raw(db) as conn:  # sabotage: the message insert fails
            conn.execute(
                "CREATE TRIGGER no_messages BEFORE INSERT ON messages"
                " BEGIN SELECT RAISE(ABORT, 'messages are frozen'); END"
            )
        sent = outbox.delivered(sending, T0 + 120, "<r1@shop>")
        with pytest.raises(StoreError, match="recording a delivery failed"):
            await store.deliver(sent, Delivery(at=T0 + 120, message_id="<r1@shop>"))
        assert await store.action(action.key) == sending
        assert [q.conversation_id for q in await store.waiting()] == [item.conversation_id]
        assert await store.first_responses(since=T0) == []


async def test_a_durable_transition_waits_for_the_disk_and_only_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The outbox's claim before a send is committed with synchronous = FULL (it must
    survive a power cut); every other commit stays NORMAL."""
    from sportello.core import outbox

    async with await Store.open(tmp_path / "store.db") as store:
        await store.sync_channels([channel("email")], {})
        action = outbox.make(
            outbox.Kind.CLOSE,
            channel_id="email",
            conversation_id=1,
            external_id="c1",
            payload={},
            made_by="anna@shop",
            now=T0,
            undo_window_s=0,
        )
        await store.enqueue(action)
        seen: list[int] = []
        writer = store._writer
        assert writer is not None
        real: Any = writer.execute

        async def spy(sql: str, *args: object) -> object:
            if sql == "COMMIT":
                rows = list(await (await real("PRAGMA synchronous")).fetchall())
                seen.append(int(rows[0][0]))
            return await real(sql, *args)

        monkeypatch.setattr(writer, "execute", spy)
        claimed = outbox.claim(action, T0, "me")
        assert await store.transition(claimed, outbox.State.PENDING, durable=True)
        await store.record_poll(PollOutcome("email", T0, T0, True, None, 0), Health.OK)
        monkeypatch.undo()
    assert seen == [2, 1]  # FULL for the claim, NORMAL again after it


async def test_a_big_fetch_is_prepared_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 100,000 conversations preparing the rows takes a good part of a second."""
    from sportello.core import store as store_module
    from sportello.core.ingest import prepare_fetch as real

    threads: list[bool] = []

    def recording(fetched: Any) -> Any:
        threads.append(threading.current_thread() is threading.main_thread())
        return real(fetched)

    monkeypatch.setattr(store_module, "prepare_fetch", recording)
    store = await open_store(tmp_path / "s.db")
    try:
        await store.apply_fetch("email", state(conversation("small")), 1.0)
        many = [conversation(f"c{i}") for i in range(store_module.PREPARE_IN_THREAD + 1)]
        await store.apply_fetch("chat", state(*many), 2.0)
        assert len(await store.waiting()) == 2 + store_module.PREPARE_IN_THREAD
    finally:
        await store.close()
    assert threads == [True, False]


async def test_the_queue_is_read_compact_with_one_string_per_channel_id(tmp_path: Path) -> None:
    """A million waiting conversations are held by the screen: each item keeps its
    texts in one string, and the channel id is one string, not one per row."""
    hostile = "Rossi\x1fevil@example.com"  # a separator in a field is dropped: no new field
    async with await open_store(tmp_path / "store.db") as store:
        await store.apply_fetch(
            "email",
            state(
                conversation("a", waiting=1, name=hostile, phone="+39 02 1234"),
                conversation("b", waiting=2, name=None, email=None, subject=""),
            ),
            T0 + 5,
        )
        a, b = await store.waiting()
        assert a.channel_id is b.channel_id
        assert (a.external_id, a.customer_name, a.customer_email, a.customer_phone) == (
            "a",
            "Rossievil@example.com",
            "maria@example.com",
            "+39 02 1234",
        )
        assert (b.customer_name, b.customer_email, b.customer_phone, b.subject) == (
            None,
            None,
            None,
            "",
        )
        assert await store.conversation(a.conversation_id) == a
