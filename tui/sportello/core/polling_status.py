"""Who polls the channels of a store, and whether what the screen shows is fresh.

The collector (the one process that polls) records who it is in the store: user,
host, process, since when, whether it is paused, and a digest of each channel's
configuration. Every other process reads that and :func:`polling_status` turns
it, with the board, into the header's words:

- ``● live`` — this process polls;
- ``● live · anna@shop since 09:12`` — another process polls, same config;
- ``● live · anna@shop · other config`` — it polls with a different config;
- ``● stale · last poll 4m ago`` — a channel's last poll is older than a few of
  its intervals (the collector hangs, or was stopped without a successor);
- ``❚❚ paused · nobody polls`` / ``❚❚ paused by anna@shop`` / ``❚❚ paused (this
  screen)`` — by whom, and what it means;
- ``✗ store: …`` — the store itself fails (a full disk), not a channel.

It also names the configured channels the running collector does not poll.
Pure: no I/O, no clock (``now`` is an argument).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sportello.core.inert import inert
from sportello.core.records import Health
from sportello.core.settings import Channel, Config, OpenHours, SecretRef
from sportello_sdk.options import format_duration

__all__ = [
    "STALE_INTERVALS",
    "ChannelPolls",
    "CollectorInfo",
    "PollingStatus",
    "channel_digest",
    "channel_digests",
    "polling_status",
    "this_process",
]

STALE_INTERVALS = 3
"""A channel's data is stale when its last poll is older than this many intervals
(plus its timeout)."""

NOT_POLLED = "not polled by the running collector: restart it"
OTHER_CONFIG = "polled by the running collector with another configuration: restart it"


@dataclass(frozen=True, slots=True)
class CollectorInfo:
    """What the running collector recorded about itself."""

    user: str
    host: str
    pid: int
    started_at: float
    paused: bool
    channels: Mapping[str, str] = field(default_factory=dict)  # channel id → digest

    @property
    def who(self) -> str:
        return f"{inert(self.user, 32)}@{inert(self.host, 40)}"


@dataclass(frozen=True, slots=True)
class PollingStatus:
    text: str
    level: str  # "ok", "warn", "error", "muted"
    not_polled: Mapping[str, str] = field(default_factory=dict)  # channel id → why
    stale: bool = False


def this_process() -> tuple[str, str, int]:
    """(user, host, pid) of this process, for the collector's record."""
    import getpass  # here: not needed for the first frame
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = str(os.getuid())
    return user, socket.gethostname() or "localhost", os.getpid()


def _plain(value: Any) -> Any:
    """A config value as JSON-able data, secrets as their reference only."""
    if isinstance(value, SecretRef):
        return str(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, OpenHours):
        return {
            "weekly": [[[str(a), str(b)] for a, b in day] for day in value.weekly],
            "timezone": str(value.timezone),
            "holidays": sorted(str(day) for day in value.holidays),
        }
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple | frozenset | set):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, frozenset | set) else items
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def channel_digest(channel: Channel) -> str:
    """A short digest of what decides how a channel is polled and measured.

    The label is left out (renaming a channel changes nothing the collector
    does); secrets enter only as their references, never their values.
    """
    data = {
        "id": channel.id,
        "adapter": channel.adapter,
        "expectation": _plain(channel.expectation),
        "hours": _plain(channel.hours),
        "poll_interval": _plain(channel.poll_interval),
        "timeout": _plain(channel.timeout),
        "options": _plain(channel.options),
    }
    encoded = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def channel_digests(config: Config) -> dict[str, str]:
    return {channel.id: channel_digest(channel) for channel in config.channels}


def _since(at: float, now: float, tz: ZoneInfo) -> str:
    when = datetime.fromtimestamp(at, tz)
    if when.date() == datetime.fromtimestamp(now, tz).date():
        return when.strftime("%H:%M")
    return when.strftime("%a %H:%M")


@dataclass(frozen=True, slots=True)
class ChannelPolls:
    """What :func:`polling_status` needs of one channel."""

    id: str
    interval_s: float
    timeout_s: float
    health: Health
    last_poll_at: float | None


def polling_status(
    *,
    collecting: bool | None,
    paused_here: bool,
    collector: CollectorInfo | None,
    own: Mapping[str, str],
    channels: list[ChannelPolls],
    now: float,
    tz: ZoneInfo,
    store_problem: str | None = None,
) -> PollingStatus:
    """The header's words for who polls and how fresh the data is.

    ``collecting``: True in the collector, False in a viewer, None while
    starting. ``own``: this process's channel digests. ``collector``: what the
    running collector recorded (None when it recorded nothing).
    """
    if store_problem is not None:
        return PollingStatus(f"✗ store: {inert(store_problem, 60)}", "error")
    if collecting is None:
        return PollingStatus("starting…", "muted")
    not_polled: dict[str, str] = {}
    differs = False
    if not collecting and collector is not None:
        for channel_id, digest in own.items():
            theirs = collector.channels.get(channel_id)
            if theirs is None:
                not_polled[channel_id] = NOT_POLLED
            elif theirs != digest:
                not_polled[channel_id] = OTHER_CONFIG
                differs = True
        differs = differs or set(collector.channels) != set(own)
    if paused_here:
        text = "❚❚ paused · nobody polls" if collecting else "❚❚ paused (this screen)"
        return PollingStatus(text, "warn", not_polled)
    if not collecting and collector is not None and collector.paused:
        return PollingStatus(f"❚❚ paused by {collector.who}", "warn", not_polled)
    overdue = _overdue(channels, now, not_polled)
    if overdue is not None:
        text = f"● stale · last poll {format_duration(overdue)} ago"
        return PollingStatus(text, "warn", not_polled, stale=True)
    if collecting:
        return PollingStatus("● live", "ok")
    if collector is None:
        return PollingStatus("● live (viewer)", "ok", not_polled)
    if differs:
        return PollingStatus(f"● live · {collector.who} · other config", "warn", not_polled)
    since = _since(collector.started_at, now, tz)
    return PollingStatus(f"● live · {collector.who} since {since}", "ok", not_polled)


def _overdue(
    channels: list[ChannelPolls], now: float, not_polled: Mapping[str, str]
) -> float | None:
    """The age of the most overdue healthy channel's last poll, or None when none is.

    A failing channel is retried with backoff (its state says so) and a channel
    the collector does not poll is named apart: neither makes the data stale.
    """
    worst: float | None = None
    for channel in channels:
        if channel.id in not_polled or channel.health is not Health.OK:
            continue
        if channel.last_poll_at is None:
            continue
        age = now - channel.last_poll_at
        if age > STALE_INTERVALS * channel.interval_s + channel.timeout_s:
            worst = age if worst is None else max(worst, age)
    return worst
