"""What the sense checks dropped: kept with the channel, and not taken as gone."""

from __future__ import annotations

from sportello.core.records import REASON_MAX, REASONS_MAX, DropReport, Health, PollOutcome
from sportello.core.store_contract import StoreBackend
from tests.helpers_store import T0, conversation, state
from tests.store_contract.builders import Opener

REPORT = DropReport(2, ("conversation 'a': waiting since 9999-01-01, in the future",), 1)


def ok(at: float) -> PollOutcome:
    return PollOutcome("email", at, at + 1, True, None, 3)


def failed(at: float) -> PollOutcome:
    return PollOutcome("email", at, at + 1, False, "timed out", 0)


async def dropped_of(backend: StoreBackend, channel_id: str = "email") -> DropReport | None:
    (record,) = [c for c in await backend.channels() if c.id == channel_id]
    return record.dropped


async def test_a_good_poll_sets_what_was_dropped_and_the_next_clears_it(
    backend: StoreBackend,
) -> None:
    assert await dropped_of(backend) is None
    await backend.record_poll(ok(T0), Health.OK, dropped=REPORT)
    assert await dropped_of(backend) == REPORT
    assert await dropped_of(backend, "chat") is None  # per channel
    await backend.record_poll(ok(T0 + 30), Health.OK)
    assert await dropped_of(backend) is None


async def test_a_failed_poll_keeps_what_the_last_good_one_dropped(backend: StoreBackend) -> None:
    await backend.record_poll(ok(T0), Health.OK, dropped=REPORT)
    await backend.record_poll(failed(T0 + 30), Health.DEGRADED, dropped=None)
    assert await dropped_of(backend) == REPORT
    (record,) = [c for c in await backend.channels() if c.id == "email"]
    assert record.last_error == "timed out"


async def test_another_process_reads_it(backend: StoreBackend, open_store: Opener) -> None:
    await backend.record_poll(ok(T0), Health.OK, dropped=REPORT)
    other = await open_store()
    assert await dropped_of(other) == REPORT


async def test_the_reasons_kept_are_bounded(backend: StoreBackend) -> None:
    many = DropReport(50, tuple("x" * 5000 for _ in range(50)), 0)
    await backend.record_poll(ok(T0), Health.OK, dropped=many)
    kept = await dropped_of(backend)
    assert kept is not None and kept.count == 50
    assert len(kept.reasons) == REASONS_MAX
    assert all(len(reason) == REASON_MAX for reason in kept.reasons)


async def test_kept_ids_do_not_leave_the_queue_of_a_complete_fetch(
    backend: StoreBackend,
) -> None:
    await backend.apply_fetch(
        "email", state(conversation("a", waiting=5), conversation("b", waiting=6)), T0 + 10
    )
    # complete, without "a" (dropped by the checks) and without "b" (gone)
    count = await backend.apply_fetch(
        "email", state(conversation("c", waiting=7)), T0 + 20, keep=["a"]
    )
    assert count == 2
    queue = await backend.waiting("email")
    assert [(q.external_id, q.waiting_since - T0) for q in queue] == [("a", 5.0), ("c", 7.0)]


async def test_without_keep_the_same_fetch_takes_them_as_gone(backend: StoreBackend) -> None:
    await backend.apply_fetch("email", state(conversation("a", waiting=5)), T0 + 10)
    await backend.apply_fetch("email", state(conversation("c", waiting=7)), T0 + 20)
    assert [q.external_id for q in await backend.waiting("email")] == ["c"]


async def test_kept_ids_match_as_the_store_keeps_them(backend: StoreBackend) -> None:
    # an id UTF-8 cannot hold is stored made storable; keeping it by its exact form works
    await backend.apply_fetch("email", state(conversation("a\ud800", waiting=5)), T0 + 10)
    await backend.apply_fetch("email", state(), T0 + 20, keep=["a\ud800"])
    assert len(await backend.waiting("email")) == 1
