"""Writes proportional to change: fingerprints, snapshots on change, a bounded WAL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sportello.core import store as store_module
from sportello.core.board_read import HELD_S
from sportello.core.migrations import MIGRATIONS
from sportello.core.outbox import Kind
from sportello.core.records import Health, PollOutcome
from sportello.core.store import CHECKPOINT_EVERY, SNAPSHOT_HEARTBEAT_S, Store
from tests.helpers_store import T0, channel, conversation, message, open_store, state
from tests.store_contract.builders import delivered, make

QUEUE = [
    conversation(f"c{i}", waiting=i, messages=[message(f"m{i}", i, external_id=f"m{i}")])
    for i in range(20)
]


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def watch_writes(db: Path) -> None:
    """Record every insert and update of conversations and messages in ``writes``."""
    with raw(db) as conn:
        conn.executescript(
            """
            CREATE TABLE writes (what TEXT);
            CREATE TRIGGER w1 AFTER UPDATE ON conversations
                BEGIN INSERT INTO writes VALUES ('conversation'); END;
            CREATE TRIGGER w2 AFTER INSERT ON conversations
                BEGIN INSERT INTO writes VALUES ('conversation'); END;
            CREATE TRIGGER w3 AFTER UPDATE ON messages
                BEGIN INSERT INTO writes VALUES ('message'); END;
            CREATE TRIGGER w4 AFTER INSERT ON messages
                BEGIN INSERT INTO writes VALUES ('message'); END;
            """
        )


def writes(db: Path) -> list[str]:
    with raw(db) as conn:
        found = sorted(r[0] for r in conn.execute("SELECT what FROM writes"))
        conn.execute("DELETE FROM writes")
    return found


async def test_an_unchanged_conversation_costs_no_write(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    async with await open_store(db) as store:
        await store.apply_fetch("email", state(*QUEUE), T0 + 30)
        watch_writes(db)
        await store.apply_fetch("email", state(*QUEUE), T0 + 60)
        assert writes(db) == []
        with raw(db) as conn:
            assert conn.execute(
                "SELECT count(*) FROM conversations WHERE fingerprint IS NULL"
            ).fetchone() == (0,)
        moved = conversation(
            "c3", waiting=3, messages=[message("m3", 3, external_id="m3"), message("new", 50)]
        )
        await store.apply_fetch("email", state(*QUEUE[:3], moved, *QUEUE[4:]), T0 + 90)
        # its row (last activity, fingerprint), its search text; one new message
        assert writes(db) == ["conversation", "conversation", "message"]
        assert len(await store.waiting()) == 20


async def test_another_process_writing_a_conversation_clears_its_fingerprint(
    tmp_path: Path,
) -> None:
    db = tmp_path / "store.db"
    async with await open_store(db) as store:
        await store.apply_fetch("email", state(*QUEUE), T0 + 30)
        with raw(db) as other:  # another process, through no store of ours
            other.execute("UPDATE conversations SET assignee = 'Luca' WHERE external_id = 'c5'")
            (fingerprint,) = other.execute(
                "SELECT fingerprint FROM conversations WHERE external_id = 'c5'"
            ).fetchone()
        assert fingerprint is None
        await store.apply_fetch("email", state(*QUEUE), T0 + 60)  # the channel says: nobody
        with raw(db) as conn:
            assert conn.execute(
                "SELECT assignee, fingerprint IS NOT NULL FROM conversations"
                " WHERE external_id = 'c5'"
            ).fetchone() == (None, 1)


async def test_a_delivered_reply_stays_answered_through_the_same_fetch(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    async with await open_store(db) as store:
        await store.apply_fetch("email", state(*QUEUE), T0 + 20)
        item = next(q for q in await store.waiting() if q.external_id == "c4")
        await delivered(store, make(item), at=130)
        await store.apply_fetch("email", state(*QUEUE), T0 + 200)  # not caught up yet
        assert "c4" not in {q.external_id for q in await store.waiting()}
        again = conversation("c4", waiting=300, messages=[message("ancora?", 300)])
        await store.apply_fetch("email", state(*QUEUE[:4], again, *QUEUE[5:]), T0 + 310)
        assert "c4" in {q.external_id for q in await store.waiting()}


async def test_a_snooze_that_runs_out_brings_back_an_unchanged_conversation(
    tmp_path: Path,
) -> None:
    db = tmp_path / "store.db"
    async with await open_store(db) as store:
        await store.apply_fetch("email", state(*QUEUE), T0 + 20)
        item = next(q for q in await store.waiting() if q.external_id == "c2")
        until = T0 + 1000
        await delivered(store, make(item, Kind.SNOOZE, payload={"until": str(until)}), at=130)
        await store.apply_fetch("email", state(*QUEUE), T0 + 500)
        assert "c2" not in {q.external_id for q in await store.waiting()}
        await store.apply_fetch("email", state(*QUEUE), T0 + 600)  # fingerprint now stored
        assert "c2" not in {q.external_id for q in await store.waiting()}
        await store.apply_fetch("email", state(*QUEUE), until + 1)
        assert "c2" in {q.external_id for q in await store.waiting()}


async def test_a_complete_fetch_still_takes_absent_conversations_out(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    async with await open_store(db) as store:
        await store.apply_fetch("email", state(*QUEUE), T0 + 20)
        await store.apply_fetch("email", state(*QUEUE[1:]), T0 + 40, keep=["c1"])
        assert {q.external_id for q in await store.waiting()} == {f"c{i}" for i in range(1, 20)}
        await store.apply_fetch("email", state(*QUEUE), T0 + 60)  # c0 back, same as before
        assert len(await store.waiting()) == 20


async def test_snapshots_only_on_change_and_an_hourly_heartbeat(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    async with await open_store(db) as store:
        for poll in range(10):
            await store.apply_fetch("email", state(*QUEUE), T0 + 100 + 10 * poll)
        await store.apply_fetch("email", state(*QUEUE[:5]), T0 + 300)
        await store.apply_fetch("email", state(*QUEUE[:5]), T0 + 310)
        await store.apply_fetch("email", state(*QUEUE[:5]), T0 + 300 + SNAPSHOT_HEARTBEAT_S)
        taken = [(s.taken_at - T0, s.waiting) for s in await store.snapshots("email", 0)]
        assert taken == [(100, 20), (300, 5), (300 + SNAPSHOT_HEARTBEAT_S, 5)]


async def test_trends_read_a_gap_between_snapshots_as_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    async with await open_store(db) as store:
        hour = 3600.0
        # Every 10 minutes for 9 hours: 20 waiting, 5 from hour 3 on, 20 again from 8.
        for minute in range(0, 540, 10):
            queue = QUEUE[:5] if 180 <= minute < 480 else QUEUE
            at = T0 + 60 * minute
            await store.apply_fetch("email", state(*queue), at)
            await store.record_poll(PollOutcome("email", at, at + 1, True, None, 5), Health.OK)
        # Then nobody polls for a day.
        raw_trend = await store.trend("email", T0, hour / 2)
        held = await store.trend("email", T0, hour / 2, carry=HELD_S)
        # What a snapshot at every poll read: the gaps filled, nothing more.
        per_poll = [20] * 6 + [5] * 10 + [20] * 2
        assert [(i, v) for i, v in held][:18] == list(enumerate(per_poll))
        assert len(raw_trend) < 18
        assert len(held) <= 18 + int(HELD_S / hour) * 2  # a day's gap is not "unchanged"
        # A window starting inside an unchanged stretch carries it in.
        assert (await store.trend("email", T0 + 250 * 60, hour / 2, carry=HELD_S))[0] == (0, 5)
        with raw(db) as conn:
            assert conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] < 15


async def test_the_wal_stays_bounded_over_many_polls(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    wal = Path(f"{db}-wal")
    async with await open_store(db) as store:
        reader = await Store.open(db)  # a viewer, reading between the polls
        try:
            sizes = []
            for poll in range(6 * CHECKPOINT_EVERY):
                queue = [
                    conversation(f"p{poll}-{i}", waiting=poll, subject="x" * 200) for i in range(5)
                ]
                await store.apply_fetch("email", state(*QUEUE, *queue), T0 + 10 * poll)
                await reader.waiting()
                sizes.append(wal.stat().st_size)  # noqa: ASYNC240
            await store.apply_fetch("email", state(*QUEUE), T0 + 10 * 10_000)
        finally:
            await reader.close()
        late = max(sizes[3 * CHECKPOINT_EVERY :])
        assert late <= max(sizes[: 2 * CHECKPOINT_EVERY]) * 1.5, (late, sizes[::50])


def wal_frames(db: Path) -> int:
    """Frames in the WAL, after checkpointing them (the next commit starts it over)."""
    with raw(db) as conn:
        return int(conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])


async def test_an_unchanged_poll_is_one_commit_of_four_pages(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    async with await open_store(db) as store:
        for poll in range(3):
            at = T0 + 10 * poll
            outcome = PollOutcome("email", at, at + 1, True, None, 0)
            await store.apply_fetch("email", state(*QUEUE), at, poll=outcome)
        wal_frames(db)
        outcome = PollOutcome("email", T0 + 30, T0 + 31, True, None, 0)
        count = await store.apply_fetch("email", state(*QUEUE), T0 + 30, poll=outcome)
        # the poll's row and its index entry, the channel's row, the revisions
        assert wal_frames(db) <= 4
        assert count == 20
        record = (await store.channels())[0]
        assert (record.health, record.last_poll_at, record.last_ok_at) == (
            Health.OK,
            T0 + 31,
            T0 + 31,
        )
    with raw(db) as conn:
        assert conn.execute(
            "SELECT count(*), min(conversations) FROM polls WHERE channel_id = 'email'"
        ).fetchone() == (4, 20)


async def test_a_wal_grown_by_a_burst_is_cut_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "WAL_LIMIT_BYTES", 64 * 1024)
    db = tmp_path / "store.db"
    wal = Path(f"{db}-wal")
    async with await open_store(db) as store:
        burst = [conversation(f"b{i}", waiting=i, subject="x" * 900) for i in range(3000)]
        await store.apply_fetch("email", state(*burst), T0)
        grown = wal.stat().st_size  # noqa: ASYNC240
        for poll in range(2 * CHECKPOINT_EVERY + 2):
            await store.apply_fetch("chat", state(*QUEUE), T0 + 10 * poll)
        after = wal.stat().st_size  # noqa: ASYNC240
    assert grown > 1024 * 1024
    # cut back to the limit, then at most what the commits since the last
    # checkpoint wrote (each of these: the revisions page, maybe a snapshot's)
    assert after <= 64 * 1024 + (CHECKPOINT_EVERY + 2) * 2 * 4120, (grown, after)


async def test_a_store_of_schema_5_gets_its_fingerprints_at_the_first_fetch(
    tmp_path: Path,
) -> None:
    db = tmp_path / "store.db"
    async with await Store.open(db, migrations=MIGRATIONS[:5]) as old:
        await old.sync_channels([channel("email")], {})
    async with await Store.open(db) as store:
        await store.apply_fetch("email", state(*QUEUE), T0)
        with raw(db) as conn:  # as schema 6 finds the rows of schema 5
            conn.execute("UPDATE conversations SET fingerprint = NULL")
        await store.apply_fetch("email", state(*QUEUE[1:]), T0 + 10)
        with raw(db) as conn:
            assert conn.execute(
                "SELECT count(*) FROM conversations WHERE fingerprint IS NOT NULL"
            ).fetchone() == (19,)
            assert conn.execute("PRAGMA user_version").fetchone() == (6,)
        assert len(await store.waiting()) == 19
