"""A whole fetch as the collector takes it: a state that is not one (a bad
memory, a negative hold…) is unusable as a whole; otherwise its conversations are
kept, repaired or dropped one by one (:func:`~sportello_sdk.checks.conversations.sense_check`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sportello_sdk.checks.conversations import CLOCK_SKEW, Dropped, Fixed, sense_check
from sportello_sdk.checks.words import kind_of, shown
from sportello_sdk.models import MEMORY_LIMIT, ChannelState, Conversation

__all__ = [
    "MAX_CONVERSATIONS",
    "StateReview",
    "memory_problem",
    "review_state",
    "state_problems",
]

MAX_CONVERSATIONS = 200_000


@dataclass(frozen=True, slots=True)
class StateReview:
    """What :func:`review_state` found.

    ``problems``: what makes the whole fetch unusable (then ``state`` is ``None``).
    Otherwise ``state`` is the fetch with only the kept conversations (repaired).
    ``kept``: those conversations (also when the state is unusable, when they could
    be checked), ``dropped`` the others with their reasons, ``fixed`` the repairs.
    """

    state: ChannelState | None
    dropped: tuple[Dropped, ...] = ()
    fixed: tuple[Fixed, ...] = ()
    problems: tuple[str, ...] = ()
    kept: tuple[Conversation, ...] = ()

    @property
    def usable(self) -> bool:
        return self.state is not None


def memory_problem(memory: object) -> str | None:
    """Why ``memory`` cannot be saved (not a mapping, not JSON data, over
    ``MEMORY_LIMIT`` bytes); ``None`` when it can (or is ``None``: kept as it was)."""
    if memory is None:
        return None
    if not isinstance(memory, Mapping):
        return f"memory is {kind_of(memory)}, not a mapping"
    try:
        text = json.dumps(dict(memory), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        return f"memory is not JSON data ({type(exc).__name__}: {str(exc)[:80]})"
    size = len(text.encode("utf-8"))
    if size > MEMORY_LIMIT:
        return f"memory takes {size} bytes as JSON, more than {MEMORY_LIMIT}"
    return None


def state_problems(state: object) -> list[str]:
    """What makes a fetch unusable as a whole; empty when its conversations can be
    checked one by one."""
    if not isinstance(state, ChannelState):
        return [f"fetch() returned {kind_of(state)}, not a ChannelState"]
    problems: list[str] = []
    conversations = state.conversations
    if not isinstance(conversations, tuple | list):
        problems.append(f"conversations is {kind_of(conversations)}, not a tuple")
    elif len(conversations) > MAX_CONVERSATIONS:
        problems.append(f"{len(conversations)} conversations, more than {MAX_CONVERSATIONS}")
    if not isinstance(state.complete, bool):
        problems.append(f"complete is {kind_of(state.complete)}, not True or False")
    on_hold = state.on_hold
    if on_hold is not None and (
        isinstance(on_hold, bool) or not isinstance(on_hold, int) or on_hold < 0
    ):
        problems.append(f"on_hold is {_count(on_hold)}, not a count")
    hold = state.longest_hold
    if hold is not None and (not isinstance(hold, timedelta) or hold < timedelta(0)):
        problems.append(f"longest_hold is {shown(hold)}, not a duration of zero or more")
    memory = memory_problem(state.memory)
    if memory:
        problems.append(memory)
    return problems


def _count(value: object) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else kind_of(value)


def review_state(state: object, now: datetime, *, skew: timedelta = CLOCK_SKEW) -> StateReview:
    """Check one fetch as the collector does: unusable as a whole (``problems``: then
    ``state`` is ``None``, though the conversations are still checked when they can
    be, to tell everything at once), or its conversations kept, repaired or dropped.
    Never raises."""
    problems = state_problems(state)
    if not isinstance(state, ChannelState):
        return StateReview(None, problems=tuple(problems))
    conversations = state.conversations
    if not isinstance(conversations, tuple | list) or len(conversations) > MAX_CONVERSATIONS:
        return StateReview(None, problems=tuple(problems))
    checked = sense_check(conversations, now, skew.total_seconds())
    kept = checked.conversations
    usable = None if problems else replace(state, conversations=kept)
    return StateReview(usable, checked.dropped, checked.fixed, tuple(problems), kept)
