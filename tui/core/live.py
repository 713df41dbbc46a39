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
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from adapters import utc_now
from adapters.base import Clock
from tui.core.board import Board, compute_board, read_trends
from tui.core.collector import Collector
from tui.core.leader import CollectorLock
from tui.core.metrics import FRT_WINDOW_S
from tui.core.settings import Config
from tui.core.store import Store

log = logging.getLogger(__name__)

T = TypeVar("T")


class Role(enum.StrEnum):
    STARTING = "starting"
    COLLECTOR = "collector"  # this process polls the channels
    VIEWER = "viewer"  # another process polls; this one reads the store


@dataclass(frozen=True, slots=True)
class LiveUpdate(Generic[T]):
    board: Board
    role: Role
    paused: bool
    prepared: T  # what ``prepare`` made of the board, off the event loop


class Live(Generic[T]):
    """Reads the store whenever it changes and publishes the board."""

    def __init__(
        self,
        config: Config,
        publish: Callable[[LiveUpdate[T]], None],
        prepare: Callable[[Board], T],
        *,
        clock: Clock = utc_now,
        check_s: float = 1.0,
        tick_s: float = 30.0,
        takeover_s: float = 5.0,
        trend_s: float = 300.0,
        collect: bool = True,
    ) -> None:
        self.config = config
        self._publish = publish
        self._prepare = prepare
        self.clock = clock
        self.check_s = check_s
        self.tick_s = tick_s
        self.takeover_s = takeover_s
        self.trend_s = trend_s
        self.collect = collect
        self.role = Role.STARTING
        self.paused = False
        self.store: Store | None = None
        self.collector: Collector | None = None
        self._lock = CollectorLock(config.store_path)
        self._dirty = asyncio.Event()
        self._trends: dict[str, tuple[int | None, ...]] | None = None
        self._trends_at = float("-inf")

    # -- control ------------------------------------------------------------

    def refresh_now(self) -> None:
        """Poll now (as collector) and re-read the store."""
        if self.collector is not None:
            self.collector.poll_now()
        self._dirty.set()

    def set_paused(self, paused: bool) -> None:
        """Stop (or restart) polling and updates; the screen keeps what it shows."""
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
        collector_task: asyncio.Task[None] | None = None
        try:
            async with await Store.open(self.config.store_path) as store:
                self.store = store
                last_version = -1
                last_build = float("-inf")
                last_takeover = float("-inf")
                while True:
                    now_mono = time.monotonic()
                    if (
                        collector_task is None
                        and self.collect
                        and now_mono - last_takeover >= self.takeover_s
                    ):
                        last_takeover = now_mono
                        collector_task = self._try_become_collector(store)
                    elif self.role is Role.STARTING:
                        self.role = Role.VIEWER
                    version = await store.data_version()
                    due = now_mono - last_build >= self.tick_s
                    if version != last_version or self._dirty.is_set() or due:
                        self._dirty.clear()
                        last_version = version
                        last_build = now_mono
                        await self._build_and_publish(store)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._dirty.wait(), self.check_s)
        finally:
            if collector_task is not None:
                collector_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await collector_task
            if self.collector is not None:
                await self.collector.aclose()
            self._lock.release()
            self.store = None

    def _try_become_collector(self, store: Store) -> asyncio.Task[None] | None:
        if not self._lock.try_acquire():
            if self.role is not Role.VIEWER:
                log.info("another sportello collects for this store: viewing")
            self.role = Role.VIEWER
            return None
        self.role = Role.COLLECTOR
        self.collector = Collector(self.config, store, clock=self.clock, on_change=self._changed)
        if self.paused:
            self.collector.pause()
        return asyncio.create_task(self._collect(self.collector), name="collector")

    async def _collect(self, collector: Collector) -> None:
        try:
            await collector.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the collector stopped")
            self._dirty.set()

    async def _build_and_publish(self, store: Store) -> None:
        now = self.clock().timestamp()
        if self._trends is None or time.monotonic() - self._trends_at >= self.trend_s:
            self._trends = await read_trends(store, self.config, now)
            self._trends_at = time.monotonic()
        records = await store.channels()
        queue = await store.waiting()
        responses = await store.first_responses(since=now - FRT_WINDOW_S)
        trends = self._trends

        def compute() -> tuple[Board, T]:
            board = compute_board(self.config, records, queue, responses, now, trends)
            return board, self._prepare(board)

        board, prepared = await asyncio.to_thread(compute)
        self._publish(LiveUpdate(board, self.role, self.paused, prepared))
