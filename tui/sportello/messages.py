"""App-wide messages: what crosses from the live worker to the screens."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from sportello.core.live_update import LiveUpdate
from sportello.core.queue_view import QueueRow


@dataclass
class BoardUpdated(Message):
    """A new board from the store, with the queue rows already built."""

    update: LiveUpdate[list[QueueRow]]


@dataclass
class LiveStopped(Message):
    """The live worker failed: the screen keeps what it shows and says so."""

    reason: str


@dataclass
class SearchWanted(Message):
    """The filter was opened: the queue must be searchable (a big one is read
    without its search texts until then)."""
