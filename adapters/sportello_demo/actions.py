"""What the channel accepted: the durable record (:mod:`sportello_demo.record`), applied.

Every line of the record is one accepted action (or an answer given from another
tool); :func:`apply_entry` folds it into :class:`Actions`, by conversation, which
is what the simulation then shows: a reply as a business message, a close or a
snooze hiding what is waiting, an assignee, and the customer who writes again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from sportello_demo.hours import utc
from sportello_demo.record import ELSEWHERE
from sportello_sdk import ActionResult

__all__ = ["Actions", "Again", "Reply", "apply_entry"]

# A business message the simulation did not write: (at, text, message id, author name).
Reply = tuple[float, str, str, str | None]

# Whether, and when, the customer writes again after the user's ``turn``-th reply or
# close of a conversation at ``at``: (external id, at, turn) -> (when, a draw).
Again = Callable[[str, float, int], tuple[float, int] | None]


@dataclass(slots=True)
class Actions:
    """What the channel accepted (the record, applied), by conversation external id.

    ``replies`` holds the user's replies and the answers given elsewhere;
    ``again`` the customer's messages after the user answered or closed, as
    (when, a draw that picks the text).
    """

    replies: dict[str, list[Reply]] = field(default_factory=dict)
    closed: dict[str, float] = field(default_factory=dict)
    snoozed: dict[str, tuple[float, float]] = field(default_factory=dict)  # (when, until)
    assigned: dict[str, str] = field(default_factory=dict)
    again: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    answered: dict[str, int] = field(default_factory=dict)  # the user's replies and closes

    def copy(self) -> Actions:
        return Actions(
            {key: list(value) for key, value in self.replies.items()},
            dict(self.closed),
            dict(self.snoozed),
            dict(self.assigned),
            {key: list(value) for key, value in self.again.items()},
            dict(self.answered),
        )

    def touched(self, external_id: str) -> bool:
        return (
            external_id in self.replies
            or external_id in self.closed
            or external_id in self.snoozed
            or external_id in self.assigned
        )


def apply_entry(
    entry: Mapping[str, Any], acts: Actions, done: dict[str, ActionResult], again: Again
) -> None:
    """Apply one line of the record (:mod:`sportello_demo.record`) to ``acts``; the
    first result of each key goes to ``done``. A malformed line is skipped.

    Only this conversation's entries are touched, so a large queue (scale mode)
    costs nothing per action. After a reply or a close, ``again`` may add the
    customer's next message.
    """
    kind = entry.get("kind")
    external_id = entry.get("conversation")
    at = entry.get("at")
    if not isinstance(external_id, str) or not _is_number(at):
        return
    at = float(at)
    message_id: str | None = None
    if kind in ("reply", ELSEWHERE):
        text = entry.get("text")
        replies = acts.replies.setdefault(external_id, [])
        given = entry.get("message_id")
        message_id = given if isinstance(given, str) else f"{external_id}/r{len(replies) + 1}"
        author = entry.get("author_name") if kind == ELSEWHERE else None
        replies.append(
            (at, text if isinstance(text, str) else "", message_id, _str_or_none(author))
        )
    elif kind == "close":
        acts.closed.setdefault(external_id, at)
    elif kind == "assign":
        assignee = entry.get("assignee")
        acts.assigned[external_id] = assignee if isinstance(assignee, str) else ""
    elif kind == "snooze":
        until = entry.get("until")
        acts.snoozed[external_id] = (at, float(until) if _is_number(until) else math.inf)
    elif kind == "reopen":
        acts.closed.pop(external_id, None)
        acts.snoozed.pop(external_id, None)
    else:
        return
    if kind in ("reply", "close"):
        turn = acts.answered.get(external_id, 0)
        acts.answered[external_id] = turn + 1
        later = again(external_id, at, turn)
        if later is not None:
            acts.again.setdefault(external_id, []).append(later)
    key = entry.get("key")
    if kind != ELSEWHERE and isinstance(key, str) and key not in done:
        done[key] = ActionResult(done_at=utc(at), external_id=message_id)


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
