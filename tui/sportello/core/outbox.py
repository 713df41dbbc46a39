"""The outbox's state machine: pure, no I/O.

Every reply and action the user makes is an :class:`Action`, committed to the
store before anything is sent. It moves through these states::

    pending ──claim──▶ sending ──delivered──▶ sent
       │  ▲               │ ├──failed──▶ failed ──(retryable: after a delay)──▶ sending
       │  │               │ ├──lost────▶ unknown      (the process died mid-send)
       │  └──not found────┘ └──elsewhere─▶ elsewhere  (someone answered from another tool)
       └──undo──▶ undone

    failed, unknown, elsewhere ──retry──▶ pending      (the user says: send it)
    pending, failed, unknown, elsewhere ──discard──▶ discarded

A pending action waits for its ``due_at`` (the undo window) before it may be
claimed; until it is claimed, ``undo`` takes it back. An action in ``unknown`` is
never resent on its own: only the user's ``retry`` does that.

Each transition returns a new :class:`Action` or raises :class:`Refused` with a
sentence fit for the screen. The store persists actions and applies a transition
only if the action is still in the state it was read in (compare and set), so two
processes can never both claim, or both undo, one action.
"""

from __future__ import annotations

import enum
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo

from sportello_sdk.models import ActionKind

__all__ = [
    "ACTIVE",
    "FINISHED",
    "Action",
    "Kind",
    "Refused",
    "State",
    "claim",
    "delivered",
    "describe",
    "discard",
    "elsewhere",
    "failed",
    "found",
    "lost",
    "make",
    "new_key",
    "not_found",
    "ready",
    "retry",
    "retry_delay",
    "undo",
]

# The undo window by channel kind, when the channel sets none: long enough to
# see a mistake in an e-mail, short for a chat where the customer is waiting.
UNDO_WINDOW_S: dict[str, float] = {"email": 10.0, "helpdesk": 10.0, "social": 6.0, "chat": 5.0}
UNDO_WINDOW_DEFAULT_S = 8.0
RETRY_FIRST_S = 5.0
RETRY_CAP_S = 15 * 60.0
ERROR_MAX = 300


Kind = ActionKind  # one enum for the outbox and the adapters


class State(enum.StrEnum):
    PENDING = "pending"  # committed; delivered once due (after the undo window)
    SENDING = "sending"  # claimed by the collector, handed to the adapter
    SENT = "sent"  # the channel accepted it
    FAILED = "failed"  # the channel refused it; retried later when retryable
    UNKNOWN = "unknown"  # a send was under way when its process died: check
    ELSEWHERE = "elsewhere"  # held: the customer was answered from another tool
    UNDONE = "undone"  # taken back inside its undo window
    DISCARDED = "discarded"  # the user gave it up


# Not finished: the queue shows them, and they hold the conversation's state.
ACTIVE = frozenset({State.PENDING, State.SENDING, State.FAILED, State.UNKNOWN, State.ELSEWHERE})
FINISHED = frozenset({State.SENT, State.UNDONE, State.DISCARDED})


class Refused(Exception):
    """A transition the action's state does not allow; the message says why."""


@dataclass(frozen=True, slots=True)
class Action:
    """One reply or action of the outbox.

    ``payload`` holds what the kind needs: ``text`` (reply), ``assignee``
    (assign), ``until`` (snooze: Unix seconds as text, or ``"reply"`` for "until
    the customer writes again"). ``due_at`` ends the undo window.
    """

    key: str
    kind: Kind
    channel_id: str
    conversation_id: int
    external_id: str
    payload: Mapping[str, str]
    made_by: str
    made_at: float
    due_at: float
    state: State = State.PENDING
    attempts: int = 0
    next_try_at: float | None = None  # failed and retryable: not before then
    lease_owner: str | None = None  # the collector delivering it
    error: str | None = None
    retryable: bool = False
    done_at: float | None = None  # sent (or given up) at
    result: str | None = None  # the channel's id for what it made (a message id)
    updated_at: float = 0.0
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.payload.get("text", "")

    def snooze_until(self) -> float | None:
        """A snooze's end; ``inf`` for "until the customer writes again"."""
        raw = self.payload.get("until")
        if raw is None:
            return None
        if raw == "reply":
            return math.inf
        try:
            return float(raw)
        except ValueError:
            return None


def new_key() -> str:
    """An idempotency key: random, made once at enqueue, the same on every retry."""
    return "sp-" + uuid.uuid4().hex


def make(
    kind: Kind,
    *,
    channel_id: str,
    conversation_id: int,
    external_id: str,
    payload: Mapping[str, str],
    made_by: str,
    now: float,
    undo_window_s: float,
    key: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> Action:
    """A new pending action, due once its undo window has passed."""
    if kind is Kind.REPLY and not payload.get("text", "").strip():
        raise Refused("an empty reply is not sent")
    if kind is Kind.ASSIGN and not payload.get("assignee", "").strip():
        raise Refused("assign to whom? no person given")
    if kind is Kind.SNOOZE and "until" not in payload:
        raise Refused("snooze until when? no time given")
    return Action(
        key=key or new_key(),
        kind=kind,
        channel_id=channel_id,
        conversation_id=int(conversation_id),
        external_id=external_id,
        payload=dict(payload),
        made_by=made_by,
        made_at=now,
        due_at=now + max(0.0, undo_window_s),
        updated_at=now,
        extra=dict(extra or {}),
    )


def ready(action: Action, now: float) -> bool:
    """Whether the collector may claim the action now."""
    if action.state is State.PENDING:
        return action.due_at <= now
    if action.state is State.FAILED and action.retryable:
        return action.next_try_at is not None and action.next_try_at <= now
    return False


def claim(action: Action, now: float, owner: str) -> Action:
    if not ready(action, now):
        raise Refused(f"not ready to send ({action.state})")
    return replace(
        action, state=State.SENDING, attempts=action.attempts + 1, lease_owner=owner, updated_at=now
    )


def delivered(action: Action, now: float, result: str | None = None) -> Action:
    _require(action, State.SENDING, "mark as sent")
    return replace(action, state=State.SENT, done_at=now, result=result, error=None, updated_at=now)


def failed(action: Action, now: float, error: str, *, retryable: bool) -> Action:
    _require(action, State.SENDING, "mark as failed")
    next_try = now + retry_delay(action.attempts) if retryable else None
    return replace(
        action,
        state=State.FAILED,
        error=error[:ERROR_MAX],
        retryable=retryable,
        next_try_at=next_try,
        lease_owner=None,
        updated_at=now,
    )


def lost(action: Action, now: float) -> Action:
    """Its delivering process died mid-send and the channel cannot be asked."""
    _require(action, State.SENDING, "mark as unknown")
    return replace(action, state=State.UNKNOWN, lease_owner=None, updated_at=now)


def found(action: Action, now: float, result: str | None = None) -> Action:
    """The channel, asked by key, says it has the action."""
    if action.state not in (State.SENDING, State.UNKNOWN):
        raise Refused(f"cannot mark a {action.state} action as found")
    return replace(action, state=State.SENT, done_at=now, result=result, updated_at=now)


def not_found(action: Action, now: float) -> Action:
    """The channel, asked by key, says it never got the action: send it again."""
    if action.state not in (State.SENDING, State.UNKNOWN):
        raise Refused(f"cannot mark a {action.state} action as not found")
    return replace(action, state=State.PENDING, due_at=now, lease_owner=None, updated_at=now)


def elsewhere(action: Action, now: float, detail: str) -> Action:
    """Held: the conversation was answered from another tool meanwhile."""
    _require(action, State.SENDING, "hold")
    return replace(
        action, state=State.ELSEWHERE, error=detail[:ERROR_MAX], lease_owner=None, updated_at=now
    )


def undo(action: Action, now: float) -> Action:
    if action.state not in (State.PENDING, State.FAILED):
        raise Refused(_too_late(action))
    return replace(action, state=State.UNDONE, done_at=now, updated_at=now)


def retry(action: Action, now: float) -> Action:
    """The user asks to send it again now (a failed, unknown or held action)."""
    if action.state not in (State.FAILED, State.UNKNOWN, State.ELSEWHERE):
        raise Refused(f"only a failed, unknown or held action can be retried ({action.state})")
    return replace(
        action,
        state=State.PENDING,
        due_at=now,
        next_try_at=None,
        error=None,
        retryable=False,
        updated_at=now,
    )


def discard(action: Action, now: float) -> Action:
    if action.state not in ACTIVE or action.state is State.SENDING:
        raise Refused(f"a {action.state} action cannot be discarded")
    return replace(action, state=State.DISCARDED, done_at=now, updated_at=now)


def retry_delay(attempts: int) -> float:
    """Seconds before a retryable failure is tried again: 5 s, 10 s, 20 s… 15 min."""
    # The exponent is bounded: after a thousand attempts (days of a dead channel at
    # the cap) 2 ** attempts no longer fits a float.
    doublings = min(max(0, attempts - 1), 32)
    return float(min(RETRY_CAP_S, RETRY_FIRST_S * 2**doublings))


def _require(action: Action, state: State, what: str) -> None:
    if action.state is not state:
        raise Refused(f"cannot {what} a {action.state} action")


def _too_late(action: Action) -> str:
    return {
        State.SENDING: "too late to undo: it is being sent",
        State.SENT: "too late to undo: it was sent",
        State.UNDONE: "already undone",
    }.get(action.state, f"a {action.state} action cannot be undone")


# ---------------------------------------------------------------------- words


def describe(action: Action, now: float, tz: tzinfo) -> str:
    """The action's state in the queue's words: ``sending in 8s (u to undo)``."""
    what = _what(action, tz)
    state = action.state
    if state is State.PENDING:
        left = action.due_at - now
        if left > 0:
            if action.kind is Kind.SNOOZE:  # "snoozing in 8s, until 09:00 (u to undo)"
                return f"snoozing in {math.ceil(left):d}s, {_until(action, tz)} (u to undo)"
            return f"{what} in {math.ceil(left):d}s (u to undo)"
        return f"{what}…"
    if state is State.SENDING:
        return f"{what}…"
    if state is State.SENT:
        return _done(action, now, tz)
    if state is State.FAILED:
        reason = action.error or "the channel refused it"
        if action.retryable and action.next_try_at is not None:
            wait = max(0, math.ceil(action.next_try_at - now))
            return f"failed: {reason} — retrying in {_short(wait)}"
        return f"failed: {reason} — r to retry"
    if state is State.UNKNOWN:  # it may or may not have reached the customer
        return "unknown — check: R resend, D discard"
    if state is State.ELSEWHERE:
        return "answered elsewhere — check: R send anyway, D discard"
    if state is State.UNDONE:
        return "undone"
    return "discarded"


def _what(action: Action, tz: tzinfo) -> str:
    return {
        Kind.REPLY: "sending",
        Kind.CLOSE: "closing",
        Kind.ASSIGN: f"assigning to {action.payload.get('assignee', '?')}",
        Kind.SNOOZE: f"snoozing {_until(action, tz)}",
        Kind.REOPEN: "reopening",
    }[action.kind]


def _done(action: Action, now: float, tz: tzinfo) -> str:
    ago = _ago(now - (action.done_at or action.updated_at))
    return {
        Kind.REPLY: f"sent {ago}",
        Kind.CLOSE: f"closed {ago}",
        Kind.ASSIGN: f"assigned to {action.payload.get('assignee', '?')}",
        Kind.SNOOZE: f"snoozed {_until(action, tz)}",
        Kind.REOPEN: f"reopened {ago}",
    }[action.kind]


def _until(action: Action, tz: tzinfo) -> str:
    until = action.snooze_until()
    if until is None:
        return "until ?"
    if math.isinf(until):
        return "until the customer writes"
    moment = datetime.fromtimestamp(until, tz)
    made = datetime.fromtimestamp(action.made_at, tz)
    if moment.date() == made.date():
        return moment.strftime("until %H:%M")
    return moment.strftime("until %a %H:%M")


def _ago(seconds: float) -> str:
    if seconds < 60:
        return "just now"
    return _short(int(seconds)) + " ago"


def _short(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86_400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86_400}d"
