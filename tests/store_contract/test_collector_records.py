"""Who collects, as the collector records it, and what others ask of it."""

from __future__ import annotations

from dataclasses import replace

from sportello.core.polling_status import CollectorInfo
from sportello.core.store_contract import StoreBackend
from tests.helpers_store import T0
from tests.store_contract.builders import Opener

DAY = 86_400.0


async def test_the_collector_record_is_set_paused_and_cleared_by_its_pid(
    backend: StoreBackend, open_store: Opener
) -> None:
    assert await backend.collector() is None
    info = CollectorInfo("anna", "shop", 4242, T0, False, {"email": "d1", "chat": "d2"})
    await backend.set_collector(info)
    viewer = await open_store()
    assert await viewer.collector() == info
    await backend.set_collector_paused(4242, True)
    assert await viewer.collector() == replace(info, paused=True)
    await backend.set_collector_paused(999, False)  # not the collector: nothing changes
    await backend.clear_collector(999)
    assert await viewer.collector() == replace(info, paused=True)
    successor = CollectorInfo("luca", "shop", 5151, T0 + 60, False)
    await viewer.set_collector(successor)  # a takeover replaces the record
    assert await backend.collector() == successor
    await backend.clear_collector(4242)  # the old collector's goodbye clears nothing
    assert await backend.collector() == successor
    await viewer.clear_collector(5151)
    assert await backend.collector() is None


async def test_requests_are_numbered_and_read_after_the_last_seen(
    backend: StoreBackend, open_store: Opener
) -> None:
    assert await backend.last_request_id() == 0
    assert await backend.requests_after(0) == []
    first = await backend.request("poll", T0, "luca@shop")
    viewer = await open_store()
    second = await viewer.request("poll", T0 + 5, "anna@shop", channel_id="email")
    assert second > first
    assert await backend.last_request_id() == second
    listed = await backend.requests_after(0)
    assert [(r.id, r.kind, r.channel_id, r.made_at, r.made_by) for r in listed] == [
        (first, "poll", None, T0, "luca@shop"),
        (second, "poll", "email", T0 + 5, "anna@shop"),
    ]
    assert [r.id for r in await backend.requests_after(first)] == [second]
    assert await backend.requests_after(second) == []


async def test_a_request_after_a_quiet_day_is_seen_by_a_collector_that_saw_the_last(
    backend: StoreBackend,
) -> None:
    """Requests are kept a day; the next one's id is still past every id handed out,
    even when all the older ones have been dropped."""
    await backend.request("poll", T0, "luca@shop")
    seen = await backend.last_request_id()
    new = await backend.request("poll", T0 + DAY + 1, "anna@shop")
    assert [r.id for r in await backend.requests_after(seen)] == [new]
    assert [r.id for r in await backend.requests_after(0)] == [new]  # the old one is gone
