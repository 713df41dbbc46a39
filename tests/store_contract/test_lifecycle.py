"""Opening and closing a backend."""

from __future__ import annotations

import pytest

from sportello.core.store_contract import StoreError
from tests.helpers_store import T0, channel, conversation, state
from tests.store_contract.builders import Opener


async def test_close_is_idempotent_and_a_closed_store_refuses_everything(
    open_store: Opener,
) -> None:
    store = await open_store()
    assert not store.closed
    await store.close()
    await store.close()
    assert store.closed
    with pytest.raises(StoreError, match="closed"):
        await store.waiting()
    with pytest.raises(StoreError, match="closed"):
        await store.sync_channels([channel("email")], {})
    with pytest.raises(StoreError, match="closed"):
        await store.revisions()


async def test_the_store_is_a_context_manager_that_closes_on_error(open_store: Opener) -> None:
    store = await open_store()
    with pytest.raises(RuntimeError):
        async with store as entered:
            assert entered is store
            raise RuntimeError("boom")
    assert store.closed


async def test_what_one_store_wrote_another_reads_and_it_survives_a_reopening(
    open_store: Opener,
) -> None:
    async with await open_store() as first:
        await first.sync_channels([channel("email")], {})
        await first.apply_fetch("email", state(conversation("c1", subject="Resi")), T0)
        other = await open_store()
        assert [q.subject for q in await other.waiting()] == ["Resi"]
    async with await open_store() as again:
        assert [c.id for c in await again.channels()] == ["email"]
        assert [q.subject for q in await again.waiting()] == ["Resi"]
