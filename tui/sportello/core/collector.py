"""Polling every channel, each on its own interval, with failures kept apart.

Each channel has its own task: poll, store, sleep, poll again. The interval runs from
the start of a poll (a channel is refreshed every interval however long its poll and
store write take), and the next poll never starts before the previous one ended plus
a tenth of the interval, so a slow channel never piles up requests.
The adapter's code runs in the channel's own thread (:mod:`sportello_sdk.host`):
a poll that raises anything, blocks, hangs past the channel's timeout or returns
garbage marks that channel degraded (then down) and is retried with capped
exponential backoff and jitter, honouring Retry-After; the other channels, and the
screen, never notice. A channel task that fails for a reason of ours is logged and
started again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from sportello.core.delivery import ChannelLink, Deliverer, owner_id
from sportello.core.inert import inert
from sportello.core.polling_status import CollectorInfo, channel_digests, this_process
from sportello.core.records import Health, PollOutcome
from sportello.core.secrets import SecretError, resolve_options
from sportello.core.settings import Channel, Config
from sportello.core.state_check import Checked, check_state
from sportello.core.store import Store, StoreError
from sportello.core.store_outbox import ACTIONS_KEPT_S
from sportello.core.waits import event_or_timeout, stop_if_cancelled
from sportello_sdk import (
    Adapter,
    AdapterError,
    AuthenticationFailed,
    ConfigurationError,
    RateLimited,
    utc_now,
)
from sportello_sdk.base import ChannelContext, Clock, Session, channel_logger
from sportello_sdk.errors import describe, seconds_or_none
from sportello_sdk.host import STOP_GRACE_S, AdapterFault, ChannelHost
from sportello_sdk.redaction import redact as redact_registered
from sportello_sdk.registry import AdapterLoadError
from sportello_sdk.registry import load as load_adapter

log = logging.getLogger(__name__)

DOWN_AFTER = 5  # failures in a row before a channel is called down
MIN_GAP_SHARE = 0.1  # of the interval: the least time between the end of a poll and the next
BACKOFF_CAP_S = 15 * 60.0
PRUNE_EVERY_S = 3600.0
REQUESTS_EVERY_S = 1.0  # how soon a poll asked for by another process starts
ERROR_LIMIT = 300

# Errors that retrying will not fix until someone changes something.
_PERMANENT = (ConfigurationError, AuthenticationFailed)


@dataclass
class ChannelRun:
    """What the collector knows about one channel while it runs."""

    channel: Channel
    host: ChannelHost | None = None
    memory: dict[str, Any] = field(default_factory=dict)
    transport: str | None = None  # the HTTP policy's last report, as saved
    slow_until: float | None = None  # the rate limit asks not to poll before then
    suggested_interval_s: float | None = None  # ... or not faster than this
    failures: int = 0
    failing_since: float | None = None
    health: Health = Health.UNKNOWN
    last_error: str | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # A fetch and a delivery never use the adapter at the same time.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def backoff_delay(
    failures: int,
    interval_s: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retrying after ``failures`` failures in a row.

    Exponential from the poll interval, capped, with jitter so that channels on
    one server do not retry in lockstep; never sooner than the channel asked.
    """
    rng = rng or random.Random()
    cap = max(BACKOFF_CAP_S, interval_s)
    backoff = min(cap, interval_s * 2 ** max(0, failures - 1))
    delay: float = backoff * rng.uniform(0.5, 1.0)
    if retry_after is not None and retry_after > delay:
        delay = min(float(retry_after), 24 * 3600.0)
    return delay


def redact(message: str) -> str:
    """The message with every secret blanked (the one redaction, every form of each
    secret), made one safe bounded line."""
    return inert(redact_registered(message), limit=ERROR_LIMIT)


AdapterLoader = Callable[[str], type[Adapter]]
OptionResolver = Callable[[Channel, type[Adapter]], dict[str, Any]]


class Collector:
    """Polls the channels of a config into a store."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        clock: Clock = utc_now,
        loader: AdapterLoader = load_adapter,
        resolver: OptionResolver = resolve_options,
        on_change: Callable[[str], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self._loader = loader
        self._resolver = resolver
        self._on_change = on_change
        self._rng = rng or random.Random()
        self.runs: dict[str, ChannelRun] = {c.id: ChannelRun(c) for c in config.channels}
        self._resume = asyncio.Event()
        self._resume.set()
        self._started = False
        self._pause_changed = asyncio.Event()
        self._recorded: int | None = None  # our pid, once the store knows us as collector
        self.deliverer: Deliverer | None = None
        self.store_error: str | None = None
        """The store's last failure (a full disk, a locked file), ``None`` once a write
        succeeds again. It is the store's problem, not the channels': their health
        is left as it was."""

    # -- life cycle ---------------------------------------------------------

    async def start(self) -> None:
        """Build every channel's adapter and record the channels in the store."""
        if self._started:
            return
        self._started = True
        kinds: dict[str, str] = {}
        for run in self.runs.values():
            kinds[run.channel.id] = self._build(run)
        await self.store.sync_channels(self.config.channels, kinds)

    def _build(self, run: ChannelRun) -> str:
        channel = run.channel
        try:
            cls = self._loader(channel.adapter)
            options = self._resolver(channel, cls)
        except (AdapterLoadError, SecretError) as exc:
            run.last_error = redact(str(exc))
            return "other"
        try:
            typed = cls.declared_options(options)
            kind = str(cls.channel_kind(typed))
        except AdapterError as exc:
            run.last_error = redact(str(exc))
            return "other"
        except BaseException as exc:
            run.last_error = redact(f"could not start: {describe(exc)}")
            return "other"
        context = ChannelContext(
            channel_id=channel.id,
            options=typed,
            clock=self.clock,
            timeout_s=channel.timeout.total_seconds(),
            log=channel_logger(channel.id),
        )
        run.host = ChannelHost(channel.id, cls, context)
        return kind

    async def aclose(self, grace_s: float = STOP_GRACE_S) -> list[str]:
        """Close every channel's session, all at once, within ``grace_s``; tell the
        store that this process no longer collects. The channels whose adapter did
        not stop (their thread is left behind, to end with the program)."""
        if self._recorded is not None:
            pid, self._recorded = self._recorded, None
            try:
                await self.store.clear_collector(pid)
            except Exception as exc:
                log.warning("could not record the end of collecting: %s", exc)
        hosts = [(cid, run.host) for cid, run in self.runs.items() if run.host is not None]
        for run in self.runs.values():
            run.host = None
        ended = await asyncio.gather(*(host.close(grace_s) for _, host in hosts))
        left = [cid for (cid, _), done in zip(hosts, ended, strict=True) if not done]
        for cid in left:
            log.warning("channel %s: its adapter did not stop when asked; left behind", cid)
        return left

    # -- polling ------------------------------------------------------------

    async def poll_channel(self, run: ChannelRun) -> float | None:
        """Poll one channel once and record the outcome.

        Returns the retry delay a failure asks for (Retry-After), or None.
        """
        channel = run.channel
        started = self.clock().timestamp()
        error: str | None = None
        retry_after: float | None = None
        permanent = False
        host = run.host
        notices: list[str] = []
        if host is None:
            error = run.last_error or "the adapter could not be started"
            permanent = True
        else:
            memory = dict(run.memory)
            try:
                async with run.lock:
                    try:
                        checked = await host.call(
                            partial(_fetch_checked, memory=memory, now=started),
                            timeout_s=channel.timeout.total_seconds(),
                        )
                    finally:
                        notices = list(host.notices)
            except RateLimited as exc:
                error = describe(exc)
                retry_after = seconds_or_none(getattr(exc, "retry_after", None))
            except _PERMANENT as exc:
                error = describe(exc)
                permanent = True
            except AdapterError as exc:
                error = describe(exc)
            except AdapterFault as exc:
                error = describe(exc)
            else:
                await self._record_fetch(run, checked, notices, started)
                return None
        # The poll failed (the channel, or no adapter to ask).
        finished = self.clock().timestamp()
        error = error or "the adapter could not be started"
        run.failures += 1
        if run.failing_since is None:
            run.failing_since = started
        run.health = Health.DOWN if permanent or run.failures >= DOWN_AFTER else Health.DEGRADED
        if notices:
            error = "; ".join([error, *(n for n in notices if n not in error)])
        run.last_error = redact(error)
        log.info("channel %s: %s", channel.id, run.last_error)
        outcome = PollOutcome(
            channel_id=channel.id,
            started_at=started,
            finished_at=finished,
            ok=False,
            error=run.last_error,
            conversations=0,
        )
        try:
            await self.store.record_poll(outcome, run.health)
        except StoreError as exc:
            self._store_failed(channel.id, exc)
            if self._on_change is not None:
                self._on_change(channel.id)
            return retry_after
        await self._after_poll(run)
        return retry_after

    async def _record_fetch(
        self, run: ChannelRun, checked: Checked, notices: list[str], started: float
    ) -> None:
        """Store a good fetch and its poll in one transaction; what the run says of
        the channel changes only once the store has it."""
        channel = run.channel
        state = checked.state
        dropped = checked.report(redact)
        if checked.dropped:
            log.info(
                "channel %s: %d conversation(s) refused: %s",
                channel.id,
                len(checked.dropped),
                redact(str(checked.dropped[0])),
            )
        health, warning = Health.OK, None
        if notices:  # it answered, but behaved as no adapter may
            health, warning = Health.DEGRADED, redact("; ".join(notices))
        fetched_at = self.clock().timestamp()
        outcome = PollOutcome(channel.id, started, fetched_at, True, warning, 0)
        try:
            await self.store.apply_fetch(
                channel.id,
                state,
                fetched_at,
                keep=checked.keep,
                poll=outcome,
                health=health,
                dropped=dropped,
            )
        except StoreError as exc:
            # The channel answered; the store could not keep it. Nothing is recorded
            # against the channel (that write would fail too).
            self._store_failed(channel.id, exc)
            return
        if state.memory is not None:
            run.memory = dict(state.memory)
        run.failures = 0
        run.failing_since = None
        run.health, run.last_error = health, warning
        if warning is not None:
            log.warning("channel %s: %s", channel.id, warning)
        if self.deliverer is not None:
            self.deliverer.channel_up(channel.id)
        await self._after_poll(run)

    async def _after_poll(self, run: ChannelRun) -> None:
        """What follows a poll the store recorded: the transport's report (written only
        when it changed), the store known to work, the screen told."""
        try:
            await self._save_transport(run)
        except StoreError as exc:
            self._store_failed(run.channel.id, exc)
        else:
            self._store_ok()
        if self._on_change is not None:
            self._on_change(run.channel.id)

    async def _save_transport(self, run: ChannelRun) -> None:
        """Keep what the channel's HTTP policy saw (for the security checklist), and
        slow the channel's polling when the rate limit asks."""
        http = run.host.context.http if run.host is not None else None
        if http is None:
            return
        report = http.report()
        run.slow_until = report.slow_down_until
        run.suggested_interval_s = report.suggested_interval_s
        text = json.dumps(dataclasses.asdict(report), sort_keys=True, default=str)
        if text != run.transport:
            await self.store.save_transport(run.channel.id, text)
            run.transport = text

    def _store_failed(self, channel_id: str, exc: StoreError) -> None:
        message = inert(str(exc), limit=ERROR_LIMIT)
        if message != self.store_error:
            log.error("the store failed while saving channel %s: %s", channel_id, message)
        self.store_error = message
        if self._on_change is not None:
            self._on_change(channel_id)

    def _store_ok(self) -> None:
        if self.store_error is not None:
            log.warning("the store works again")
            self.store_error = None

    async def _load_memories(self) -> None:
        try:
            memories = await self.store.memories()
        except StoreError as exc:
            self._store_failed("(all)", exc)
            return
        for cid, memory in memories.items():
            run = self.runs.get(cid)
            if run is not None:
                run.memory = memory

    async def poll_once(self) -> dict[str, Health]:
        """Poll every channel once, concurrently; the health of each afterwards."""
        await self.start()
        await self._load_memories()
        await asyncio.gather(*(self.poll_channel(run) for run in self.runs.values()))
        return {cid: run.health for cid, run in self.runs.items()}

    async def run(self) -> None:
        """Poll every channel on its interval until cancelled.

        A channel that was polled successfully less than an interval ago (by this
        or an earlier collector of the store) waits for the rest of its interval:
        restarting the dashboard does not poll every channel again.
        """
        await self.start()
        now = self.clock().timestamp()
        await self._record_collector(now)
        last_ok = {r.id: r.last_ok_at for r in await self.store.channels()}
        await self._load_memories()
        async with asyncio.TaskGroup() as group:
            for run in self.runs.values():
                interval = run.channel.poll_interval.total_seconds()
                previous = last_ok.get(run.channel.id)
                first = 0.0 if previous is None else max(0.0, previous + interval - now)
                group.create_task(
                    self._loop(run, min(first, interval)), name=f"poll:{run.channel.id}"
                )
            group.create_task(self._prune_loop(), name="prune")
            group.create_task(self._requests_loop(), name="requests")
            if self.store.leading:
                group.create_task(self._deliver(), name="deliver")

    def deliverer_for(self, owner: str) -> Deliverer:
        """The outbox's deliverer, through this collector's adapters."""
        links = {
            cid: ChannelLink(
                host=partial(_host_of, run),
                lock=run.lock,
                timeout_s=run.channel.timeout.total_seconds(),
                redact=redact,
            )
            for cid, run in self.runs.items()
        }
        return Deliverer(
            self.store,
            links,
            clock=lambda: self.clock().timestamp(),
            owner=owner,
            team=self.config.team,
            on_change=self._on_change,
        )

    async def _deliver(self) -> None:
        user, host, pid = this_process()
        self.deliverer = self.deliverer_for(owner_id(user, host, pid))
        try:
            await self.deliverer.run()
        finally:
            self.deliverer = None

    def wake_delivery(self, retried: str | None = None) -> None:
        """An action was just committed in this process (or, ``retried``, one of that
        channel sent again by the user): deliver it without delay."""
        if self.deliverer is not None:
            self.deliverer.wake(retried)

    async def _record_collector(self, now: float) -> None:
        user, host, pid = this_process()
        info = CollectorInfo(user, host, pid, now, self.paused, channel_digests(self.config))
        try:
            await self.store.set_collector(info)
        except StoreError as exc:  # the screen still works; viewers say less
            self._store_failed("(all)", exc)
            return
        self._recorded = pid

    async def _requests_loop(self) -> None:
        """Serve what other processes ask (a poll now); record pauses."""
        try:
            seen = await self.store.last_request_id()
        except StoreError as exc:
            self._store_failed("(all)", exc)
            seen = 0
        while True:
            await event_or_timeout(self._pause_changed, REQUESTS_EVERY_S)
            try:
                if self._pause_changed.is_set():
                    self._pause_changed.clear()
                    if self._recorded is not None:
                        await self.store.set_collector_paused(self._recorded, self.paused)
                for request in await self.store.requests_after(seen):
                    seen = request.id
                    if request.kind == "poll":
                        log.info("a poll asked for by %s", inert(request.made_by, 60))
                        self.poll_now(request.channel_id)
            except StoreError as exc:
                self._store_failed("(all)", exc)

    async def _loop(self, run: ChannelRun, first_delay: float = 0.0) -> None:
        interval = run.channel.poll_interval.total_seconds()
        if first_delay > 0:
            await event_or_timeout(run.wake, first_delay)
        while True:
            await self._resume.wait()
            began = time.monotonic()
            try:
                retry_after = await self.poll_channel(run)
            except Exception:  # our bug, not the channel's: log it, keep polling
                log.exception("channel %s: polling failed", run.channel.id)
                retry_after = None
                run.failures += 1
            stop_if_cancelled()
            if run.failures:
                delay = backoff_delay(run.failures, interval, retry_after, self._rng)
            else:
                # The interval runs from the start of a poll, so that a channel is
                # refreshed every interval however long a poll and its store write take;
                # never sooner than a tenth of the interval after the end (a slow
                # channel never polls back to back).
                took = time.monotonic() - began
                delay = max(interval - took, interval * MIN_GAP_SHARE)
            delay = max(delay, self._rate_delay(run))
            run.wake.clear()
            await event_or_timeout(run.wake, delay)

    def _rate_delay(self, run: ChannelRun) -> float:
        """How long the channel's rate limit asks it to wait (0 when it asks nothing)."""
        wait = run.suggested_interval_s or 0.0
        if run.slow_until is not None:
            wait = max(wait, run.slow_until - self.clock().timestamp())
        return min(max(0.0, wait), BACKOFF_CAP_S)

    async def _prune_loop(self) -> None:
        keep = timedelta(days=self.config.retention_days).total_seconds()
        while True:
            try:
                now = self.clock().timestamp()
                await self.store.prune(now - keep)
                await self.store.prune_outbox(now - ACTIONS_KEPT_S)
            except Exception as exc:
                log.error("pruning the store failed: %s", exc)
            await asyncio.sleep(PRUNE_EVERY_S)

    # -- control from the screen ---------------------------------------------

    def poll_now(self, channel_id: str | None = None) -> None:
        """Wake the channel (or every channel) to poll at once."""
        for run in self.runs.values():
            if channel_id is None or run.channel.id == channel_id:
                run.wake.set()

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    def pause(self) -> None:
        self._resume.clear()
        self._pause_changed.set()

    def resume(self) -> None:
        self._resume.set()
        self._pause_changed.set()
        self.poll_now()

    def health(self) -> Mapping[str, Health]:
        return {cid: run.health for cid, run in self.runs.items()}


def _host_of(run: ChannelRun) -> ChannelHost | None:
    return run.host


async def _fetch_checked(session: Session, *, memory: Mapping[str, Any], now: float) -> Checked:
    """The fetch and its sense checks, both in the channel's thread: at 100,000
    conversations the checks take a good part of a second, not the screen's."""
    return check_state(await session.fetch(memory), now)
