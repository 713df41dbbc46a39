"""The desk: what a person at the screen (or a script) reads and does, without Textual.

The screens and the CLI read conversations and make replies and actions only
through a :class:`Desk`; it reaches the store through the contract
(:class:`~sportello.core.store_contract.StoreBackend`), never the collector or the live
worker. Every action is committed to the outbox (:mod:`sportello.core.outbox`) before
anything is sent; the collector delivers it once its undo window has passed.

A refusal (read-only, a channel that cannot do it, a store that is not open) is
a sentence, never an exception reaching the screen: see :meth:`Desk.refusal`.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TypeVar

from sportello.core import outbox
from sportello.core.outbox import Action, Kind, Refused, State
from sportello.core.polling_status import this_process
from sportello.core.records import Draft, MessageRecord, QueueItem
from sportello.core.settings import Channel, Config, Person
from sportello.core.store_contract import StoreBackend, StoreError
from sportello_sdk.models import Capabilities

__all__ = ["Collision", "Desk", "DeskError", "SnoozeChoice", "who_am_i"]

R = TypeVar("R")
MORNING = time(9, 0)
NOT_OPEN = "the store is not open yet"
READ_ONLY = "read-only: this sportello only watches (read_only in config, or --read-only)"


class DeskError(Exception):
    """An action could not be made; the message says why, fit for the screen."""


@dataclass(frozen=True, slots=True)
class Collision:
    """What the person about to send should know first."""

    writing: tuple[Draft, ...] = ()  # others with a draft open on the conversation
    answered_at: float | None = None  # someone answered since the composer opened
    answered_by: str | None = None
    second_answer: Action | None = None  # a reply already on its way or sent

    @property
    def asks_first(self) -> bool:
        """Sending now would become the second answer: ask before sending."""
        return self.answered_at is not None or self.second_answer is not None


@dataclass(frozen=True, slots=True)
class SnoozeChoice:
    label: str  # "1 hour", "next opening (Mon 09:00)"
    until: float  # Unix seconds; inf: until the customer writes again


def who_am_i() -> str:
    user, host, _pid = this_process()
    return f"{user}@{host}"


Capable = Callable[[Channel], Capabilities | None]


def adapter_capabilities(channel: Channel) -> Capabilities | None:
    """The channel's adapter's declared capabilities; None if it cannot be loaded."""
    from sportello_sdk.registry import AdapterLoadError, load  # the first frame needs none

    try:
        return load(channel.adapter).capabilities
    except AdapterLoadError:
        return None


class Desk:
    """Reads and actions for one person on one store."""

    def __init__(
        self,
        config: Config,
        store: Callable[[], StoreBackend | None],
        *,
        clock: Callable[[], float],
        who: str | None = None,
        read_only: bool | None = None,
        capabilities: Capable = adapter_capabilities,
    ) -> None:
        self.config = config
        self._store = store
        self.clock = clock
        self.who = who or who_am_i()
        self.read_only = config.read_only if read_only is None else read_only
        self._capable = capabilities
        self._capabilities: dict[str, Capabilities | None] = {}
        self._kinds: dict[str, str] = {}  # channel id -> kind, as the store has it
        self.last_key: str | None = None  # this person's last action, for u
        # Called after an action is committed or sent again: the collector of this
        # process starts on it at once (another process's notices within a second).
        self.on_enqueue: Callable[[Action], None] | None = None

    # -- what may be done -------------------------------------------------------

    def capabilities(self, channel_id: str, *, load: bool = True) -> Capabilities | None:
        """The channel's adapter's capabilities (None: it cannot be loaded). With
        ``load=False``, None until they have been loaded once (loading imports the
        adapter: ~0.2 s that the first frame must not wait for)."""
        if channel_id not in self._capabilities and not load:
            return None
        if channel_id not in self._capabilities:
            try:
                channel = self.config.channel(channel_id)
            except KeyError:
                self._capabilities[channel_id] = None
            else:
                self._capabilities[channel_id] = self._capable(channel)
        return self._capabilities[channel_id]

    def load_capabilities(self) -> None:
        """Load every channel's adapter declaration now (call it in a thread)."""
        for channel in self.config.channels:
            self.capabilities(channel.id)

    def refusal(self, kind: Kind, channel_id: str | None, *, load: bool = True) -> str | None:
        """Why ``kind`` cannot be done on the channel now; None when it can.

        ``load=False`` (the key bar, drawn on every frame): a channel whose adapter
        is not loaded yet is taken as able; the action itself checks again."""
        if self.read_only:
            return READ_ONLY
        if channel_id is None:
            return "no conversation selected"
        try:
            label = self.config.channel(channel_id).label
        except KeyError:
            return "this channel is no longer in config.yaml"
        if not load and channel_id not in self._capabilities:
            return None
        caps = self.capabilities(channel_id)
        if caps is None:
            return f"{label}: its adapter could not be loaded"
        if not caps.can(kind):
            return f"{label} cannot {kind} from sportello"
        if kind is Kind.ASSIGN and not self.config.team:
            return "no team: list the people in config.yaml (team:)"
        return None

    def _refuse(self, kind: Kind, channel_id: str) -> None:
        reason = self.refusal(kind, channel_id)
        if reason is not None:
            raise DeskError(reason)

    def undo_window_s(self, channel_id: str, kind: str | None = None) -> float:
        try:
            channel = self.config.channel(channel_id)
        except KeyError:
            return outbox.UNDO_WINDOW_DEFAULT_S
        if channel.undo_window is not None:
            return channel.undo_window.total_seconds()
        return outbox.UNDO_WINDOW_S.get(kind or "", outbox.UNDO_WINDOW_DEFAULT_S)

    # -- reading ----------------------------------------------------------------

    def _open(self) -> StoreBackend:
        store = self._store()
        if store is None or store.closed:
            raise DeskError(NOT_OPEN)
        return store

    async def messages(self, conversation_id: int, limit: int = 50) -> list[MessageRecord]:
        return await self._open().messages(conversation_id, limit)

    async def conversation(self, conversation_id: int) -> QueueItem | None:
        return await self._open().conversation(conversation_id)

    async def actions_of(self, conversation_id: int) -> list[Action]:
        return await self._open().actions(conversation_id=conversation_id)

    async def outbox(self, *, active_only: bool = False, limit: int | None = 500) -> list[Action]:
        states = outbox.ACTIVE if active_only else None
        return await self._open().actions(states=states, limit=limit)

    async def find_action(self, key: str) -> Action:
        store = self._open()
        found = await store.action(key)
        if found is None:
            matches = [a for a in await store.actions(limit=2000) if a.key.startswith(key)]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise DeskError(f"{key!r} matches {len(matches)} actions: give more of the key")
            raise DeskError(f"no action with the key {key!r}")
        return found

    # -- acting -----------------------------------------------------------------

    async def act(
        self, kind: Kind, item: QueueItem, payload: Mapping[str, str] | None = None
    ) -> Action:
        """Commit one action on a conversation to the outbox; it is delivered once
        its undo window has passed. Raises :class:`DeskError` with the reason."""
        reason = self.refusal(kind, item.channel_id)
        if reason is not None:
            raise DeskError(reason)
        store = self._open()
        kind_of_channel = await self._kind_of(store, item.channel_id)
        try:
            action = outbox.make(
                kind,
                channel_id=item.channel_id,
                conversation_id=item.conversation_id,
                external_id=item.external_id,
                payload=dict(payload or {}),
                made_by=self.who,
                now=self.clock(),
                undo_window_s=self.undo_window_s(item.channel_id, kind_of_channel),
                # What the reply answers: the collector holds it if someone
                # answered that wait from another tool meanwhile.
                extra={"waiting_since": repr(float(item.waiting_since))},
            )
        except Refused as exc:
            raise DeskError(str(exc)) from None
        drop = self.who if kind is Kind.REPLY else None
        await self._write(store.enqueue(action, drop_draft_of=drop))
        self.last_key = action.key
        if self.on_enqueue is not None:
            self.on_enqueue(action)
        return action

    async def reply(self, item: QueueItem, text: str) -> Action:
        return await self.act(Kind.REPLY, item, {"text": text})

    async def close(self, item: QueueItem) -> Action:
        return await self.act(Kind.CLOSE, item)

    async def assign(self, item: QueueItem, person: Person | str) -> Action:
        self._refuse(Kind.ASSIGN, item.channel_id)
        name = person.name if isinstance(person, Person) else person
        known = {p.name.casefold(): p.name for p in self.config.team}
        if name.casefold() not in known:
            team = ", ".join(p.name for p in self.config.team) or "nobody"
            raise DeskError(f"{name!r} is not in the team (team: {team})")
        return await self.act(Kind.ASSIGN, item, {"assignee": known[name.casefold()]})

    async def snooze(self, item: QueueItem, until: float) -> Action:
        self._refuse(Kind.SNOOZE, item.channel_id)
        if not math.isinf(until) and until <= self.clock():
            raise DeskError("that time has already passed")
        when = "reply" if math.isinf(until) else repr(float(until))
        return await self.act(Kind.SNOOZE, item, {"until": when})

    async def reopen(self, item: QueueItem) -> Action:
        return await self.act(Kind.REOPEN, item)

    async def undo(self, conversation_id: int | None = None) -> Action:
        """Take back the held action on ``conversation_id`` (else this person's last)."""
        store = self._open()
        target: Action | None = None
        if conversation_id is not None:
            held = await store.actions(
                conversation_id=conversation_id, states=(State.PENDING, State.FAILED)
            )
            mine = [a for a in held if a.made_by == self.who] or held
            target = mine[-1] if mine else None
        if target is None and self.last_key is not None:
            target = await store.action(self.last_key)
        if target is None:
            raise DeskError("nothing to undo")
        undone = await self._transition(store, target, outbox.undo)
        if undone.kind is Kind.REPLY and undone.text.strip():
            # Nothing the user wrote is lost: the reply is the draft again.
            draft = Draft(
                undone.conversation_id, self.who, undone.text, undone.made_at, self.clock()
            )
            await self._write(store.save_draft(draft))
        return undone

    async def retry(self, key: str) -> Action:
        store = self._open()
        again = await self._transition(store, await self.find_action(key), outbox.retry)
        if self.on_enqueue is not None:
            self.on_enqueue(again)  # this process's collector sends it now
        return again

    async def discard(self, key: str) -> Action:
        store = self._open()
        return await self._transition(store, await self.find_action(key), outbox.discard)

    async def _transition(
        self, store: StoreBackend, action: Action, step: Callable[[Action, float], Action]
    ) -> Action:
        if self.read_only:
            raise DeskError(READ_ONLY)
        try:
            new = step(action, self.clock())
        except Refused as exc:
            raise DeskError(str(exc)) from None
        if not await self._write(store.transition(new, action.state)):
            current = await store.action(action.key)
            state = current.state if current is not None else "gone"
            raise DeskError(f"it changed meanwhile: it is now {state}")
        return new

    # -- drafts and collisions ----------------------------------------------------

    async def save_draft(self, conversation_id: int, text: str, opened_at: float) -> None:
        store = self._open()
        if text.strip():
            draft = Draft(conversation_id, self.who, text, opened_at, self.clock())
            await self._write(store.save_draft(draft))
        else:
            await self._write(store.delete_draft(conversation_id, self.who))

    async def draft(self, conversation_id: int) -> Draft | None:
        for draft in await self._open().drafts(conversation_id):
            if draft.author == self.who:
                return draft
        return None

    async def collision(self, item: QueueItem, opened_at: float) -> Collision:
        """Who else is writing, and whether the customer was answered meanwhile."""
        store = self._open()
        writing = tuple(d for d in await store.drafts(item.conversation_id) if d.author != self.who)
        answered_at: float | None = None
        answered_by: str | None = None
        state = await store.conversation_state(item.conversation_id)
        last = state.last_business_at if state is not None else None
        if last is not None and last > max(opened_at, item.waiting_since):
            answered_at = last
        second: Action | None = None
        for action in await store.actions(conversation_id=item.conversation_id):
            if action.kind is not Kind.REPLY or action.made_at < item.waiting_since:
                continue
            if action.state in (State.UNDONE, State.DISCARDED):
                continue
            second = action
            if action.made_by != self.who and action.made_at > opened_at:
                answered_at = answered_at or action.made_at
                answered_by = action.made_by
        return Collision(writing, answered_at, answered_by, second)

    # -- snoozing -------------------------------------------------------------------

    def snooze_choices(self, channel_id: str) -> list[SnoozeChoice]:
        """1 hour, the channel's next opening, tomorrow morning, until the customer writes."""
        now = self.clock()
        tz = self.config.business.timezone
        choices = [SnoozeChoice("1 hour", now + 3600.0)]
        try:
            channel = self.config.channel(channel_id)
        except KeyError:
            channel = None
        if channel is not None and channel.hours is not None:
            opening = next_opening(channel, now)
            if opening is not None and opening > now:
                label = datetime.fromtimestamp(opening, tz).strftime("%a %H:%M")
                choices.append(SnoozeChoice(f"next opening ({label})", opening))
        tomorrow = datetime.fromtimestamp(now, tz).date() + timedelta(days=1)
        morning = datetime.combine(tomorrow, MORNING, tz).timestamp()
        if all(abs(choice.until - morning) >= 60 for choice in choices):
            choices.append(SnoozeChoice(f"tomorrow morning ({MORNING:%H:%M})", morning))
        choices.append(SnoozeChoice("until the customer writes again", math.inf))
        return choices

    # -- internals --------------------------------------------------------------

    async def _kind_of(self, store: StoreBackend, channel_id: str) -> str | None:
        if channel_id not in self._kinds:
            for record in await store.channels():
                self._kinds[record.id] = record.kind
        return self._kinds.get(channel_id)

    async def _write(self, pending: Awaitable[R]) -> R:
        try:
            return await pending
        except StoreError as exc:
            raise DeskError(f"not saved: {exc}") from exc


def next_opening(channel: Channel, now: float) -> float | None:
    """When the channel next opens after ``now`` (after it closes, if open now)."""
    from sportello.core.board import schedule_for  # pure; only when snoozing

    schedule = schedule_for(channel)
    if schedule.always_open:
        return None
    t = now
    step = 900.0
    for _ in range(8 * 96):  # at most eight days of open hours
        if not schedule.is_open(t):
            return schedule.next_open(t)
        t += step
    return None
