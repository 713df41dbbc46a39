"""The validated configuration, as frozen dataclasses.

``sportello.core.config`` reads config.yaml into these; everything else uses them.
Secret options stay as :class:`SecretRef` until an adapter is built, so a
resolved secret lives only in the adapter that needs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# Monday = 0 … Sunday = 6, as datetime.weekday().
WeeklyHours = tuple[tuple[tuple[time, time], ...], ...]  # 7 entries of (open, close) spans


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A reference to a secret: ``${env:NAME}``, ``${keyring:service/user}``, ``${file:path}``.

    ``str()`` gives the reference itself, never the secret.
    """

    scheme: str  # "env" | "keyring" | "file"
    target: str

    def __str__(self) -> str:
        return f"${{{self.scheme}:{self.target}}}"


@dataclass(frozen=True, slots=True)
class OpenHours:
    """When a channel counts waiting time. ``None`` in a channel means 24/7."""

    weekly: WeeklyHours
    timezone: ZoneInfo
    holidays: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class Business:
    name: str
    timezone: ZoneInfo
    hours: OpenHours
    holidays: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class GapThreshold:
    """A gap level: a fixed duration, or a fraction of the channel's expectation."""

    seconds: float | None = None
    fraction: float | None = None  # 1.0 = "100%" of the expectation

    def at(self, expectation_s: float) -> float:
        if self.fraction is not None:
            return self.fraction * expectation_s
        return self.seconds or 0.0


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    label: str
    adapter: str
    expectation: timedelta
    hours: OpenHours | None  # None: the channel counts every hour (24/7)
    poll_interval: timedelta
    timeout: timedelta
    options: dict[str, Any] = field(default_factory=dict)  # coerced; secrets as SecretRef
    line: int | None = None  # where the channel starts in config.yaml
    # How long an action waits before delivery, so that u can take it back;
    # None: the default for the channel's kind (sportello.core.outbox.UNDO_WINDOW_S).
    undo_window: timedelta | None = None


@dataclass(frozen=True, slots=True)
class Dashboard:
    gap_warn: GapThreshold = GapThreshold(seconds=0.0)
    gap_critical: GapThreshold = GapThreshold(fraction=1.0)
    mask_personal_data: bool = True


@dataclass(frozen=True, slots=True)
class Person:
    """Someone conversations can be assigned to (``team:`` in config.yaml)."""

    name: str  # as the channel knows them, and as the screen shows them
    user: str | None = None  # their login on this server, when they have one


def team_name(made_by: str, team: Sequence[Person]) -> str | None:
    """The team's name for whoever made an action (``anna@shop`` → ``Anna``), by login."""
    user = made_by.partition("@")[0]
    for person in team:
        if person.user is not None and person.user == user:
            return person.name
    return None


@dataclass(frozen=True, slots=True)
class Config:
    business: Business
    channels: tuple[Channel, ...]
    store_path: Path  # resolved: from config, else the user data dir
    retention_days: int = 365
    dashboard: Dashboard = Dashboard()
    keys: dict[str, str] = field(default_factory=dict)  # binding id -> key(s)
    source: Path | None = None
    team: tuple[Person, ...] = ()
    read_only: bool = False  # every action is shown disabled, with the reason

    def channel(self, channel_id: str) -> Channel:
        for channel in self.channels:
            if channel.id == channel_id:
                return channel
        raise KeyError(channel_id)
