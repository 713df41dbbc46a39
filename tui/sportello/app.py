"""The Textual application: one dashboard screen fed by the live worker."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from typing import Any, ClassVar

from textual import events
from textual.binding import BindingType
from textual.command import Provider
from textual.screen import Screen

from sportello.bindings import bindings
from sportello.commands import SportelloCommands
from sportello.core.board import Board
from sportello.core.desk import Desk
from sportello.core.gc_policy import FullCollections, defer_full_collections
from sportello.core.interpreter_turns import favour_the_screen
from sportello.core.keymap import BY_ID, check_keymap
from sportello.core.live import Live, opening_board
from sportello.core.live_update import LiveUpdate, Refresh
from sportello.core.queue_view import BoardRows, QueueRow, built_at
from sportello.core.settings import Config
from sportello.core.store_contract import StoreBackend, StoreError
from sportello.late_keys import LateKeys
from sportello.messages import BoardUpdated, LiveStopped, SearchWanted
from sportello.screens.dashboard import DashboardScreen
from sportello.terminal_watch import watch_terminal
from sportello.widgets.channel_table import ChannelTable
from sportello_sdk import utc_now
from sportello_sdk.base import Clock

log = logging.getLogger(__name__)
STOP_TIMEOUT_S = 5.0


class SportelloApp(LateKeys):
    """sportello's dashboard."""

    CSS_PATH = "sportello.tcss"
    TITLE = "sportello"
    BINDINGS: ClassVar[list[BindingType]] = [*bindings("app")]
    ENABLE_COMMAND_PALETTE = True
    COMMANDS: ClassVar[set[type[Provider] | Any]] = {SportelloCommands}

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock = utc_now,
        collect: bool = True,
        opening: Board | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.live: Live[list[QueueRow]] = Live(
            config, self._publish, BoardRows(), built_at=built_at, clock=clock, collect=collect
        )
        self.desk = Desk(config, self._store, clock=lambda: clock().timestamp())
        self.desk.on_enqueue = self.live.wake_delivery
        self.dashboard = DashboardScreen(config, self.desk, opening)
        self._live_task: asyncio.Task[None] | None = None
        self._collections = FullCollections()
        self._thresholds: tuple[int, int, int] | None = None
        self._switch_s: float | None = None

    def _store(self) -> StoreBackend | None:
        return self.live.store

    def _publish(self, update: LiveUpdate[list[QueueRow]]) -> None:
        self.dashboard.post_message(BoardUpdated(update))

    def on_channel_table_trends_shown(self, message: ChannelTable.TrendsShown) -> None:
        self.live.want_trends(message.shown)  # read only while drawn

    def on_search_wanted(self, message: SearchWanted) -> None:
        self.live.want_search()  # a big queue's search texts, on the first /

    def on_mount(self) -> None:
        problems = check_keymap(self.config.keys)
        for problem in problems:
            self.notify(problem, title="config.yaml", severity="warning", timeout=15)
        keymap = {k: v for k, v in self.config.keys.items() if k in BY_ID}
        if keymap:
            self.set_keymap(keymap)
        self._live_task = asyncio.create_task(self._run_live(), name="live")
        watch_terminal(self)
        # Full collections while nobody types (sportello.core.gc_policy), and the
        # interpreter back to the screen's thread soon (sportello.core.interpreter_turns).
        self._thresholds = defer_full_collections()
        self._switch_s = favour_the_screen()
        self.set_interval(5.0, self._collections.tick)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self._collections.input_seen()
        await super().on_event(event)

    def get_default_screen(self) -> Screen[Any]:
        return self.dashboard  # the base of the stack: no empty screen first

    async def _run_live(self) -> None:
        try:
            await self.live.run()
        except asyncio.CancelledError:
            raise
        except StoreError as exc:
            log.error("live updates stopped: %s", exc)
            self.dashboard.post_message(LiveStopped(str(exc)))
        except Exception as exc:
            log.exception("live updates stopped")
            self.dashboard.post_message(LiveStopped(f"{type(exc).__name__}: {exc}"))

    async def on_unmount(self) -> None:
        """Stop polling and close the store before the event loop ends.

        Closing is awaited (bounded): an unclosed store keeps its threads alive
        and the process would never exit.
        """
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
        if self._switch_s is not None:
            sys.setswitchinterval(self._switch_s)
        task = self._live_task
        if task is None or task.done():
            return
        task.cancel()
        await asyncio.wait({task}, timeout=STOP_TIMEOUT_S)

    # -- actions ------------------------------------------------------------

    def action_help(self) -> None:
        from sportello.screens.help import HelpScreen, rows_for  # not needed for the first frame

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        # Tab moves the focus only where there is more than one place for it.
        can_move = len(self.screen.focus_chain) > 1
        active = (
            (binding.key, binding.action, binding.id)
            for _, binding, enabled, _ in self.screen.active_bindings.values()
            if enabled and (can_move or binding.action not in _FOCUS_ACTIONS)
        )
        self.push_screen(HelpScreen(rows_for(active)))

    def action_refresh(self) -> None:
        said = {
            Refresh.POLLING: "Polling every channel now.",
            Refresh.PAUSED: "Polling is paused: nothing is polled. Press p to resume.",
            Refresh.ASKED: "Asked the collector to poll every channel now.",
            Refresh.NO_STORE: "The store is not open: nothing can be polled.",
        }
        result = self.live.refresh_now()
        if result in (Refresh.PAUSED, Refresh.NO_STORE):
            self.notify(said[result], timeout=4, severity="warning")
        else:
            self.notify(said[result], timeout=3)

    def action_toggle_pause(self) -> None:
        self.live.set_paused(not self.live.paused)
        self.refresh_bindings()  # the key bar says "p resume" while paused

    def describe_binding(self, action: str) -> str | None:
        """A key bar word that depends on the state (``p pause`` / ``p resume``)."""
        if action == "toggle_pause":  # in the bar only while paused
            return "resume" if self.live.paused else None
        return None


_FOCUS_ACTIONS = frozenset({"app.focus_next", "app.focus_previous", "focus_next", "focus_previous"})


def run_dashboard(config: Config) -> int:
    """Open the dashboard; returns the exit code."""
    app = SportelloApp(config, opening=asyncio.run(opening_board(config)))
    result = app.run()
    return result if isinstance(result, int) else 0
