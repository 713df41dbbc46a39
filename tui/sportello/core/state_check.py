"""Checking what an adapter returned before it reaches the store.

An adapter is code we may not have written. Whatever ``fetch()`` returns is
checked here, in two parts:

- **the state as a whole**: not a :class:`ChannelState`, conversations that are
  not a list, more than :data:`MAX_CONVERSATIONS` of them, ``complete`` that is
  not true or false, channel figures (on hold, longest hold) or a memory that are
  malformed. These raise :class:`ProtocolError` and the poll fails: nothing of
  it can be trusted.
- **each conversation**, with the SDK's checks
  (:func:`sportello_sdk.checks.conversations.sense_check`, which an adapter's
  author can run too): a conversation that fails is dropped
  with its reason, the rest are stored; what can be repaired is (a missing
  subject, a customer field that is not text, a message sent in the future left
  out) and counted. That module's section "the collector's sense checks" has
  every rule, and which copy of a repeated id is kept (the waiting one, else the
  latest activity).

A dropped conversation has not left the queue. When the state is ``complete``, a
store takes a waiting conversation absent from it as gone: so the ids of the
dropped conversations are handed to the store with the state
(:attr:`Checked.keep`: their stored rows stay as they were), and when a dropped
conversation has no usable id (any stored one may be it) the state is made
incomplete for this poll, so that nothing leaves the queue on its account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sportello.core.ingest import memory_json
from sportello.core.records import DropReport
from sportello_sdk import ChannelState, ProtocolError
from sportello_sdk.checks.conversations import SKEW_S, Dropped, Fixed, sense_check

__all__ = ["MAX_CONVERSATIONS", "REASONS_KEPT", "Checked", "check_state"]

MAX_CONVERSATIONS = 200_000
REASONS_KEPT = 5  # reasons kept with the channel (drops first, then fixes)


@dataclass(frozen=True, slots=True)
class Checked:
    """A fetch after its checks.

    ``state``: what to store (the good conversations, repaired; the fetch's
    ``on_hold``, ``longest_hold`` and ``memory``; ``complete`` as fetched, unless
    a conversation without a usable id was dropped). ``dropped``: the
    conversations left out, with why. ``fixed``: what was repaired or left out of
    stored conversations, including the subjects that stood in for missing ones
    (``kind == "subject"``: normal, not counted as a warning). ``keep``: the exact
    ids of the dropped conversations, for
    :meth:`~sportello.core.store_contract.StoreBackend.apply_fetch`.
    """

    state: ChannelState
    dropped: tuple[Dropped, ...] = ()
    fixed: tuple[Fixed, ...] = ()
    keep: tuple[str, ...] = ()

    @property
    def warnings(self) -> tuple[Fixed, ...]:
        """The repairs that say something is wrong (a missing subject does not)."""
        return tuple(fix for fix in self.fixed if fix.kind != "subject")

    def report(self, clean: Callable[[str], str] | None = None) -> DropReport | None:
        """What to record with the poll (None when nothing was dropped or repaired).

        ``clean`` is applied to each reason kept (the collector's redaction).
        """
        warnings = self.warnings
        if not self.dropped and not warnings:
            return None
        lines = [str(item) for item in (*self.dropped, *warnings)[:REASONS_KEPT]]
        if clean is not None:
            lines = [clean(line) for line in lines]
        return DropReport(len(self.dropped), tuple(lines), len(warnings))


def check_state(state: object, now: float, skew_s: float = SKEW_S) -> Checked:
    """Check a fetch made at ``now`` (Unix seconds): what to store and what was dropped.

    Raises :class:`ProtocolError` when the state as a whole is malformed. Times
    more than ``skew_s`` seconds after ``now`` are in the future.
    """
    if not isinstance(state, ChannelState):
        raise ProtocolError(f"returned {type(state).__name__} instead of a channel state")
    if not isinstance(state.conversations, tuple | list):
        raise ProtocolError("returned conversations that are not a list")
    if len(state.conversations) > MAX_CONVERSATIONS:
        raise ProtocolError(
            f"returned {len(state.conversations)} conversations, more than {MAX_CONVERSATIONS}"
        )
    if not isinstance(state.complete, bool):
        raise ProtocolError("returned 'complete' that is not true or false")
    if state.on_hold is not None and (
        isinstance(state.on_hold, bool) or not isinstance(state.on_hold, int) or state.on_hold < 0
    ):
        raise ProtocolError("returned a number on hold that is not a count")
    if state.longest_hold is not None and (
        not isinstance(state.longest_hold, timedelta) or state.longest_hold < timedelta(0)
    ):
        raise ProtocolError("returned a longest hold that is not a duration")
    if state.memory is not None:
        try:
            memory_json(state.memory)
        except ValueError as exc:
            raise ProtocolError(f"returned a {exc}") from None
    checked = sense_check(state.conversations, now, skew_s)
    stored = ChannelState(
        conversations=checked.conversations,
        complete=state.complete and not checked.unidentified,
        on_hold=state.on_hold,
        longest_hold=state.longest_hold,
        memory=state.memory,
    )
    return Checked(stored, checked.dropped, checked.fixed, checked.dropped_ids)
