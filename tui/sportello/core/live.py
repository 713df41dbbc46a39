"""Keeping a board current for a screen, as the collector or as a viewer.

The first process on a store takes the collector lock and polls the channels;
the others are viewers that watch the store for commits by the collector and try
the lock now and then, to take over when it goes away. Either way the screen gets
an immutable :class:`LiveUpdate` through the ``publish`` callback; nothing here
touches a widget, so this module runs (and is tested) without a terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from itertools import chain
from typing import TYPE_CHECKING, Generic, TypeVar

from sportello.core.board import Board, compute_board, schedule_for
from sportello.core.board_read import read_trends
from sportello.core.live_update import LiveUpdate, Refresh, Role
from sportello.core.metrics import FRT_WINDOW_S
from sportello.core.outbox import ACTIVE, Action, State
from sportello.core.polling_status import (
    ChannelPolls,
    CollectorInfo,
    PollingStatus,
    channel_digests,
    polling_status,
    this_process,
)
from sportello.core.records import ChannelRecord, FirstResponse, QueueItem
from sportello.core.settings import Config
from sportello.core.store import Store, StoreError
from sportello.core.store_contract import Revisions
from sportello.core.waits import event_or_timeout
from sportello_sdk import utc_now
from sportello_sdk.base import Clock

if TYPE_CHECKING:
    from sportello.core.collector import Collector

log = logging.getLogger(__name__)

T = TypeVar("T")

HEAD_ABOVE = 5_000  # a queue larger than this shows its head first
HEAD_PER_CHANNEL = 200  # rows of each channel in that first screen
HEAD_SETTLE_S = 0.3  # pause between showing the head and reading the whole queue
SEARCH_AT_ONCE_UP_TO = 20_000
"""A queue this large or smaller is read with its search texts; a larger one
without them (a few hundred bytes a conversation, and a haystack each) until the
filter is first used (:meth:`Live.want_search`). A queue that grows past it stops
being searched until the filter is used; one that shrinks to half is searched
again (not back and forth around one size: each change reads every queue again)."""
MIN_GAP_S = 0.25  # between two boards
GAP_FACTOR = 2.0  # ... or twice as long as the last board took to build
COLLECTOR_GIVE_UP = 3  # the collector stopped this many times ...
COLLECTOR_FAILURES_S = 600  # ... within ten minutes: stop collecting, view only


class Live(Generic[T]):
    """Reads the store whenever it changes and publishes the board."""

    def __init__(
        self,
        config: Config,
        publish: Callable[[LiveUpdate[T]], None],
        prepare: Callable[[Board], T],
        *,
        built_at: Callable[[T], Mapping[str, float]] | None = None,
        clock: Clock = utc_now,
        check_s: float = 1.0,
        tick_s: float = 30.0,
        takeover_s: float = 5.0,
        trend_s: float = 300.0,
        resort_s: float = 600.0,
        collect: bool = True,
    ) -> None:
        self.config = config
        self._publish = publish
        self._prepare = prepare
        # Per channel, when the waits of what ``prepare`` made were worked out, if
        # not at the board's time (it reused the rows of unchanged channels).
        self._built_at = built_at
        self.clock = clock
        self.check_s = check_s
        self.tick_s = tick_s
        self.takeover_s = takeover_s
        self.trend_s = trend_s
        self.resort_s = resort_s
        self.collect = collect
        self.role = Role.STARTING
        self.paused = False
        self.store: Store | None = None
        self.collector: Collector | None = None
        self._collector_task: asyncio.Task[None] | None = None
        self._collector_failures: list[float] = []  # when the collector stopped on its own
        self._dirty = asyncio.Event()
        self._trends: dict[str, tuple[int | None, ...]] | None = None
        self._items: dict[str, list[QueueItem]] = {}
        self._last: tuple[Board, T] | None = None
        self._full_at = float("-inf")
        self._seen: dict[str, object] = {}
        self._trends_at = float("-inf")
        # Whether the screen draws the 7-day trends (want_trends): read only then.
        self._trends_wanted = False
        # Whether queues are read with their search texts (None: not decided yet),
        # and whether the filter asked for them (then always).
        self._search: bool | None = None
        self._search_wanted = False
        self._searched: dict[str, bool] = {}  # per channel: its items have search texts
        self._requests: set[asyncio.Task[int]] = set()
        self._own_digests: dict[str, str] | None = None  # when first needed, as a viewer
        self._last_update: LiveUpdate[T] | None = None
        self._actions: dict[int, Action] = {}
        self._outbox_seen: int | None = None

    # -- control ------------------------------------------------------------

    def refresh_now(self) -> Refresh:
        """Poll every channel now: here as the collector, else by asking the collector
        through the store (it notices within a second). Says what it did."""
        self._dirty.set()
        if self.collector is not None:
            if self.collector.paused:
                return Refresh.PAUSED
            self.collector.poll_now()
            return Refresh.POLLING
        store = self.store
        if store is None:
            return Refresh.NO_STORE
        user, host, _pid = this_process()
        made_at = self.clock().timestamp()
        task = asyncio.create_task(store.request("poll", made_at, f"{user}@{host}"))
        self._requests.add(task)
        task.add_done_callback(self._request_done)
        return Refresh.ASKED

    def wake_delivery(self, action: Action | None = None) -> None:
        """An action was committed in this process: deliver it (as collector) at once.

        The board is not rebuilt for it: the screen shows the action it just made
        itself, and a rebuild competing with the delivery for the CPU doubled the
        time from the send key to the channel (bench outbox_deliver)."""
        if self.collector is not None:
            retried = action.channel_id if action is not None and action.attempts else None
            self.collector.wake_delivery(retried)

    def want_trends(self, wanted: bool = True) -> None:
        """Whether the screen draws the 7-day trends: they are read only while it does.

        At 80 columns the trend column is not drawn, and reading a week of
        snapshots of every channel cost the first board ~27 ms for nothing. The
        screen says so once it lays its channel table out (after the first
        frame); the first time, a board with them follows at once.
        """
        if wanted and not self._trends_wanted:
            self._dirty.set()
        self._trends_wanted = wanted

    def want_search(self) -> None:
        """The filter is being used: read every queue with its search texts (once;
        a big queue was read without them) and build rows the filter can search."""
        if self._search_wanted:
            return
        self._search_wanted = True
        if not self._search:
            self._search = True  # every channel's queue is read again (_read_queue)
            self._dirty.set()

    def _decide_search(self, waiting: int) -> None:
        if self._search_wanted:
            self._search = True
        elif self._search is None:
            self._search = waiting <= SEARCH_AT_ONCE_UP_TO
        elif self._search and waiting > SEARCH_AT_ONCE_UP_TO:
            self._search = False
        elif not self._search and waiting <= SEARCH_AT_ONCE_UP_TO // 2:
            self._search = True

    def _request_done(self, task: asyncio.Task[int]) -> None:
        self._requests.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("could not ask the collector to poll: %s", task.exception())

    def set_paused(self, paused: bool) -> None:
        """Freeze (or thaw) what this screen shows; as the collector, stop (or
        restart) polling too. A paused viewer applies no other process's writes."""
        self.paused = paused
        if self.collector is not None:
            if paused:
                self.collector.pause()
            else:
                self.collector.resume()
        self._dirty.set()

    def _changed(self, _channel_id: str) -> None:
        self._dirty.set()

    # -- running ------------------------------------------------------------

    async def run(self) -> None:
        """Watch the store (and poll, as collector) until cancelled."""
        try:
            async with await Store.open(self.config.store_path) as store:
                self.store = store
                try:
                    await self._watch(store)
                finally:
                    # Inside the store's block: a poll still running must be able
                    # to record itself before the store closes.
                    await self._stop_collector()
                    for task in list(self._requests):
                        task.cancel()
                    store.release_lead()
        finally:
            self.store = None

    async def _stop_collector(self) -> None:
        task, self._collector_task = self._collector_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.collector is not None:
            await self.collector.aclose()

    async def _watch(self, store: Store) -> None:
        last_version: Revisions | None = None
        last_build = float("-inf")
        next_build = 0.0
        last_takeover = float("-inf")
        while True:
            now_mono = time.monotonic()
            if (
                self._collector_task is None
                and last_build > float("-inf")  # the first board is on screen
                and now_mono - last_takeover >= self.takeover_s
            ):
                last_takeover = now_mono
                role = self.role
                if self.collect:
                    self._collector_task = self._try_become_collector(store)
                else:
                    self.role = Role.VIEWER
                if self.role is not role:
                    self._dirty.set()  # the header says who polls
            version = await store.revisions()
            due = now_mono - last_build >= self.tick_s
            wanted = version != last_version or self._dirty.is_set() or due
            if wanted and now_mono < next_build:
                # Too soon after the last board: come back when allowed,
                # remembering that one is wanted.
                self._dirty.set()
                await asyncio.sleep(next_build - now_mono)
                continue
            if wanted and self.paused and self._last_update is not None:
                # Frozen: the screen keeps its board; only the header says so.
                self._dirty.clear()
                last_version = version
                last_build = now_mono
                await self._publish_paused(store)
            elif wanted:
                self._dirty.clear()
                last_version = version
                last_build = now_mono
                await self._build_and_publish(store, version)
                took = time.monotonic() - now_mono
                # Coalesce: a board that takes long to build is not rebuilt
                # for every channel's poll.
                next_build = time.monotonic() + max(MIN_GAP_S, GAP_FACTOR * took)
            await event_or_timeout(self._dirty, self.check_s)

    def _try_become_collector(self, store: Store) -> asyncio.Task[None] | None:
        # Imported here: the first board is on screen before polling starts.
        from sportello.core.collector import Collector

        if not store.try_lead():
            if self.role is not Role.VIEWER:
                log.info("another sportello collects for this store: viewing")
            self.role = Role.VIEWER
            return None
        self.role = Role.COLLECTOR
        self.collector = Collector(self.config, store, clock=self.clock, on_change=self._changed)
        if self.paused:
            self.collector.pause()
        return asyncio.create_task(self._collect(store, self.collector), name="collector")

    async def _collect(self, store: Store, collector: Collector) -> None:
        """Run the collector; when it stops for any reason but ours, close it and give
        up the lead: the watch loop takes it again (a restart) unless it failed
        ``COLLECTOR_GIVE_UP`` times within ``COLLECTOR_FAILURES_S``, and meanwhile
        another sportello may take over."""
        try:
            await collector.run()
            raise RuntimeError("the collector returned")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the collector stopped")
        now = time.monotonic()
        self._collector_failures = [
            t for t in self._collector_failures if now - t < COLLECTOR_FAILURES_S
        ] + [now]
        try:
            await collector.aclose()
        except Exception:
            log.exception("closing the stopped collector failed")
        if self.collector is collector:
            self.collector = None
        store.release_lead()
        self.role = Role.VIEWER
        if len(self._collector_failures) >= COLLECTOR_GIVE_UP:
            log.error(
                "the collector stopped %d times in %d minutes: this dashboard only views now",
                len(self._collector_failures),
                COLLECTOR_FAILURES_S // 60,
            )
            self.collect = False
        self._collector_task = None  # the watch loop may start it again
        self._dirty.set()

    async def _status(
        self, store: Store, records: list[ChannelRecord], now: float
    ) -> PollingStatus:
        """Who polls and how fresh the data is (one small read as a viewer)."""
        info: CollectorInfo | None = None
        if self.role is Role.VIEWER:
            info = await store.collector()
        by_id = {record.id: record for record in records}
        channels = [
            ChannelPolls(
                channel.id,
                channel.poll_interval.total_seconds(),
                channel.timeout.total_seconds(),
                by_id[channel.id].health,
                by_id[channel.id].last_poll_at,
            )
            for channel in self.config.channels
            if channel.id in by_id
        ]
        collecting = {Role.COLLECTOR: True, Role.VIEWER: False}.get(self.role)
        return polling_status(
            collecting=collecting,
            paused_here=self.paused,
            collector=info,
            own=self._digests() if self.role is Role.VIEWER else {},
            channels=channels,
            now=now,
            tz=self.config.business.timezone,
            store_problem=self.collector.store_error if self.collector is not None else None,
        )

    def _digests(self) -> dict[str, str]:
        if self._own_digests is None:
            self._own_digests = channel_digests(self.config)
        return self._own_digests

    async def _publish_paused(self, store: Store) -> None:
        assert self._last_update is not None
        last = self._last_update
        status = await self._status(store, [], self.clock().timestamp())
        # The same board and rows: the same advance goes with them.
        self._emit(replace(last, role=self.role, paused=True, status=status))

    def _emit(self, update: LiveUpdate[T]) -> None:
        self._last_update = update
        self._publish(update)

    async def _build_and_publish(self, store: Store, revisions: Revisions) -> None:
        now = self.clock().timestamp()
        if self._trends_wanted and time.monotonic() - self._trends_at >= self.trend_s:
            self._trends = await read_trends(store, self.config, now)
            self._trends_at = time.monotonic()
        records = await store.channels()
        summary = await store.waiting_summary()
        responses = await store.first_responses(since=now - FRT_WINDOW_S)
        status = await self._status(store, records, now)
        if revisions.outbox != self._outbox_seen:
            self._actions = await _latest_actions(store, now)
            self._outbox_seen = revisions.outbox
        waiting = sum(count for count, _ in summary.values())
        self._decide_search(waiting)
        if self._last is None and waiting > HEAD_ABOVE:
            # A large queue: first show its exact top, then read the whole of it.
            head = await store.waiting_head(HEAD_PER_CHANNEL)
            await self._compute_and_publish(records, head, responses, now, summary, status)
            # Let the screen draw it before the heavy read competes for the CPU.
            await asyncio.sleep(HEAD_SETTLE_S)
        changed = await self._read_queue(store, records, revisions)
        resort_due = time.monotonic() - self._full_at >= self.resort_s
        if self._last is not None and not changed and not resort_due:
            self._publish_light(records, responses, now, summary, status)
            return
        queue = list(chain.from_iterable(self._items.values()))
        await self._compute_and_publish(records, queue, responses, now, None, status)

    def _publish_light(
        self,
        records: list[ChannelRecord],
        responses: list[FirstResponse],
        now: float,
        summary: dict[str, tuple[int, float]],
        status: PollingStatus,
    ) -> None:
        """Nothing waiting changed: fresh channel figures, the same queue rows, older."""
        assert self._last is not None
        last, prepared = self._last
        light = compute_board(
            self.config,
            records,
            [],
            responses,
            now,
            self._trends,
            summary=summary,
            not_polled=status.not_polled,
            actions=self._actions,
        )
        board = replace(
            light, queue=last.queue, waits=last.waits, complete=True, searchable=last.searchable
        )
        advance = self._advance(prepared, last.now, now)
        self._emit(LiveUpdate(board, self.role, self.paused, prepared, advance, status))

    def _advance(self, prepared: T, made_at: float, now: float) -> dict[str, float]:
        """Per channel, the open time between when the waits of ``prepared`` were
        worked out (``made_at``, unless ``built_at`` says otherwise) and ``now``:
        what the screen adds to every wait it shows. Channels at zero are left out."""
        built = self._built_at(prepared) if self._built_at is not None else {}
        advance = {}
        for channel in self.config.channels:
            since = built.get(channel.id, made_at)
            if since < now:
                advance[channel.id] = schedule_for(channel).open_seconds(since, now)
        return advance

    async def _read_queue(
        self,
        store: Store,
        records: list[ChannelRecord],
        revisions: Revisions,
    ) -> bool:
        """Re-read the queues whose revision moved since last time; True if any changed."""
        changed = False
        for record in records:
            key = revisions.queues.get(record.id, 0)
            search = bool(self._search)
            if (
                record.id in self._items
                and self._seen.get(record.id) == key
                and self._searched.get(record.id) == search
            ):
                continue
            items = await store.waiting(record.id, search=search)
            self._searched[record.id] = search
            if items != self._items.get(record.id):
                changed = True
                # Only when changed: the rows made of the items in hand stay valid
                # (build_board_rows keeps them), and one copy of each item is kept.
                self._items[record.id] = items
            self._seen[record.id] = key
        known = {record.id for record in records}
        for stale in set(self._items) - known:
            del self._items[stale]
            self._searched.pop(stale, None)
            changed = True
        return changed

    async def _compute_and_publish(
        self,
        records: list[ChannelRecord],
        queue: list[QueueItem],
        responses: list[FirstResponse],
        now: float,
        summary: dict[str, tuple[int, float]] | None,
        status: PollingStatus,
    ) -> None:
        trends = self._trends
        actions = self._actions

        def compute() -> tuple[Board, T]:
            board = compute_board(
                self.config,
                records,
                queue,
                responses,
                now,
                trends,
                summary=summary,
                not_polled=status.not_polled,
                actions=actions,
            )
            if board.complete and not searchable:
                board = replace(board, searchable=False)
            return board, self._prepare(board)

        # The items read so far are what counts (want_search may come meanwhile).
        searchable = all(self._searched.get(channel_id, True) for channel_id in self._items)
        board, prepared = await asyncio.to_thread(compute)
        if board.complete:
            self._last = (board, prepared)
            self._full_at = time.monotonic()
        advance = self._advance(prepared, board.now, board.now)
        self._emit(LiveUpdate(board, self.role, self.paused, prepared, advance, status))


RECENT_ACTIONS_S = 3600.0  # a finished action is shown for an hour ("sent 5m ago")


async def _latest_actions(store: Store, now: float) -> dict[int, Action]:
    """The latest action of each conversation: under way, or finished within the hour."""
    latest: dict[int, Action] = {}
    found = await store.actions(states=ACTIVE)
    found += await store.actions(since=now - RECENT_ACTIONS_S, limit=2000)
    for action in found:
        held = latest.get(action.conversation_id)
        if held is None or (action.made_at, action.key) >= (held.made_at, held.key):
            latest[action.conversation_id] = action
    # Taken back or given up: nothing happened to the conversation, nothing to show.
    return {cid: a for cid, a in latest.items() if a.state not in (State.UNDONE, State.DISCARDED)}


async def opening_board(config: Config, clock: Clock = utc_now) -> Board | None:
    """The board as the store has it now, read before the screen starts.

    The first frame can then show data instead of an empty dashboard that is
    drawn again a moment later. A big queue gives its head (as :class:`Live`'s
    first board does). Without the trends: they are read after the first
    frame, and only if drawn (:meth:`Live.want_trends`). ``None`` when the
    store cannot be opened: the live worker will meet the same problem and say
    so on the screen.
    """
    try:
        async with await Store.open(config.store_path) as store:
            now = clock().timestamp()
            records = await store.channels()
            summary = await store.waiting_summary()
            responses = await store.first_responses(since=now - FRT_WINDOW_S)
            if sum(count for count, _ in summary.values()) > HEAD_ABOVE:
                queue = await store.waiting_head(HEAD_PER_CHANNEL)
                return compute_board(config, records, queue, responses, now, None, summary)
            queue = await store.waiting()
            return compute_board(config, records, queue, responses, now)
    except StoreError:
        return None
