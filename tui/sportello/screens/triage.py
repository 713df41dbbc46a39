"""The triage keys, shared by the dashboard (the selected conversation) and the
conversation screen: assign, snooze, close, undo, retry, discard.

Every action goes through the :class:`~sportello.core.desk.Desk` in a worker: it is
committed to the outbox and delivered by the collector once its undo window has
passed; the screen says what will happen ("Closing Maria R. in 10s · u to undo")
and moves on to the next waiting conversation. An action the channel cannot do,
or any action in read-only mode, is refused with the reason (the key bar shows
it dimmed).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from sportello.core.desk import Desk, DeskError
from sportello.core.inert import inert
from sportello.core.outbox import Action, Kind, State, describe
from sportello.core.records import QueueItem
from sportello.core.settings import Config

if TYPE_CHECKING:
    from textual.screen import Screen

__all__ = ["KIND_OF_ACTION", "TriageActions", "customer_words"]

# The key bar's actions and the outbox kind each needs.
KIND_OF_ACTION = {
    "reply": Kind.REPLY,
    "assign": Kind.ASSIGN,
    "snooze": Kind.SNOOZE,
    "close": Kind.CLOSE,
}
_RETRYABLE = (State.FAILED, State.UNKNOWN, State.ELSEWHERE)


def customer_words(item: QueueItem) -> str:
    """Who the conversation is with, in a notification: a name, never an address."""
    name = inert(item.customer_name or "", 40)
    return name or "the customer"


class TriageActions:
    """A mixin for a :class:`Screen` that acts on one conversation at a time."""

    desk: Desk
    config: Config

    # -- provided by the screen ----------------------------------------------------

    def triage_item(self) -> QueueItem | None:
        raise NotImplementedError

    def triage_done(self, action: Action) -> None:
        """An action was committed on the current conversation: move on."""

    def triage_changed(self, action: Action) -> None:
        """An action was undone, retried or discarded: show it at once."""

    def customer_of(self, conversation_id: int) -> str:
        """Who a conversation is with, for a notification."""
        item = self.triage_item()
        if item is not None and item.conversation_id == conversation_id:
            return customer_words(item)
        return "the customer"

    def triage_action_of(self, conversation_id: int) -> Action | None:
        """The conversation's latest action, as the last board had it."""
        return None

    @property
    def _in_turn(self) -> asyncio.Lock:
        """Taken by each write of this screen's actions, so that they are made in the
        order of their keys: a "c" then "u" typed in one go undid nothing and closed
        the conversation, the undo's write having run before the close's."""
        lock: asyncio.Lock | None = getattr(self, "_triage_turns", None)
        if lock is None:
            lock = asyncio.Lock()
            self._triage_turns = lock
        return lock

    # -- what may be done ---------------------------------------------------------------

    def refusal(self, action: str, *, load: bool = False) -> str | None:
        """Why the key bar's ``action`` cannot be done now (None: it can). The key
        bar asks without loading adapters; a key pressed asks with (``load``)."""
        if action == "undo":
            return "read-only: nothing to undo" if self.desk.read_only else None
        kind = KIND_OF_ACTION.get(action)
        if kind is None:
            return None
        item = self.triage_item()
        channel_id = item.channel_id if item is not None else None
        return self.desk.refusal(kind, channel_id, load=load)

    def _refused(self, action: str) -> QueueItem | None:
        """The item to act on, or None after saying why not."""
        reason = self.refusal(action, load=True)
        item = self.triage_item()
        if reason is None and item is None:
            reason = "no conversation selected"
        if reason is not None:
            self._screen.notify(reason, severity="warning", timeout=5)
            return None
        return item

    @property
    def _screen(self) -> Screen[Any]:
        return self  # type: ignore[return-value]

    # -- actions --------------------------------------------------------------------

    def action_close(self) -> None:
        item = self._refused("close")
        if item is not None:
            self._run(self.desk.close(item), item)

    def action_assign(self) -> None:
        from sportello.screens.pick import PickScreen

        item = self._refused("assign")
        if item is None:
            return
        choices = [(person.name, person.name) for person in self.config.team]

        def chosen(name: str | None) -> None:
            if name is not None:
                self._run(self.desk.assign(item, name), item)

        self._screen.app.push_screen(
            PickScreen(f"Assign {customer_words(item)} to", choices), chosen
        )

    def action_snooze(self) -> None:
        from sportello.screens.pick import PickScreen

        item = self._refused("snooze")
        if item is None:
            return
        choices = [(c.label, c.until) for c in self.desk.snooze_choices(item.channel_id)]

        def chosen(until: float | None) -> None:
            if until is not None:
                self._run(self.desk.snooze(item, until), item)

        self._screen.app.push_screen(PickScreen(f"Snooze {customer_words(item)}", choices), chosen)

    def action_undo(self) -> None:
        if self.desk.read_only:
            self._screen.notify("read-only: nothing to undo", severity="warning", timeout=5)
            return
        item = self.triage_item()
        self._screen.run_worker(
            self._undo(item.conversation_id if item is not None else None),
            group="triage",
            exit_on_error=False,
        )

    async def _undo(self, conversation_id: int | None) -> None:
        try:
            async with self._in_turn:
                undone = await self.desk.undo(conversation_id)
        except DeskError as exc:
            self._screen.notify(str(exc), severity="warning", timeout=5)
            return
        self.triage_changed(undone)
        who = self.customer_of(undone.conversation_id)
        said = {
            Kind.REPLY: f"Undone: the reply to {who} was not sent; it is the draft again (r).",
            Kind.CLOSE: f"Undone: {who} stays open.",
            Kind.ASSIGN: f"Undone: {who} is not assigned.",
            Kind.SNOOZE: f"Undone: {who} is not snoozed.",
            Kind.REOPEN: f"Undone: {who} is not reopened.",
        }[undone.kind]
        self._screen.notify(said, timeout=5)

    def _retry_failed(self, item: QueueItem) -> bool:
        """r on a conversation whose action failed (and waits for the user) sends it
        again, as its state line says; True if it did."""
        action = self.triage_action_of(item.conversation_id)
        if action is None or action.state is not State.FAILED or action.retryable:
            return False
        self._on_stuck("retry")
        return True

    def action_retry(self) -> None:
        self._on_stuck("retry")

    def action_discard(self) -> None:
        self._on_stuck("discard")

    def _on_stuck(self, what: str) -> None:
        item = self.triage_item()
        action = self.triage_action_of(item.conversation_id) if item is not None else None
        if action is None or action.state not in _RETRYABLE:
            self._screen.notify(
                f"Nothing to {what}: only a failed, unknown or held action can be.",
                severity="warning",
                timeout=5,
            )
            return
        step = self.desk.retry if what == "retry" else self.desk.discard
        self._screen.run_worker(
            self._stuck(step, action, what), group="triage", exit_on_error=False
        )

    async def _stuck(self, step: Any, action: Action, what: str) -> None:
        try:
            async with self._in_turn:
                self.triage_changed(await step(action.key))
        except DeskError as exc:
            self._screen.notify(str(exc), severity="warning", timeout=5)
            return
        said = "Sending it again now." if what == "retry" else "Given up: it will not be sent."
        self._screen.notify(said, timeout=4)

    # -- running ----------------------------------------------------------------------

    def _run(self, pending: Any, item: QueueItem) -> None:
        self._screen.run_worker(self._commit(pending, item), group="triage", exit_on_error=False)

    async def _commit(self, pending: Any, item: QueueItem) -> Action | None:
        try:
            async with self._in_turn:
                action: Action = await pending
        except DeskError as exc:
            self._screen.notify(str(exc), severity="error", timeout=8)
            return None
        self._screen.notify(self.said(action, item), timeout=4)
        self.triage_done(action)
        return action

    def said(self, action: Action, item: QueueItem) -> str:
        """What the notification says once an action is committed."""
        words = describe(action, self.desk.clock(), self.config.business.timezone)
        who = customer_words(item)
        return f"{who}: {words}"
