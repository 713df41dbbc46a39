"""Drafts: one per conversation and author, saved, replaced, deleted, listed."""

from __future__ import annotations

from sportello.core.records import Draft
from sportello.core.store_contract import StoreBackend
from tests.helpers_store import T0
from tests.store_contract.builders import Opener, waiting_one


async def test_drafts_are_saved_replaced_deleted_and_listed(
    backend: StoreBackend, open_store: Opener
) -> None:
    one = await waiting_one(backend, "c1")
    two = await waiting_one(backend, "c2")
    anna = Draft(one.conversation_id, "anna@shop", "Buongiorno,", T0 + 10, T0 + 11)
    luca = Draft(one.conversation_id, "luca@shop", "Salve", T0 + 5, T0 + 6)
    other = Draft(two.conversation_id, "anna@shop", "Il reso", T0 + 20, T0 + 21)
    for draft in (anna, luca, other):
        await backend.save_draft(draft)
    assert await backend.drafts() == [luca, anna, other]  # oldest opened first
    assert await backend.drafts(one.conversation_id) == [luca, anna]
    assert await backend.drafts(10_000) == []

    # Anna goes on writing: her draft is replaced, still opened when it first was.
    await backend.save_draft(Draft(one.conversation_id, "anna@shop", "Buongiorno, il", T0, T0 + 40))
    (mine,) = [d for d in await backend.drafts(one.conversation_id) if d.author == "anna@shop"]
    assert (mine.text, mine.opened_at, mine.updated_at) == ("Buongiorno, il", T0 + 10, T0 + 40)
    assert len(await backend.drafts()) == 3

    other_process = await open_store()  # others on the server see who is writing
    assert [d.author for d in await other_process.drafts(one.conversation_id)] == [
        "luca@shop",
        "anna@shop",
    ]
    before = await other_process.revisions()
    await backend.delete_draft(one.conversation_id, "anna@shop")
    assert await other_process.revisions() != before  # and notice when it goes
    assert await backend.drafts(one.conversation_id) == [luca]
    assert await backend.drafts(two.conversation_id) == [other]  # Anna's other draft stays
    await backend.delete_draft(one.conversation_id, "nobody@shop")  # nothing to delete: fine
    assert len(await backend.drafts()) == 2
