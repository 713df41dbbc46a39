"""Delivering the outbox: the collector hands each due action to its channel's adapter.

Only the process that leads the store delivers. It notices new work within a
second by watching the store's ``outbox`` revision (and at once when the action
was made in this process), waits out each action's undo window, and delivers
one channel's actions in the order they were made, each channel on its own task,
so a channel that is down holds up only its own.

Nothing is ever sent twice by accident:

- an action is claimed (``pending`` → ``sending``, compare and set) and that is
  committed before the adapter is called;
- what the channel accepted is marked ``sent`` in the same transaction that
  records its effect (the business's message, the conversation out of the queue);
- a ``sending`` action found when this process takes the lead was cut off by the
  death of the previous collector: the adapter is asked by key when it can tell
  (``capabilities.lookup``), otherwise the action is ``unknown`` and waits for the
  user — it is never resent on its own;
- a send that times out or raises something unexpected is treated the same way:
  the channel may have accepted it.

A retryable failure (the network, a rate limit) marks that action failed with a
retry time and pauses the channel's deliveries until then; a successful poll of
the channel resumes them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial

from sportello.core import outbox
from sportello.core.inert import inert
from sportello.core.outbox import Action, Kind, State
from sportello.core.settings import Person, team_name
from sportello.core.store_contract import Delivery, StoreBackend, StoreError
from sportello.core.waits import event_or_timeout, stop_if_cancelled
from sportello_sdk import AdapterError, RateLimited
from sportello_sdk.base import Session
from sportello_sdk.errors import describe, seconds_or_none
from sportello_sdk.host import AdapterFault, ChannelHost
from sportello_sdk.models import ActionRequest, ActionResult, Capabilities, Conversation
from sportello_sdk.models import Author as MessageAuthor

log = logging.getLogger(__name__)

CHECK_S = 0.5  # how often the outbox revision is read for work made elsewhere (< 1 s)
SEND_TIMEOUT_S = 30.0
ERROR_LIMIT = 300


@dataclass
class ChannelLink:
    """What delivery needs of one channel: its adapter's host (the session, in the
    channel's own thread), and the lock that keeps a fetch and an action from using
    the session at the same time."""

    host: Callable[[], ChannelHost | None]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    timeout_s: float = SEND_TIMEOUT_S
    redact: Callable[[str], str] = lambda message: message


@dataclass
class _Lane:
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    blocked_until: float = 0.0  # a retryable failure pauses the channel until then
    resumed: bool = False  # the channel answered a poll: its failures are tried now


class Deliverer:
    """Delivers the outbox of one store through the collector's adapters."""

    def __init__(
        self,
        store: StoreBackend,
        channels: Mapping[str, ChannelLink],
        *,
        clock: Callable[[], float],
        owner: str,
        team: tuple[Person, ...] = (),
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.channels = channels
        self.clock = clock
        self.owner = owner
        self.team = team
        self._on_change = on_change
        self._lanes = {cid: _Lane() for cid in channels}
        self._wake = asyncio.Event()
        self.delivered = 0  # actions marked sent by this deliverer (for tests, benches)

    # -- control ------------------------------------------------------------------

    def wake(self, retried: str | None = None) -> None:
        """New work in this process: every channel looks at the outbox now (not at
        the next check of the revision). ``retried``: the user asked to send an
        action of that channel again, now — a channel paused by a failure resumes
        (as after a good poll) instead of waiting for its retry time."""
        self._wake.set()
        for lane in self._lanes.values():
            lane.wake.set()
        if retried is not None:
            self.channel_up(retried)

    def channel_up(self, channel_id: str) -> None:
        """The channel answered a poll: resume its deliveries now, and try its
        retryable failures at once.

        Whether or not the lane looks paused at this instant: it clears its pause
        while it reads the outbox, and a poll answered during that read must not
        be missed (the channel would wait out the failure's whole retry time)."""
        lane = self._lanes.get(channel_id)
        if lane is not None:
            lane.blocked_until = 0.0
            lane.resumed = True
            lane.wake.set()

    # -- running -------------------------------------------------------------------

    async def run(self) -> None:
        """Recover what a dead collector left, then deliver until cancelled."""
        await self.recover()
        async with asyncio.TaskGroup() as group:
            for channel_id in self.channels:
                group.create_task(self._lane(channel_id), name=f"deliver:{channel_id}")
            group.create_task(self._watch(), name="outbox-watch")

    async def recover(self) -> None:
        """Every ``sending`` action is from a collector that died mid-send (this one
        leads now): ask the channel by key where it can tell, else mark it unknown."""
        try:
            cut_off = await self.store.actions(states=(State.SENDING,))
        except StoreError as exc:
            log.error("could not read the outbox: %s", exc)
            return
        for action in cut_off:
            if action.lease_owner == self.owner:
                continue
            link = self.channels.get(action.channel_id)
            await self._settle_unknown(action, link, "its collector stopped while sending it")

    async def _watch(self) -> None:
        seen: int | None = None
        while True:
            revision: int | None = seen
            try:
                revision = (await self.store.revisions()).outbox
            except StoreError as exc:
                log.debug("outbox revision: %s", exc)
            if revision != seen or self._wake.is_set():
                seen = revision
                self._wake.clear()
                for lane in self._lanes.values():
                    lane.wake.set()
            await event_or_timeout(self._wake, CHECK_S)

    async def _lane(self, channel_id: str) -> None:
        lane = self._lanes[channel_id]
        while True:
            lane.wake.clear()
            delay = await self._deliver_due(channel_id, lane)
            stop_if_cancelled()
            await event_or_timeout(lane.wake, delay)

    async def _deliver_due(self, channel_id: str, lane: _Lane) -> float:
        """Deliver every due action of the channel, oldest first; seconds until the next.

        A retryable failure holds up the channel's later actions until it is tried
        again (at its retry time, or at once when the channel answers a poll), so
        that the channel gets them in the order they were made.
        """
        # Read again even while paused: the failure that paused the channel may
        # have been retried, undone or discarded meanwhile (from any process).
        lane.blocked_until = 0.0
        resumed, lane.resumed = lane.resumed, False
        try:
            waiting = await self.store.actions(
                states=(State.PENDING, State.FAILED), channel_id=channel_id
            )
        except StoreError as exc:
            log.error("could not read the outbox: %s", exc)
            return 1.0
        next_at = math.inf
        for action in waiting:
            now = self.clock()
            if lane.blocked_until > now:
                return lane.blocked_until - now
            retry_at = action.next_try_at if action.state is State.FAILED else None
            if action.retryable and retry_at is not None and retry_at > now:
                if not resumed:
                    lane.blocked_until = retry_at
                    return retry_at - now
                action = replace(action, next_try_at=now)  # the channel is back: now
            if not outbox.ready(action, now):
                if action.state is State.PENDING:
                    next_at = min(next_at, action.due_at)
                continue
            done = await self.deliver(action, lane)
            stop_if_cancelled()
            if done is not None and done.state is State.PENDING:
                return 0.0  # to be sent again (the channel never got it): first, in order
        return max(0.0, min(next_at - self.clock(), 3600.0))

    # -- one action ------------------------------------------------------------------

    async def deliver(self, action: Action, lane: _Lane | None = None) -> Action | None:
        """Claim, send and mark one ready action; the action as it ends up, or None
        when another process changed it first."""
        now = self.clock()
        try:
            claimed = outbox.claim(action, now, self.owner)
        except outbox.Refused:
            return None
        # On disk before the channel is called, power cut included: a claim lost
        # after the channel accepted would leave the action pending, to be sent again.
        if not await self._save(claimed, action.state, durable=True):
            return None
        link = self.channels.get(action.channel_id)
        host = link.host() if link is not None else None
        if link is None or host is None:
            return await self._fail(
                claimed, "the channel's adapter is not running", retryable=True, lane=lane
            )
        caps: Capabilities = host.capabilities
        request = _request(claimed)
        async with link.lock:
            if claimed.kind is Kind.REPLY and caps.recheck:
                held = await self._answered_elsewhere(host, claimed, link)
                if held is not None:
                    return await self._finish(outbox.elsewhere(claimed, self.clock(), held))
            try:
                result = await host.call(partial(_act, request=request), timeout_s=link.timeout_s)
                if not isinstance(result, ActionResult):
                    raise AdapterFault(f"act() returned {type(result).__name__}, not ActionResult")
            except AdapterError as exc:
                retry_after = (
                    seconds_or_none(getattr(exc, "retry_after", None))
                    if isinstance(exc, RateLimited)
                    else None
                )
                return await self._fail(
                    claimed,
                    link.redact(describe(exc)),
                    retryable=bool(getattr(exc, "retryable", True)),
                    lane=lane,
                    retry_after=retry_after,
                )
            except asyncio.CancelledError:
                raise  # stopping mid-send: the next collector settles it
            except AdapterFault as exc:  # a timeout, or a bug: the channel may have it
                why = "no answer in time" if exc.timed_out else "it raised"
                log.info(
                    "channel %s: %s while sending %s: %s",
                    action.channel_id,
                    why,
                    action.key,
                    link.redact(describe(exc)),
                )
                return await self._settle_unknown(claimed, link, why, locked=True)
        return await self._mark_sent(claimed, result)

    async def _mark_sent(self, claimed: Action, result: ActionResult) -> Action | None:
        at = _timestamp(result.done_at, self.clock())
        sent = outbox.delivered(claimed, at, result.external_id)
        delivery = Delivery(
            at=at, message_id=result.external_id, author_name=team_name(claimed.made_by, self.team)
        )
        try:
            done = await self.store.deliver(sent, delivery)
        except StoreError as exc:
            # The channel has it and the mark is not saved: the next collector
            # finds it 'sending' and asks the channel (or says unknown).
            log.error(
                "channel %s: sent %s but could not record it: %s", sent.channel_id, sent.key, exc
            )
            return None
        if done:
            self.delivered += 1
            self._changed(sent.channel_id)
            return sent
        return None

    async def _settle_unknown(
        self, action: Action, link: ChannelLink | None, why: str, *, locked: bool = False
    ) -> Action | None:
        """A send whose outcome is not known: look it up by key, else mark it unknown."""
        host = link.host() if link is not None else None
        if link is not None and host is not None and host.capabilities.lookup:
            try:
                lock = contextlib.nullcontext() if locked else link.lock
                async with lock:
                    found = await host.call(
                        partial(_lookup, request=_request(action)), timeout_s=link.timeout_s
                    )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info(
                    "channel %s: looking %s up failed: %s",
                    action.channel_id,
                    action.key,
                    type(exc).__name__,
                )
            else:
                now = self.clock()
                if isinstance(found, ActionResult):
                    sending = action if action.state is State.SENDING else None
                    if sending is not None:
                        return await self._mark_sent(sending, found)
                    return await self._finish(
                        outbox.found(action, now, found.external_id), action.state
                    )
                if found is None:
                    return await self._finish(outbox.not_found(action, now), action.state)
        unknown = outbox.lost(action, self.clock()) if action.state is State.SENDING else action
        unknown = _with_error(unknown, why)
        return await self._finish(unknown, State.SENDING)

    async def _answered_elsewhere(
        self, host: ChannelHost, action: Action, link: ChannelLink
    ) -> str | None:
        """Why the reply is held (someone answered from another tool), or None."""
        try:
            now_there = await host.call(
                partial(_recheck, external_id=action.external_id), timeout_s=link.timeout_s
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info(
                "channel %s: re-reading before a reply failed: %s",
                action.channel_id,
                type(exc).__name__,
            )
            return None  # the reply is sent: not knowing is not a reason to hold it
        if not isinstance(now_there, Conversation):
            return None
        since = _float(action.extra.get("waiting_since"), action.made_at)
        answers = [
            m
            for m in now_there.messages
            if m.author is MessageAuthor.BUSINESS and m.sent_at.timestamp() >= since
        ]
        if answers:  # only then: which of them did this outbox deliver?
            ours = await self._our_messages(action)
            answers = [m for m in answers if m.external_id is None or m.external_id not in ours]
        if answers:
            last = answers[-1]
            who = inert(last.author_name or "someone", 60)
            at = last.sent_at.astimezone(UTC).strftime("%H:%M UTC")
            return f"{who} answered at {at}"
        return None

    async def _our_messages(self, action: Action) -> set[str]:
        """The channel's ids of the replies this outbox delivered on the conversation:
        a second reply of ours is not held because of the first."""
        try:
            sent = await self.store.actions(
                conversation_id=action.conversation_id, states=(State.SENT,)
            )
        except StoreError as exc:
            log.debug("the outbox of a conversation: %s", exc)
            return set()
        return {a.result for a in sent if a.kind is Kind.REPLY and a.result}

    async def _fail(
        self,
        claimed: Action,
        error: str,
        *,
        retryable: bool,
        lane: _Lane | None,
        retry_after: float | None = None,
    ) -> Action | None:
        new = outbox.failed(claimed, self.clock(), inert(error, ERROR_LIMIT), retryable=retryable)
        if retryable and retry_after is not None and new.next_try_at is not None:
            new = _later(new, self.clock() + min(float(retry_after), 86_400.0))
        if retryable and lane is not None and new.next_try_at is not None:
            lane.blocked_until = new.next_try_at
        return await self._finish(new, State.SENDING)

    async def _finish(self, new: Action, expected: State = State.SENDING) -> Action | None:
        if await self._save(new, expected):
            self._changed(new.channel_id)
            return new
        return None

    async def _save(self, new: Action, expected: State, *, durable: bool = False) -> bool:
        try:
            return await self.store.transition(new, expected, durable=durable)
        except StoreError as exc:
            log.error("could not save an action: %s", exc)
            return False

    def _changed(self, channel_id: str) -> None:
        if self._on_change is not None:
            self._on_change(channel_id)


def _request(action: Action) -> ActionRequest:
    until = action.snooze_until()
    return ActionRequest(
        kind=action.kind,
        conversation_external_id=action.external_id,
        idempotency_key=action.key,
        text=action.payload.get("text"),
        assignee=action.payload.get("assignee"),
        until=None if until is None or math.isinf(until) else datetime.fromtimestamp(until, UTC),
    )


def _timestamp(value: object, fallback: float) -> float:
    if isinstance(value, datetime):
        stamp = (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
        # A channel's clock far off ours would put the reply out of order.
        return stamp if abs(stamp - fallback) < 86_400 else fallback
    return fallback


def _float(raw: str | None, default: float) -> float:
    try:
        return float(raw) if raw is not None else default
    except ValueError:
        return default


def _with_error(action: Action, why: str) -> Action:
    return replace(action, error=why[:ERROR_LIMIT])


def _later(action: Action, at: float) -> Action:
    return replace(action, next_try_at=max(at, action.next_try_at or at))


def owner_id(user: str, host: str, pid: int) -> str:
    """Who delivers: this process, told apart from an earlier one with its pid."""
    return f"{user}@{host}:{pid}:{time.time():.0f}"


async def _act(session: Session, *, request: ActionRequest) -> ActionResult:
    return await session.act(request)


async def _lookup(session: Session, *, request: ActionRequest) -> ActionResult | None:
    return await session.lookup(request)


async def _recheck(session: Session, *, external_id: str) -> Conversation | None:
    return await session.recheck(external_id)
