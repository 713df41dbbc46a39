"""Delivering the outbox (sportello.core.delivery) with real stores and fake adapters.

Each test builds a real SQLite store with one waiting conversation per channel,
makes actions through a real :class:`~sportello.core.desk.Desk`, and runs a real
:class:`~sportello.core.delivery.Deliverer` against fake adapters that record every
call and can be told to fail, raise, hang or say what the channel has. The
assertions are on what reached the channel and what the store says, with
deadlines of seconds: a loaded machine is slow, never wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from sportello.core import delivery
from sportello.core.delivery import ChannelLink, Deliverer
from sportello.core.desk import Desk
from sportello.core.outbox import Action, State
from sportello.core.records import QueueItem
from sportello.core.settings import Config, Person
from sportello.core.store import Store
from sportello_sdk import (
    ActionRefused,
    Adapter,
    ChannelState,
    ConnectionFailed,
    Conversation,
    Customer,
    RateLimited,
)
from sportello_sdk.base import ChannelContext, Session
from sportello_sdk.host import ChannelHost
from sportello_sdk.models import (
    ActionKind,
    ActionRequest,
    ActionResult,
    Author,
    Capabilities,
    Message,
)
from tests.engine_fakes import make_config

CHANNELS = ("email", "chat")
ME = "me@shop:1:1"
ALL = Capabilities(reply=True, close=True, assign=True, snooze=True, reopen=True)


# ---------------------------------------------------------------------- fake channels


@dataclass
class Step:
    """What one call of act() does: raise (before or after the channel accepted)
    or hang; ``accept`` says whether the channel has the action when it does."""

    accept: bool = False
    raises: BaseException | None = None
    hang: bool = False


class FakeChannel(Adapter, Session):
    """A channel that records every act() and follows a script of failures. It is its
    own session, run by a real ChannelHost (in a thread of its own)."""

    name: ClassVar[str] = "fake"
    capabilities: ClassVar[Capabilities] = ALL

    @classmethod
    async def connect(cls, context: ChannelContext) -> Session:
        instance = context.options["instance"]
        assert isinstance(instance, FakeChannel)
        return instance

    def __init__(self, channel_id: str) -> None:
        self.channel_id = channel_id
        self.calls: list[tuple[float, ActionRequest]] = []
        self.accepted: dict[str, ActionResult] = {}  # key -> what the channel said
        self.order: list[str] = []  # keys, in the order the channel accepted them
        self.script: list[Step] = []
        self.lookups: list[str] = []
        self.acting = threading.Event()  # set in the channel's thread

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        return ChannelState()

    async def act(self, request: ActionRequest) -> ActionResult:
        self.calls.append((time.time(), request))
        self.acting.set()
        step = self.script.pop(0) if self.script else Step(accept=True)
        result: ActionResult | None = None
        if step.accept:
            result = self._accept(request)
        if step.hang:
            await asyncio.sleep(3600)
        if step.raises is not None:
            raise step.raises
        return result or self._accept(request)

    def _accept(self, request: ActionRequest) -> ActionResult:
        key = request.idempotency_key
        if key not in self.accepted:
            number = len(self.accepted) + 1
            self.accepted[key] = ActionResult(
                done_at=datetime.now(UTC),
                external_id=f"{request.conversation_external_id}/r{number}",
            )
            self.order.append(key)
        return self.accepted[key]

    def keys(self) -> list[str]:
        return [request.idempotency_key for _, request in self.calls]


class LookupChannel(FakeChannel):
    """A channel that can say whether it has an action with a given key."""

    capabilities: ClassVar[Capabilities] = replace(ALL, keys=True, lookup=True)

    async def lookup(self, request: ActionRequest) -> ActionResult | None:
        self.lookups.append(request.idempotency_key)
        return self.accepted.get(request.idempotency_key)


class RecheckChannel(FakeChannel):
    """A channel that can re-read a conversation: it shows the replies it accepted,
    and whatever ``elsewhere`` says someone wrote from another tool."""

    capabilities: ClassVar[Capabilities] = replace(ALL, recheck=True)

    def __init__(self, channel_id: str) -> None:
        super().__init__(channel_id)
        self.elsewhere: list[Message] = []
        self.rechecks = 0
        self.recheck_raises: BaseException | None = None

    async def recheck(self, external_id: str) -> Conversation | None:
        self.rechecks += 1
        if self.recheck_raises is not None:
            raise self.recheck_raises
        ours = [
            Message(Author.BUSINESS, result.done_at, "…", result.external_id, "Anna")
            for result in self.accepted.values()
        ]
        waited = datetime.fromtimestamp(WAITING_SINCE, UTC)
        first = Message(Author.CUSTOMER, waited, "Dov'è il mio ordine?", "m0", "Maria")
        messages = sorted([first, *ours, *self.elsewhere], key=lambda m: m.sent_at)
        return Conversation(
            external_id,
            Customer(name="Maria"),
            "Ordine",
            waited,
            None if len(messages) > 1 else waited,
            messages=tuple(messages),
        )


# ---------------------------------------------------------------------- the shop

WAITING_SINCE = time.time() - 3600  # every conversation has waited an hour


@dataclass
class Shop:
    store: Store
    desk: Desk
    config: Config
    channels: dict[str, FakeChannel]
    items: dict[str, QueueItem]
    links: dict[str, ChannelLink] = field(default_factory=dict)
    hosts: dict[str, ChannelHost] = field(default_factory=dict)

    def deliverer(self, *, owner: str = ME, timeout_s: float = 5.0) -> Deliverer:
        self.links = {
            cid: ChannelLink(host=_getter(self.hosts, cid, adapter), timeout_s=timeout_s)
            for cid, adapter in self.channels.items()
        }
        return Deliverer(
            self.store,
            self.links,
            clock=time.time,
            owner=owner,
            team=self.config.team,
        )

    async def close(self) -> None:
        """Close the store and end the channels' threads."""
        await self.store.close()
        await asyncio.gather(*(host.close(1.0) for host in self.hosts.values()))

    async def reply(self, channel_id: str = "email", text: str = "Il pacco è partito.") -> Action:
        return await self.desk.reply(self.items[channel_id], text)

    async def state(self, action: Action) -> State:
        found = await self.store.action(action.key)
        assert found is not None
        return found.state

    async def action(self, action: Action) -> Action:
        found = await self.store.action(action.key)
        assert found is not None
        return found


def _getter(
    hosts: dict[str, ChannelHost], channel_id: str, channel: FakeChannel
) -> Callable[[], ChannelHost | None]:
    """The channel's host, made once per shop (like the collector's, one per channel)."""
    if channel_id not in hosts:
        context = ChannelContext(channel_id=channel_id, options={"instance": channel})
        hosts[channel_id] = ChannelHost(channel_id, type(channel), context)
    host = hosts[channel_id]
    return lambda: host


async def open_shop(
    folder: Path,
    channels: dict[str, FakeChannel] | None = None,
    *,
    window_s: float = 0.0,
    path: Path | None = None,
) -> Shop:
    channels = channels or {cid: FakeChannel(cid) for cid in CHANNELS}
    store_path = path or folder / "store.db"
    config = make_config(store_path, dict.fromkeys(channels, "fake"), timeout_s=5.0)
    config = replace(
        config,
        channels=tuple(
            replace(c, undo_window=timedelta(seconds=window_s)) for c in config.channels
        ),
        team=(Person("Anna", user="anna"),),
    )
    store = await Store.open(store_path)
    await store.sync_channels(config.channels, dict.fromkeys(channels, "email"))
    for cid in channels:
        waited = datetime.fromtimestamp(WAITING_SINCE, UTC)
        conversation = Conversation(
            f"{cid}-1",
            Customer(name="Maria Rossi", email="maria@example.com"),
            "Ordine non arrivato",
            waited,
            waited,
            messages=(Message(Author.CUSTOMER, waited, "Dov'è il mio ordine?", "m0"),),
        )
        await store.apply_fetch(cid, ChannelState((conversation,)), time.time())
    items = {item.channel_id: item for item in await store.waiting()}
    desk = Desk(config, lambda: store, clock=time.time, who="anna@shop", capabilities=lambda c: ALL)
    return Shop(store, desk, config, channels, items)


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Shop]:
    opened = await open_shop(tmp_path)
    yield opened
    await opened.close()


@contextlib.asynccontextmanager
async def running(deliverer: Deliverer) -> AsyncIterator[asyncio.Task[None]]:
    """The deliverer running; stopped at the end (an error of it fails the test)."""
    task = asyncio.create_task(deliverer.run(), name="deliverer")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 8.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:g} s: {what}")
        await asyncio.sleep(0.02)


async def in_state(shop: Shop, action: Action, *states: State, within: float = 8.0) -> Action:
    async def check() -> bool:
        return await shop.state(action) in states

    await eventually(check, f"{action.key} {'/'.join(states)}", within)
    return await shop.action(action)


# ---------------------------------------------------------------------- delivered once


async def test_a_due_reply_is_delivered_once_and_takes_the_conversation_out_of_the_queue(
    shop: Shop,
) -> None:
    email = shop.channels["email"]
    item = shop.items["email"]
    action = await shop.reply(text="Il pacco è partito ieri.")
    deliverer = shop.deliverer()
    async with running(deliverer):
        sent = await in_state(shop, action, State.SENT)
        await asyncio.sleep(0.6)  # a few more passes of the lane and the watch
    assert email.keys() == [action.key]
    assert shop.channels["chat"].calls == []
    request = email.calls[0][1]
    assert (request.kind, request.conversation_external_id, request.text) == (
        ActionKind.REPLY,
        "email-1",
        "Il pacco è partito ieri.",
    )
    assert sent.result == "email-1/r1"
    assert sent.lease_owner == ME
    assert deliverer.delivered == 1
    # Out of the queue at once, with the business's message recorded under our name.
    assert [i.channel_id for i in await shop.store.waiting()] == ["chat"]
    messages = await shop.store.messages(item.conversation_id)
    assert [(m.author, m.author_name, m.text) for m in messages][-1] == (
        "business",
        "Anna",
        "Il pacco è partito ieri.",
    )
    handled = await shop.store.conversation_state(item.conversation_id)
    assert handled is not None and handled.handled_at is not None


async def test_close_assign_and_snooze_reach_the_channel_and_the_store(shop: Shop) -> None:
    email, chat = shop.channels["email"], shop.channels["chat"]
    assign = await shop.desk.assign(shop.items["email"], "anna")
    close = await shop.desk.close(shop.items["email"])
    snooze = await shop.desk.snooze(shop.items["chat"], time.time() + 7200)
    async with running(shop.deliverer()):
        for action in (assign, close, snooze):
            await in_state(shop, action, State.SENT)
    assert [r.kind for _, r in email.calls] == [ActionKind.ASSIGN, ActionKind.CLOSE]
    assert email.calls[0][1].assignee == "Anna"
    until = chat.calls[0][1].until
    assert until is not None and abs(until.timestamp() - (time.time() + 7200)) < 60
    assert await shop.store.waiting() == []
    state = await shop.store.conversation_state(shop.items["email"].conversation_id)
    assert state is not None and state.assignee == "Anna" and state.closed


# ---------------------------------------------------------------------- the undo window


async def test_nothing_is_delivered_before_the_undo_window_ends(tmp_path: Path) -> None:
    shop = await open_shop(tmp_path, window_s=1.5)
    try:
        action = await shop.reply()
        assert action.due_at == pytest.approx(action.made_at + 1.5)
        async with running(shop.deliverer()):
            await asyncio.sleep(0.3)
            assert shop.channels["email"].calls == []
            assert await shop.state(action) is State.PENDING
            await in_state(shop, action, State.SENT)
        ((called_at, _),) = shop.channels["email"].calls
        assert called_at >= action.due_at
    finally:
        await shop.close()


async def test_an_action_undone_inside_its_window_never_reaches_the_channel(
    tmp_path: Path,
) -> None:
    shop = await open_shop(tmp_path, window_s=1.0)
    try:
        action = await shop.reply()
        other = await shop.reply("chat")
        async with running(shop.deliverer()):
            await asyncio.sleep(0.2)
            undone = await shop.desk.undo(shop.items["email"].conversation_id)
            assert undone.key == action.key
            await in_state(shop, other, State.SENT)  # past the window of both
            await asyncio.sleep(0.5)
        assert shop.channels["email"].calls == []
        assert await shop.state(action) is State.UNDONE
        assert [i.channel_id for i in await shop.store.waiting()] == ["email"]
    finally:
        await shop.close()


# ---------------------------------------------------------------------- order


async def test_one_channel_delivers_in_the_order_actions_were_made(shop: Shop) -> None:
    first = [await shop.reply(text=f"parte {n}") for n in range(5)]
    deliverer = shop.deliverer()
    async with running(deliverer):
        await in_state(shop, first[-1], State.SENT)
        later = [await shop.reply(text=f"poi {n}") for n in range(5)]
        deliverer.wake()
        await in_state(shop, later[-1], State.SENT)
    assert shop.channels["email"].keys() == [a.key for a in first + later]


# ---------------------------------------------------------------------- failures


async def test_a_retryable_failure_pauses_the_channel_and_a_good_poll_resumes_it_in_order(
    shop: Shop,
) -> None:
    email = shop.channels["email"]
    email.script = [Step(raises=ConnectionFailed("connection refused by mail.example.com"))]
    a = await shop.reply(text="prima")
    b = await shop.reply(text="seconda")
    c = await shop.reply("chat")
    deliverer = shop.deliverer()
    async with running(deliverer):
        failed = await in_state(shop, a, State.FAILED)
        await in_state(shop, c, State.SENT)  # another channel is not held up
        await asyncio.sleep(0.5)
        assert failed.retryable
        assert failed.error == "connection refused by mail.example.com"
        assert failed.next_try_at == pytest.approx(failed.updated_at + 5.0)
        assert email.keys() == [a.key]  # paused: b waits behind a
        assert await shop.state(b) is State.PENDING
        deliverer.channel_up("email")  # a poll of the channel succeeded
        await in_state(shop, b, State.SENT)
        assert await shop.state(a) is State.SENT
    # a is tried again first: the channel gets its replies in the order made.
    assert email.keys() == [a.key, a.key, b.key]
    assert email.order == [a.key, b.key]


async def test_a_retryable_failure_left_by_an_earlier_collector_still_goes_first(
    shop: Shop,
) -> None:
    email = shop.channels["email"]
    email.script = [Step(raises=RateLimited("slow down", retry_after=600))]
    a = await shop.reply(text="prima")
    async with running(shop.deliverer(owner="earlier@shop:1:0")):
        failed = await in_state(shop, a, State.FAILED)
    assert failed.next_try_at is not None and failed.next_try_at > time.time() + 500
    b = await shop.reply(text="seconda")
    deliverer = shop.deliverer()  # a new collector: its lanes know nothing of a's failure
    async with running(deliverer):
        await asyncio.sleep(1.0)
        assert email.keys() == [a.key], "b went ahead of a"
        deliverer.channel_up("email")
        await in_state(shop, b, State.SENT)
    assert email.order == [a.key, b.key]


async def test_a_refusal_waits_for_the_user_and_holds_up_nothing(shop: Shop) -> None:
    email = shop.channels["email"]
    email.script = [Step(raises=ActionRefused("550 the mailbox is full"))]
    a = await shop.reply(text="prima")
    b = await shop.reply(text="seconda")
    async with running(shop.deliverer()):
        failed = await in_state(shop, a, State.FAILED)
        await in_state(shop, b, State.SENT)
        await asyncio.sleep(0.5)
        assert (failed.retryable, failed.next_try_at) == (False, None)
        assert failed.error == "550 the mailbox is full"
        assert email.keys() == [a.key, b.key]  # tried once, never again on its own
        await shop.desk.retry(a.key)  # the user says: send it
        await in_state(shop, a, State.SENT)
    assert email.keys() == [a.key, b.key, a.key]


async def test_a_channel_whose_adapter_is_not_running_fails_retryably(shop: Shop) -> None:
    a = await shop.reply()
    deliverer = shop.deliverer()
    shop.links["email"].host = lambda: None
    async with running(deliverer):
        failed = await in_state(shop, a, State.FAILED)
    assert failed.retryable and failed.error == "the channel's adapter is not running"


# ---------------------------------------------------------------------- not knowing


@pytest.mark.parametrize("accepted", [False, True], ids=["before", "after-accepting"])
async def test_an_unexpected_exception_is_unknown_and_never_resent(
    shop: Shop, accepted: bool
) -> None:
    email = shop.channels["email"]
    email.script = [Step(accept=accepted, raises=ZeroDivisionError("a bug in the adapter"))]
    a = await shop.reply(text="prima")
    b = await shop.reply(text="seconda")
    async with running(shop.deliverer()):
        unknown = await in_state(shop, a, State.UNKNOWN)
        await in_state(shop, b, State.SENT)  # the lane goes on
        await asyncio.sleep(0.5)
    assert unknown.error == "it raised"
    assert email.keys() == [a.key, b.key]
    # Still waiting: nobody knows whether the customer got the first reply.
    assert [i.channel_id for i in await shop.store.waiting()] == ["chat"]  # b was sent


async def test_a_send_that_times_out_is_unknown(shop: Shop) -> None:
    email = shop.channels["email"]
    email.script = [Step(accept=True, hang=True)]
    a = await shop.reply()
    async with running(shop.deliverer(timeout_s=0.5)):
        unknown = await in_state(shop, a, State.UNKNOWN)
        await asyncio.sleep(0.5)
    assert unknown.error == "no answer in time"
    assert email.keys() == [a.key]


@pytest.mark.parametrize("how", ["raises", "hangs"])
async def test_a_send_whose_outcome_is_unknown_is_looked_up_when_the_channel_can(
    tmp_path: Path, how: str
) -> None:
    channels: dict[str, FakeChannel] = {"email": LookupChannel("email")}
    shop = await open_shop(tmp_path, channels)
    email = channels["email"]
    broken = Step(accept=True, raises=OSError("reset")) if how == "raises" else None
    email.script = [broken or Step(accept=True, hang=True)]
    try:
        a = await shop.reply()
        async with running(shop.deliverer(timeout_s=0.5)):
            sent = await in_state(shop, a, State.SENT, State.UNKNOWN)
            await asyncio.sleep(0.3)
        assert sent.state is State.SENT  # found by key: the channel has it
        assert sent.result == "email-1/r1"
        assert email.lookups == [a.key]
        assert email.keys() == [a.key]  # not sent again
        assert await shop.store.waiting() == []
    finally:
        await shop.close()


async def test_a_send_not_found_by_key_is_sent_again_once_and_in_order(tmp_path: Path) -> None:
    channels: dict[str, FakeChannel] = {"email": LookupChannel("email")}
    shop = await open_shop(tmp_path, channels)
    email = channels["email"]
    email.script = [Step(accept=False, raises=OSError("reset before the channel read it"))]
    try:
        a = await shop.reply(text="prima")
        b = await shop.reply(text="seconda")
        async with running(shop.deliverer()):
            await in_state(shop, b, State.SENT)
            await in_state(shop, a, State.SENT)
            await asyncio.sleep(0.3)
        assert email.lookups == [a.key]
        assert email.keys() == [a.key, a.key, b.key]
        assert email.order == [a.key, b.key]  # each accepted once, a first
        assert (await shop.action(a)).attempts == 2
    finally:
        await shop.close()


async def test_a_hanging_channel_does_not_hold_up_another(shop: Shop) -> None:
    email = shop.channels["email"]
    email.script = [Step(hang=True)]
    a = await shop.reply()
    async with running(shop.deliverer(timeout_s=30.0)):
        await asyncio.to_thread(email.acting.wait, 5)
        c = await shop.reply("chat")
        await in_state(shop, c, State.SENT)
        assert await shop.state(a) is State.SENDING  # still hanging
    assert shop.channels["chat"].keys() == [c.key]


# ---------------------------------------------------------------------- recovery


async def _cut_off(shop: Shop, action: Action, owner: str = "dead@shop:9:0") -> Action:
    """Claim ``action`` as a collector that then died mid-send."""
    from sportello.core import outbox

    claimed = outbox.claim(action, time.time(), owner)
    assert await shop.store.transition(claimed, State.PENDING)
    return claimed


async def test_recover_marks_a_send_cut_off_by_a_dead_collector_unknown(shop: Shop) -> None:
    a = await _cut_off(shop, await shop.reply())
    mine = await _cut_off(shop, await shop.reply("chat"), owner=ME)
    deliverer = shop.deliverer()
    await deliverer.recover()
    unknown = await shop.action(a)
    assert (unknown.state, unknown.error) == (
        State.UNKNOWN,
        "its collector stopped while sending it",
    )
    assert unknown.lease_owner is None
    assert await shop.state(mine) is State.SENDING  # its own sends are its own business
    async with running(deliverer):
        await asyncio.sleep(0.5)
    assert shop.channels["email"].calls == []  # never resent on its own
    assert await shop.state(a) is State.UNKNOWN


@pytest.mark.parametrize("arrived", [True, False], ids=["found", "not-found"])
async def test_recover_asks_a_channel_that_can_look_up(tmp_path: Path, arrived: bool) -> None:
    channels: dict[str, FakeChannel] = {"email": LookupChannel("email")}
    shop = await open_shop(tmp_path, channels)
    email = channels["email"]
    try:
        a = await _cut_off(shop, await shop.reply())
        if arrived:  # the dead collector's send reached the channel
            email._accept(delivery._request(a))
        deliverer = shop.deliverer()
        async with running(deliverer):
            sent = await in_state(shop, a, State.SENT)
            await asyncio.sleep(0.3)
        assert email.lookups == [a.key]
        assert len(email.accepted) == 1  # exactly once either way
        assert email.keys() == ([] if arrived else [a.key])
        assert sent.result == "email-1/r1"
        assert await shop.store.waiting() == []
    finally:
        await shop.close()


# ---------------------------------------------------------------------- answered elsewhere


async def test_a_reply_is_held_when_someone_answered_from_another_tool(tmp_path: Path) -> None:
    channels: dict[str, FakeChannel] = {"email": RecheckChannel("email")}
    shop = await open_shop(tmp_path, channels)
    email = channels["email"]
    assert isinstance(email, RecheckChannel)
    answered = datetime.fromtimestamp(WAITING_SINCE + 600, UTC)
    email.elsewhere = [Message(Author.BUSINESS, answered, "Risolto!", "x1", "Luca\x1b[31m")]
    try:
        a = await shop.reply()
        async with running(shop.deliverer()):
            held = await in_state(shop, a, State.ELSEWHERE)
        assert email.calls == []  # act() never called
        assert held.error == f"Luca answered at {answered:%H:%M} UTC"  # inert: no escape
        assert await shop.store.waiting() != []  # the store learns of it at the next poll
    finally:
        await shop.close()


async def test_a_second_reply_of_ours_is_not_held_as_answered_elsewhere(tmp_path: Path) -> None:
    channels: dict[str, FakeChannel] = {"email": RecheckChannel("email")}
    shop = await open_shop(tmp_path, channels)
    email = channels["email"]
    try:
        a = await shop.reply(text="Il pacco è partito.")
        b = await shop.reply(text="Ecco il numero di tracciamento: 123.")
        async with running(shop.deliverer()):
            await in_state(shop, a, State.SENT)
            await in_state(shop, b, State.SENT, State.ELSEWHERE)
        assert await shop.state(b) is State.SENT, (await shop.action(b)).error
        assert email.order == [a.key, b.key]
    finally:
        await shop.close()


async def test_a_reply_is_sent_when_the_channel_cannot_be_re_read(tmp_path: Path) -> None:
    channels: dict[str, FakeChannel] = {"email": RecheckChannel("email")}
    shop = await open_shop(tmp_path, channels)
    email = channels["email"]
    assert isinstance(email, RecheckChannel)
    email.recheck_raises = ConnectionFailed("timeout")
    try:
        a = await shop.reply()
        async with running(shop.deliverer()):
            await in_state(shop, a, State.SENT)
        assert email.rechecks == 1
    finally:
        await shop.close()


# ---------------------------------------------------------------------- noticing new work


async def test_an_action_made_in_this_process_is_noticed_at_once(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The outbox revision is read only every minute here: only wake() can explain
    # a delivery within seconds.
    monkeypatch.setattr(delivery, "CHECK_S", 60.0)
    deliverer = shop.deliverer()
    shop.desk.on_enqueue = lambda action: deliverer.wake()
    async with running(deliverer):
        await asyncio.sleep(0.3)  # the lanes have looked and found nothing
        a = await shop.reply()
        await in_state(shop, a, State.SENT, within=5.0)


async def test_an_action_made_by_another_process_is_noticed_through_the_revision(
    shop: Shop, tmp_path: Path
) -> None:
    deliverer = shop.deliverer()
    other = await Store.open(tmp_path / "store.db")  # another connection: nobody wakes us
    desk = Desk(shop.config, lambda: other, clock=time.time, who="luca@shop", capabilities=_all)
    try:
        async with running(deliverer):
            await asyncio.sleep(0.3)
            a = await desk.reply(shop.items["email"], "Da un altro terminale.")
            await in_state(shop, a, State.SENT, within=5.0)
    finally:
        await other.close()
    assert shop.channels["email"].keys() == [a.key]


def _all(channel: Any) -> Capabilities:
    return ALL


async def test_a_retry_asked_by_the_user_goes_now_not_at_the_failures_retry_time(
    shop: Shop,
) -> None:
    email = shop.channels["email"]
    email.script = [Step(raises=RateLimited("slow down", retry_after=600))]
    a = await shop.reply(text="prima")
    deliverer = shop.deliverer()
    shop.desk.on_enqueue = lambda action: deliverer.wake(
        action.channel_id if action.attempts else None
    )
    async with running(deliverer):
        failed = await in_state(shop, a, State.FAILED)
        assert failed.next_try_at is not None and failed.next_try_at > time.time() + 500
        await shop.desk.retry(a.key)  # r on the conversation: "send it now"
        await in_state(shop, a, State.SENT, within=5.0)
    assert email.keys() == [a.key, a.key]


async def test_a_retry_from_another_process_resumes_a_paused_channel(shop: Shop) -> None:
    email = shop.channels["email"]
    email.script = [Step(raises=RateLimited("slow down", retry_after=600))]
    a = await shop.reply(text="prima")
    async with running(shop.deliverer()):
        await in_state(shop, a, State.FAILED)
        async with await Store.open(shop.store.path) as other:  # a viewer, or the CLI
            viewer = Desk(shop.config, lambda: other, clock=time.time, who="marco@shop")
            await viewer.retry(a.key)
        await in_state(shop, a, State.SENT, within=5.0)
    assert email.keys() == [a.key, a.key]


async def test_a_good_poll_while_the_channel_reads_its_outbox_is_not_missed(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = shop.channels["email"]
    email.script = [Step(raises=RateLimited("slow down", retry_after=600))]
    a = await shop.reply(text="prima")
    deliverer = shop.deliverer()
    async with running(deliverer):
        await in_state(shop, a, State.FAILED)
        real = shop.store.actions
        polled = False

        async def read(**kwargs: Any) -> list[Action]:
            nonlocal polled
            found = await real(**kwargs)
            if kwargs.get("channel_id") == "email" and not polled:
                polled = True
                deliverer.channel_up("email")  # the poll answers in the middle of the read
            return found

        monkeypatch.setattr(shop.store, "actions", read)
        deliverer.wake()
        await in_state(shop, a, State.SENT, within=5.0)


class SwallowingChannel(FakeChannel):
    """A plug-in that catches the cancellation of its act() and carries on."""

    async def act(self, request: ActionRequest) -> ActionResult:
        self.calls.append((time.time(), request))
        self.acting.set()
        with contextlib.suppress(asyncio.CancelledError):  # a bug of the plug-in
            await asyncio.sleep(3600)
        return self._accept(request)


async def test_an_adapter_that_swallows_the_cancellation_does_not_keep_delivery_running(
    tmp_path: Path,
) -> None:
    channels: dict[str, FakeChannel] = {"email": SwallowingChannel("email")}
    shop = await open_shop(tmp_path, channels)
    try:
        a = await shop.reply(text="prima")
        await shop.reply(text="seconda")
        task = asyncio.create_task(shop.deliverer(timeout_s=3600).run())
        await asyncio.to_thread(channels["email"].acting.wait, 5)
        task.cancel()
        await asyncio.wait({task}, timeout=3)
        assert task.done(), "delivery kept running after its cancellation was swallowed"
        assert task.cancelled()
        assert channels["email"].keys() == [a.key]  # and went on to nothing else
    finally:
        await shop.close()
