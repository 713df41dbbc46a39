"""Checking what an adapter returned before it reaches the store.

An adapter is code we may not have written. Whatever ``fetch()`` returns is
checked here; anything that is not a well-formed :class:`ChannelState` becomes a
:class:`ProtocolError` naming the first problem, and the poll fails as a whole
(storing part of a queue would mark the rest as answered).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sportello_sdk import Author, ChannelState, Conversation, Customer, Message, ProtocolError

MAX_CONVERSATIONS = 200_000


def _aware(value: object, where: str) -> datetime:
    if not isinstance(value, datetime):
        raise ProtocolError(f"returned {where} that is not a time ({type(value).__name__})")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ProtocolError(f"returned {where} without a time zone")
    return value


def _conversation(conv: object, index: int) -> None:
    where = f"conversation #{index}"
    if not isinstance(conv, Conversation):
        raise ProtocolError(f"returned {where} of type {type(conv).__name__}")
    if not isinstance(conv.external_id, str) or not conv.external_id:
        raise ProtocolError(f"returned {where} without an id")
    where = f"conversation {conv.external_id[:40]!r}"
    if not isinstance(conv.customer, Customer):
        raise ProtocolError(f"returned {where} without a customer")
    if not isinstance(conv.subject, str):
        raise ProtocolError(f"returned {where} with a subject that is not text")
    _aware(conv.first_customer_message_at, f"{where} first message time")
    if conv.waiting_since is not None:
        _aware(conv.waiting_since, f"{where} waiting-since time")
    if conv.first_response_at is not None:
        _aware(conv.first_response_at, f"{where} first response time")
    if not isinstance(conv.messages, tuple | list):
        raise ProtocolError(f"returned {where} with messages that are not a list")
    for message in conv.messages:
        if not isinstance(message, Message) or not isinstance(message.text, str):
            raise ProtocolError(f"returned {where} with a malformed message")
        if not isinstance(message.author, Author):
            raise ProtocolError(f"returned {where} with a message of unknown author")
        _aware(message.sent_at, f"{where} message time")


def check_state(state: object) -> ChannelState:
    """Return ``state`` if it is a well-formed ChannelState, else raise ProtocolError."""
    if not isinstance(state, ChannelState):
        raise ProtocolError(f"returned {type(state).__name__} instead of a channel state")
    if not isinstance(state.conversations, tuple | list):
        raise ProtocolError("returned conversations that are not a list")
    if len(state.conversations) > MAX_CONVERSATIONS:
        raise ProtocolError(
            f"returned {len(state.conversations)} conversations, more than {MAX_CONVERSATIONS}"
        )
    for index, conv in enumerate(state.conversations):
        _conversation(conv, index)
    if state.on_hold is not None and (
        isinstance(state.on_hold, bool) or not isinstance(state.on_hold, int) or state.on_hold < 0
    ):
        raise ProtocolError("returned a number on hold that is not a count")
    if state.longest_hold is not None and (
        not isinstance(state.longest_hold, timedelta) or state.longest_hold < timedelta(0)
    ):
        raise ProtocolError("returned a longest hold that is not a duration")
    return state
