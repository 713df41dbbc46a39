"""Leadership: one store of a set on the same data collects at a time."""

from __future__ import annotations

from tests.store_contract.builders import Opener


async def test_only_one_store_leads_until_it_lets_go(open_store: Opener) -> None:
    first = await open_store()
    second = await open_store()
    assert not first.leading and not second.leading
    assert first.try_lead()
    assert first.try_lead()  # already leading: still yes
    assert first.leading
    assert not second.try_lead()
    assert not second.leading
    first.release_lead()
    assert not first.leading
    first.release_lead()  # not leading: nothing to do
    assert second.try_lead()
    assert second.leading
    assert not first.try_lead()


async def test_a_closed_store_leads_no_more(open_store: Opener) -> None:
    first = await open_store()
    second = await open_store()
    assert first.try_lead()
    await first.close()
    assert not first.leading
    assert second.try_lead()
