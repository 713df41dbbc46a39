"""The commands that run without a screen: ``--once`` and ``collect``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass

from sportello.core.board import Board
from sportello.core.board_read import read_board
from sportello.core.collector import Collector
from sportello.core.polling_status import this_process
from sportello.core.settings import Config
from sportello.core.store import Store
from sportello.core.waits import event_or_timeout
from sportello_sdk import utc_now
from sportello_sdk.errors import describe

log = logging.getLogger(__name__)

STANDBY_RETRY_S = 5.0


@dataclass(frozen=True, slots=True)
class OnceResult:
    """What ``--once`` shows: the board, and whether this process polled for it."""

    board: Board
    polled: bool  # False: another process is the collector; the board is what it stored
    # With ``fresh``, when another process collects: whether it polled every channel
    # at our request in time (True), or not (False); None when nothing was asked.
    asked: bool | None = None


async def once(config: Config, *, fresh: bool = False) -> OnceResult:
    """Poll every channel once, store the results, and read the board back.

    When another process is already the collector of this store (a dashboard, or
    ``collect`` under systemd), it does not poll (that would double every API
    call): it reads what that collector stored, after asking it for a fresh poll
    of every channel when ``fresh`` (and waiting for it, within the channels'
    timeouts).
    """
    log.info("store: %s", config.store_path)
    async with await Store.open(config.store_path) as store:
        if store.try_lead():
            try:
                collector = Collector(config, store)
                try:
                    await collector.poll_once()
                finally:
                    await collector.aclose()
                board = await read_board(store, config, utc_now().timestamp())
            finally:
                store.release_lead()
            return OnceResult(board, polled=True)
    if not fresh:
        return OnceResult(await read_stored(config), polled=False)
    asked = await ask_for_a_poll(config)
    return OnceResult(await read_stored(config), polled=False, asked=asked)


FRESH_SLACK_S = 5.0  # beyond the longest channel timeout, for the collector to notice


async def ask_for_a_poll(config: Config) -> bool:
    """Ask the running collector to poll every channel; True once each channel's
    last poll is newer than the request, False when that took too long."""
    user, host, _pid = this_process()
    limit = max((c.timeout.total_seconds() for c in config.channels), default=30.0)
    async with await Store.open(config.store_path) as store:
        asked_at = utc_now().timestamp()
        await store.request("poll", asked_at, f"{user}@{host} (--once --poll)")
        wanted = {channel.id for channel in config.channels}
        deadline = asyncio.get_running_loop().time() + limit + FRESH_SLACK_S
        while asyncio.get_running_loop().time() < deadline:
            polled = {
                record.id
                for record in await store.channels()
                if record.last_poll_at is not None and record.last_poll_at >= asked_at
            }
            if wanted <= polled:
                return True
            await asyncio.sleep(0.2)
    return False


async def read_stored(config: Config) -> Board:
    """The board from what the store holds now, without polling."""
    async with await Store.open(config.store_path) as store:
        return await read_board(store, config, utc_now().timestamp())


async def collect(config: Config) -> bool:
    """Run the collector until SIGTERM or SIGINT, standing by while another runs.

    False when the collector stopped on its own (a bug): the lead is given up and
    the command exits non-zero, so that a service manager restarts it."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    # The store's own lead (not a lock beside it): the collector delivers the
    # outbox only when its store leads.
    async with await Store.open(config.store_path) as store:
        announced = False
        while not store.try_lead():
            if not announced:
                log.warning(
                    "another sportello is collecting for %s; standing by to take over",
                    config.store_path,
                )
                announced = True
            if await event_or_timeout(stop, STANDBY_RETRY_S):
                return True
        log.warning("collecting %d channel(s) into %s", len(config.channels), config.store_path)
        failed = False
        try:
            collector = Collector(config, store)
            task = asyncio.create_task(collector.run())
            stopper = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopper.cancel()
                stopped = None if not task.done() or task.cancelled() else task.exception()
                if stopped is not None:
                    failed = True
                    log.error("the collector stopped: %s", describe(stopped))
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                await collector.aclose()
        finally:
            store.release_lead()
    return not failed
