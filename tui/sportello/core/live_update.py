"""What the live worker hands the screens: plain data, no I/O (the screens import
this, never :mod:`sportello.core.live`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sportello.core.board import Board
from sportello.core.polling_status import PollingStatus

__all__ = ["STARTING", "LiveUpdate", "Refresh", "Role"]

T = TypeVar("T")

STARTING = PollingStatus("starting…", "muted")


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
    # Per channel: open-hours seconds elapsed since ``prepared`` was made. The
    # queue's waits and gaps are those of ``prepared`` plus this (every waiting
    # conversation of a channel waits that much longer); zero after a rebuild.
    advance: dict[str, float] = field(default_factory=dict)
    # Who polls and how fresh the board is, in the header's words.
    status: PollingStatus = field(default_factory=lambda: STARTING)


class Refresh(enum.StrEnum):
    """What asking for a poll now did."""

    POLLING = "polling"  # this process polls every channel now
    PAUSED = "paused"  # polling is paused here: nothing is polled
    ASKED = "asked"  # the collector (another process) was asked to poll
    NO_STORE = "no store"  # the store is not open: nothing could be asked
