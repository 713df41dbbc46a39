"""One connected demo channel: the SDK's :class:`~sportello_sdk.Session`.

``fetch()`` reports the simulated world at the clock's now
(:mod:`sportello_demo.simulation`, or :mod:`sportello_demo.scale` with ``scale: N``).
``act()`` (reply, close, assign, snooze, reopen) changes the world through a
durable record of what the channel accepted (:mod:`sportello_demo.record`), one
fsynced JSON line per action written before ``act()`` answers. The session reads
the record when it first needs it and again whenever it grew, so after a restart
the conversations look as they did, ``lookup()`` answers by key, and a line that
another tool appended (``answer_elsewhere``) shows as a business message. After a
reply or a close the customer may write again a few minutes later (drawn from the
seed and the conversation), which puts the conversation back in the queue.

The session's asyncio objects are made when it is, in the channel's own thread and
event loop; nothing is shared between sessions but immutable, cached data.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from sportello_demo.actions import Actions, apply_entry
from sportello_demo.profiles import PROFILE_BY_NAME
from sportello_demo.randomness import Rand, stable_key, sub_key
from sportello_demo.record import RecordTail, record_path
from sportello_demo.scale import ScaleQueue
from sportello_demo.simulation import Simulation
from sportello_sdk import (
    ActionKind,
    ActionRequest,
    ActionResult,
    ChannelContext,
    ChannelState,
    ConnectionFailed,
    Conversation,
    ProtocolError,
    Session,
)

__all__ = ["THREAD_AFTER_S", "DemoSession"]

THREAD_AFTER_S = 1000  # scale >= this: the queue is made in a worker thread


class DemoSession(Session):
    """One simulated channel. ``context.options``: the declared options, typed
    (:meth:`sportello_sdk.Adapter.declared_options`)."""

    def __init__(self, context: ChannelContext) -> None:
        values = dict(context.options)
        self.context = context
        self.channel_id = context.channel_id
        self.config = values
        self.profile: str = values["profile"]
        self.seed: int = values["seed"]
        self.scale: int = values["scale"]
        self.rate: float = values["rate"]
        self.fail_rate: float = values["fail_rate"]
        self.honour_keys: bool = values["honour_keys"]
        self.act_delay: float = values["act_delay"]
        self.block_s: float = values["block"].total_seconds()
        self.crash: bool = values["crash"]
        self.record_path: Path = record_path(self.channel_id, values["record"] or "")
        self.down_file: Path | None = (
            Path(values["down_file"]).expanduser() if values["down_file"] else None
        )
        self._profile = PROFILE_BY_NAME[self.profile]
        self._key = stable_key("channel", self.seed, self.channel_id, self.profile)
        self._world: Simulation | ScaleQueue = (
            ScaleQueue(self.channel_id, self._profile, self.seed, self.scale)
            if self.scale > 0
            else Simulation(self._profile, self.seed, self.rate, self._key)
        )
        self._tail = RecordTail(self.record_path)  # read when first needed, then as it grows
        self._actions = Actions()  # the record, applied
        self._done: dict[str, ActionResult] = {}  # idempotency key -> its first result
        self._reading = asyncio.Lock()  # one read (or append) of the record at a time
        self._acting = asyncio.Lock()  # one action at a time
        self._fetches = 0

    # ----------------------------------------------------------------- contract

    async def fetch(self, memory: Mapping[str, Any]) -> ChannelState:
        """The world at the clock's now. ``memory`` is not needed: the world is a
        function of the clock, and what the user did is in the record.

        The chaos options misbehave first: ``block`` stops the whole thread (the
        event loop included), ``crash`` raises what no adapter may."""
        if self.block_s > 0:
            time.sleep(self.block_s)  # noqa: ASYNC251 - the option is to block
        if self.crash:
            raise RuntimeError("demo crash: a bug in the adapter (crash: true)")
        self._check_up()
        now = self.context.now()
        self._fetches += 1
        if self.fail_rate > 0:
            draw = Rand(sub_key(self._key ^ 0xFA11, self._fetches)).random()
            if draw < self.fail_rate:
                raise ConnectionFailed(
                    f"simulated network failure (demo fail_rate {self.fail_rate:g})"
                )
        await self._sync()
        now_s = now.timestamp()
        if self.scale >= THREAD_AFTER_S:
            # Tens of milliseconds of pure Python: keep the event loop free.
            world = self._world
            conversations = await asyncio.to_thread(
                world.conversations, now_s, self._actions.copy()
            )
        else:
            conversations = self._world.conversations(now_s, self._actions)
        if self.profile != "phone":
            return ChannelState(conversations=tuple(conversations), complete=True)
        holds = [now_s - c.waiting_since.timestamp() for c in conversations if c.waiting_since]
        return ChannelState(
            conversations=tuple(conversations),
            complete=True,
            on_hold=len(holds),
            longest_hold=timedelta(seconds=max(holds, default=0.0)),
        )

    async def act(self, request: ActionRequest) -> ActionResult:
        """Accept one action: written to the record (and fsynced) before it returns."""
        self._check_up()
        key = request.idempotency_key
        async with self._acting:
            await self._sync()
            if self.honour_keys:
                done = self._done.get(key)
                if done is not None:
                    return done
            external_id = request.conversation_external_id
            self._check_id(external_id)
            until = request.until
            if request.kind is ActionKind.SNOOZE and until is not None and until.tzinfo is None:
                raise ProtocolError("snooze: the time must carry a timezone")
            if self.act_delay > 0:
                await asyncio.sleep(self.act_delay)
            now = self.context.now()
            entry: dict[str, Any] = {
                "key": key,
                "kind": str(request.kind),
                "conversation": external_id,
                "at": now.timestamp(),
            }
            message_id: str | None = None
            if request.kind is ActionKind.REPLY:
                replies = self._actions.replies.get(external_id, ())
                message_id = f"{external_id}/r{len(replies) + 1}"
                entry["text"] = request.text or ""
                entry["message_id"] = message_id
            elif request.kind is ActionKind.ASSIGN:
                entry["assignee"] = request.assignee or ""
            elif request.kind is ActionKind.SNOOZE:
                entry["until"] = None if until is None else until.timestamp()
            await self._append(entry)
            result = ActionResult(done_at=now, external_id=message_id)
            return self._done.get(key, result) if self.honour_keys else result

    async def lookup(self, request: ActionRequest) -> ActionResult | None:
        """What the record says the channel answered for this key (the first time)."""
        self._check_up()
        await self._sync()
        return self._done.get(request.idempotency_key)

    async def recheck(self, external_id: str) -> Conversation | None:
        """The conversation as ``fetch()`` would report it now: one bucket or one slot."""
        self._check_up()
        await self._sync()
        if not external_id.startswith(self._profile.tag + "-"):
            return None
        now = self.context.now().timestamp()
        try:
            return self._world.conversation(external_id, now, self._actions)
        except ValueError:  # not an id this channel makes
            return None

    async def aclose(self) -> None:
        self._world.clear()

    # ----------------------------------------------------------------- helpers

    def _check_id(self, external_id: str) -> None:
        if not external_id.startswith(self._profile.tag + "-"):
            raise ProtocolError(f"no conversation {external_id[:60]!r} on this demo channel")

    def _check_up(self) -> None:
        if self.down_file is not None and self.down_file.exists():
            raise ConnectionFailed(
                "simulated outage: the channel cannot be reached (demo down_file present)"
            )

    # ----------------------------------------------------------------- the record

    async def _sync(self) -> None:
        """Apply what was added to the record since it was last read (by this
        session, another process on the channel, or ``answer_elsewhere``)."""
        async with self._reading:
            if self._tail.unchanged():
                return
            try:
                restart, entries = await asyncio.to_thread(self._tail.read_new)
            except OSError as exc:
                raise ConnectionFailed(
                    f"cannot read the demo record {self.record_path}: {exc.strerror or exc}"
                ) from None
            self._take(restart, entries)

    async def _append(self, entry: dict[str, Any]) -> None:
        """Write one line (fsynced, off the event loop), then apply what is new."""
        async with self._reading:
            try:
                restart, entries = await asyncio.to_thread(self._tail.append, entry)
            except OSError as exc:
                raise ConnectionFailed(
                    f"cannot write the demo record {self.record_path}: {exc.strerror or exc}"
                ) from None
            self._take(restart, entries)

    def _take(self, restart: bool, entries: list[dict[str, Any]]) -> None:
        if restart:  # the record was replaced or cut: what it no longer says never happened
            self._actions = Actions()
            self._done.clear()
        for entry in entries:
            apply_entry(entry, self._actions, self._done, self._again)

    def _again(self, external_id: str, at: float, turn: int) -> tuple[float, int] | None:
        """Whether, and when, the customer writes again after the user's ``turn``-th
        reply or close at ``at``: (when, a draw that picks the text)."""
        p = self._profile
        if p.p_again <= 0:
            return None
        rng = Rand(stable_key("again", self.seed, self.channel_id, external_id, turn))
        if not rng.chance(p.p_again):
            return None
        return at + int(rng.uniform(*p.again_gap)), rng.below(1 << 30)
