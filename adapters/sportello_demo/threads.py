"""Simulated threads, and what one of them shows at a given instant.

A :class:`Thread` is one conversation's whole story, written in advance and
independent of now (:mod:`sportello_demo.stories` writes them);
:func:`materialise` cuts it at the clock's now, adds what the channel accepted
(:class:`~sportello_demo.actions.Actions`) and makes the SDK's
:class:`~sportello_sdk.Conversation` of it: waiting or not, its first response,
its last messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sportello_demo import data
from sportello_demo.actions import Actions
from sportello_demo.hours import utc
from sportello_sdk import Author, Conversation, Customer, Message

__all__ = [
    "MAX_MESSAGES",
    "MAX_THREAD_S",
    "RECENT_S",
    "Event",
    "Thread",
    "fill",
    "materialise",
]

MAX_THREAD_S = 96 * 3600  # every simulated thread ends within four days of its start
RECENT_S = 24 * 3600  # answered conversations are reported for a day
MAX_MESSAGES = 6  # the last messages of a thread reported by fetch()


@dataclass(frozen=True, slots=True)
class Event:
    at: float
    author: Author
    text: str
    author_name: str | None = None


@dataclass(frozen=True, slots=True)
class Thread:
    """One simulated conversation, from its first message to its end, independent of now."""

    external_id: str
    start: float
    customer: Customer
    subject: str
    events: tuple[Event, ...]  # oldest first; the first is the customer's
    assignee: str | None = None
    ends_at: float | None = None  # a phone caller hung up: no longer waiting
    phone: bool = False
    lang: str = "it"
    # What the customer may write after the user's answer, and its placeholders'
    # values (filled only when a customer does write again).
    followups: tuple[str, ...] = ()
    values: tuple[tuple[str, str], ...] = ()

    def again_text(self, draw: int) -> str:
        """The customer's message after the user answered or closed."""
        if not self.followups:
            texts = data.FOLLOW_UPS[self.lang]
            return texts[draw % len(texts)]
        return fill(self.followups[draw % len(self.followups)], dict(self.values))


def fill(text: str, values: Mapping[str, str]) -> str:
    """A text of :mod:`sportello_demo.data` with its placeholders filled, capitalised."""
    filled = text.format_map(values)
    return filled[:1].upper() + filled[1:]


def materialise(thread: Thread, now: float, acts: Actions) -> Conversation | None:
    """The thread as it stands at ``now``; ``None`` when it is not worth reporting."""
    key = thread.external_id
    user_replies = acts.replies.get(key)
    again = acts.again.get(key)
    cut = now
    if user_replies:  # the simulated shop does not answer after the user did
        cut = min(now, min(reply[0] for reply in user_replies))
    events: list[Event] = [e for e in thread.events if e.at <= cut]
    ids = [f"{key}/m{i}" for i in range(len(events))]
    if user_replies or again:
        added: list[tuple[Event, str]] = [
            (Event(at, Author.BUSINESS, text, author_name), message_id)
            for at, text, message_id, author_name in user_replies or ()
            if at <= now
        ]
        added.extend(
            (Event(at, Author.CUSTOMER, thread.again_text(draw)), f"{key}/a{n}")
            for n, (at, draw) in enumerate(again or ())
            if at <= now
        )
        if added:
            merged = sorted([*zip(events, ids, strict=True), *added], key=lambda pair: pair[0].at)
            events = [event for event, _ in merged]
            ids = [message_id for _, message_id in merged]
    if not events or events[0].author is not Author.CUSTOMER:
        return None

    waiting_since: float | None = None
    first_response: float | None = None
    for event in events:
        if event.author is Author.BUSINESS:
            waiting_since = None
            if first_response is None:
                first_response = event.at
        elif waiting_since is None:
            waiting_since = event.at
    last_activity = events[-1].at
    ended = thread.ends_at is not None and thread.ends_at <= now
    if ended:
        last_activity = max(last_activity, thread.ends_at or 0.0)
    if ended:
        waiting_since = None
    # Closing or snoozing hides what is waiting until the customer writes again.
    closed_at = acts.closed.get(key)
    if closed_at is not None:
        waiting_since = _written_after(events, waiting_since, closed_at)
    snoozed = acts.snoozed.get(key)
    if snoozed is not None and snoozed[1] > now:
        waiting_since = _written_after(events, waiting_since, snoozed[0])
    if waiting_since is None and last_activity < now - RECENT_S:
        return None

    subject = thread.subject
    if thread.phone:
        if waiting_since is not None:
            subject = data.PHONE_SUBJECT_WAITING
        elif first_response is not None:
            subject = data.PHONE_SUBJECT_ANSWERED
        else:
            subject = data.PHONE_SUBJECT_MISSED
    shown = range(max(0, len(events) - MAX_MESSAGES), len(events))
    return Conversation(
        external_id=key,
        customer=thread.customer,
        subject=subject,
        first_customer_message_at=utc(events[0].at),
        waiting_since=None if waiting_since is None else utc(waiting_since),
        first_response_at=None if first_response is None else utc(first_response),
        messages=tuple(
            Message(
                author=events[i].author,
                sent_at=utc(events[i].at),
                text=events[i].text,
                external_id=ids[i],
                author_name=events[i].author_name,
            )
            for i in shown
        ),
        assignee=acts.assigned.get(key, thread.assignee),
    )


def _written_after(events: Sequence[Event], waiting_since: float | None, t: float) -> float | None:
    """When the customer started waiting again after ``t``, if they did."""
    if waiting_since is None or waiting_since > t:
        return waiting_since
    later = [e.at for e in events if e.author is Author.CUSTOMER and e.at > t]
    return later[0] if later else None
