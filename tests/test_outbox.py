"""The outbox's state machine (sportello.core.outbox): pure, so every rule is tested here.

Every transition the module allows is made once, every one it refuses is tried
from every other state and must raise :class:`Refused` with a sentence; then the
timing rules (``ready`` around ``due_at`` and ``next_try_at``, the retry delay)
and the words the queue shows (``describe``) in a fixed time zone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest

from sportello.core import outbox
from sportello.core.outbox import ACTIVE, FINISHED, Action, Kind, Refused, State

T = 1_794_982_000.0  # 2026-11-18 07:06:40 CET; the words below are relative to it
CET = timezone(timedelta(hours=1), "CET")  # a fixed time zone: no DST, no local time
OWNER = "collector@shop:1"


def pending(kind: Kind = Kind.REPLY, *, window: float = 8.0, **payload: str) -> Action:
    if not payload:
        payload = {
            Kind.REPLY: {"text": "Il pacco è partito ieri."},
            Kind.ASSIGN: {"assignee": "Anna"},
            Kind.SNOOZE: {"until": repr(T + 3600)},
        }.get(kind, {})
    return outbox.make(
        kind,
        channel_id="email",
        conversation_id=7,
        external_id="em-1",
        payload=payload,
        made_by="anna@shop",
        now=T,
        undo_window_s=window,
    )


def in_state(state: State, kind: Kind = Kind.REPLY) -> Action:
    """An action brought to ``state`` through the module's own transitions."""
    start = pending(kind)
    due = start.due_at
    if state is State.PENDING:
        return start
    if state is State.UNDONE:
        return outbox.undo(start, T + 1)
    if state is State.DISCARDED:
        return outbox.discard(start, T + 1)
    sending = outbox.claim(start, due, OWNER)
    if state is State.SENDING:
        return sending
    if state is State.SENT:
        return outbox.delivered(sending, due + 1, "em-1/r1")
    if state is State.FAILED:
        return outbox.failed(sending, due + 1, "550 mailbox full", retryable=False)
    if state is State.UNKNOWN:
        return outbox.lost(sending, due + 1)
    assert state is State.ELSEWHERE
    return outbox.elsewhere(sending, due + 1, "Luca answered at 10:02 UTC")


def retryable_failure(at: float = T + 20) -> Action:
    sending = outbox.claim(pending(), T + 8, OWNER)
    return outbox.failed(sending, at, "connection reset", retryable=True)


Step = Callable[[Action], Action]
NOW = T + 100.0  # after every due_at above

STEPS: dict[str, tuple[Step, frozenset[State]]] = {
    # name: (the transition, the states it is allowed from)
    "claim": (lambda a: outbox.claim(a, NOW, OWNER), frozenset({State.PENDING})),
    "delivered": (lambda a: outbox.delivered(a, NOW, "m1"), frozenset({State.SENDING})),
    "failed": (
        lambda a: outbox.failed(a, NOW, "boom", retryable=False),
        frozenset({State.SENDING}),
    ),
    "lost": (lambda a: outbox.lost(a, NOW), frozenset({State.SENDING})),
    "found": (lambda a: outbox.found(a, NOW, "m1"), frozenset({State.SENDING, State.UNKNOWN})),
    "not_found": (lambda a: outbox.not_found(a, NOW), frozenset({State.SENDING, State.UNKNOWN})),
    "elsewhere": (lambda a: outbox.elsewhere(a, NOW, "Luca answered"), frozenset({State.SENDING})),
    "undo": (lambda a: outbox.undo(a, NOW), frozenset({State.PENDING, State.FAILED})),
    "retry": (
        lambda a: outbox.retry(a, NOW),
        frozenset({State.FAILED, State.UNKNOWN, State.ELSEWHERE}),
    ),
    "discard": (
        lambda a: outbox.discard(a, NOW),
        frozenset({State.PENDING, State.FAILED, State.UNKNOWN, State.ELSEWHERE}),
    ),
}
RESULT: dict[str, State] = {
    "claim": State.SENDING,
    "delivered": State.SENT,
    "failed": State.FAILED,
    "lost": State.UNKNOWN,
    "found": State.SENT,
    "not_found": State.PENDING,
    "elsewhere": State.ELSEWHERE,
    "undo": State.UNDONE,
    "retry": State.PENDING,
    "discard": State.DISCARDED,
}
ALLOWED = [(name, state) for name, (_, froms) in STEPS.items() for state in sorted(froms)]
REFUSED = [
    (name, state) for name, (_, froms) in STEPS.items() for state in State if state not in froms
]


def test_states_are_either_active_or_finished() -> None:
    assert set(State) == ACTIVE | FINISHED
    assert not ACTIVE & FINISHED


@pytest.mark.parametrize(("name", "state"), ALLOWED)
def test_every_allowed_transition(name: str, state: State) -> None:
    before = in_state(state)
    step, _ = STEPS[name]
    after = step(before)
    assert after.state is RESULT[name]
    assert after.key == before.key  # the idempotency key never changes
    assert after.updated_at == NOW
    assert before.state is state  # actions are values: the old one is untouched


@pytest.mark.parametrize(("name", "state"), REFUSED)
def test_every_refused_transition_says_why(name: str, state: State) -> None:
    step, _ = STEPS[name]
    with pytest.raises(Refused) as refused:
        step(in_state(state))
    sentence = str(refused.value)
    assert len(sentence.split()) >= 2, sentence
    assert "\n" not in sentence
    # The sentence names what the action is, or why it is too late.
    assert str(state) in sentence or "too late" in sentence or "already" in sentence, sentence


def test_undo_refusals_are_the_screens_words() -> None:
    assert "being sent" in _refusal(outbox.undo, State.SENDING)
    assert _refusal(outbox.undo, State.SENT) == "too late to undo: it was sent"
    assert _refusal(outbox.undo, State.UNDONE) == "already undone"
    assert "unknown" in _refusal(outbox.undo, State.UNKNOWN)


def _refusal(step: Callable[[Action, float], Action], state: State) -> str:
    with pytest.raises(Refused) as refused:
        step(in_state(state), NOW)
    return str(refused.value)


def test_make_refuses_what_cannot_be_sent() -> None:
    with pytest.raises(Refused, match="empty reply"):
        pending(Kind.REPLY, text="  \n ")
    with pytest.raises(Refused, match="whom"):
        pending(Kind.ASSIGN, assignee=" ")
    with pytest.raises(Refused, match="until when"):
        pending(Kind.SNOOZE, note="x")
    assert pending(Kind.CLOSE).payload == {}


def test_make_keys_are_new_each_time_and_kept_when_given() -> None:
    assert pending().key != pending().key
    assert pending().key.startswith("sp-")
    given = outbox.make(
        Kind.CLOSE,
        channel_id="chat",
        conversation_id=1,
        external_id="ch-1",
        payload={},
        made_by="anna@shop",
        now=T,
        undo_window_s=-5,  # a negative window is no window
        key="sp-fixed",
    )
    assert given.key == "sp-fixed"
    assert given.due_at == T


def test_claim_counts_attempts_and_names_the_owner() -> None:
    sending = outbox.claim(pending(), T + 8, OWNER)
    assert (sending.attempts, sending.lease_owner) == (1, OWNER)
    again = outbox.claim(retryable_failure(), T + 1000, "other@shop:2")
    assert (again.state, again.attempts, again.lease_owner) == (State.SENDING, 2, "other@shop:2")


def test_failed_keeps_a_bounded_error_and_retry_time() -> None:
    sending = outbox.claim(pending(), T + 8, OWNER)
    refused = outbox.failed(sending, T + 9, "x" * 1000, retryable=False)
    assert len(refused.error or "") == outbox.ERROR_MAX
    assert refused.next_try_at is None
    assert refused.lease_owner is None
    later = outbox.failed(sending, T + 9, "reset", retryable=True)
    assert later.next_try_at == T + 9 + outbox.RETRY_FIRST_S


def test_not_found_is_due_at_once_and_retry_clears_the_failure() -> None:
    again = outbox.not_found(in_state(State.UNKNOWN), NOW)
    assert (again.state, again.due_at, again.lease_owner) == (State.PENDING, NOW, None)
    assert outbox.ready(again, NOW)
    retried = outbox.retry(retryable_failure(), NOW)
    assert (retried.error, retried.next_try_at, retried.retryable) == (None, None, False)
    assert outbox.ready(retried, NOW)


# ---------------------------------------------------------------------- ready()


def test_ready_around_due_at() -> None:
    action = pending(window=8.0)
    assert not outbox.ready(action, T)
    assert not outbox.ready(action, T + 7.999)
    assert outbox.ready(action, T + 8.0)
    assert outbox.ready(action, T + 3600)
    with pytest.raises(Refused, match="not ready"):
        outbox.claim(action, T + 7.999, OWNER)


def test_ready_around_next_try_at() -> None:
    failure = retryable_failure(at=T + 20)
    assert failure.next_try_at == T + 25
    assert not outbox.ready(failure, T + 24.999)
    assert outbox.ready(failure, T + 25)
    # A failure that waits for the user is never ready on its own…
    assert not outbox.ready(in_state(State.FAILED), T + 10**6)
    # …nor is a retryable one without a time, nor anything not pending or failed.
    assert not outbox.ready(replace(failure, next_try_at=None), T + 10**6)
    for state in (State.SENDING, State.SENT, State.UNKNOWN, State.ELSEWHERE, State.UNDONE):
        assert not outbox.ready(in_state(state), T + 10**6), state


# ---------------------------------------------------------------------- retry_delay()


def test_retry_delay_doubles_up_to_its_cap() -> None:
    delays = [outbox.retry_delay(n) for n in range(1, 12)]
    assert delays[:5] == [5.0, 10.0, 20.0, 40.0, 80.0]
    assert all(b >= a for a, b in pairwise(delays))
    assert max(delays) == outbox.RETRY_CAP_S == 900.0
    assert outbox.retry_delay(0) == outbox.retry_delay(-3) == 5.0


def test_retry_delay_stays_capped_after_days_of_failures() -> None:
    # A channel down for ~11 days at the 15-minute cap passes 1,024 attempts:
    # 2 ** 1024 is more than a float holds (it raised OverflowError).
    assert outbox.retry_delay(1025) == outbox.RETRY_CAP_S
    assert outbox.retry_delay(10**6) == outbox.RETRY_CAP_S
    sending = replace(outbox.claim(pending(), T + 8, OWNER), attempts=5000)
    assert outbox.failed(sending, T + 9, "down", retryable=True).next_try_at == T + 9 + 900


# ---------------------------------------------------------------------- describe()


def at_cet(hour: int, minute: int = 0, day: int = 0) -> float:
    made = datetime.fromtimestamp(T, CET)
    moment = made.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return (moment + timedelta(days=day)).timestamp()


def say(action: Action, now: float) -> str:
    return outbox.describe(action, now, CET)


def test_describe_pending_counts_down_the_undo_window() -> None:
    action = pending(window=8.0)
    assert say(action, T) == "sending in 8s (u to undo)"
    assert say(action, T + 0.5) == "sending in 8s (u to undo)"  # rounded up, never 0s
    assert say(action, T + 7.9) == "sending in 1s (u to undo)"
    assert say(action, T + 8) == "sending…"
    assert say(outbox.claim(action, T + 8, OWNER), T + 9) == "sending…"
    assert say(pending(Kind.CLOSE, window=5), T) == "closing in 5s (u to undo)"
    assert say(pending(Kind.ASSIGN, window=5), T) == "assigning to Anna in 5s (u to undo)"


def test_describe_sent_says_how_long_ago() -> None:
    sent = outbox.delivered(outbox.claim(pending(), T + 8, OWNER), T + 10, "m1")
    assert say(sent, T + 30) == "sent just now"
    assert say(sent, T + 130) == "sent 2m ago"
    assert say(sent, T + 10 + 3 * 3600) == "sent 3h ago"
    assert say(sent, T + 10 + 2 * 86_400) == "sent 2d ago"
    closed = outbox.delivered(outbox.claim(pending(Kind.CLOSE), T + 8, OWNER), T + 10)
    assert say(closed, T + 130) == "closed 2m ago"


def test_describe_failures_say_what_the_user_can_do() -> None:
    assert say(in_state(State.FAILED), NOW) == "failed: 550 mailbox full — r to retry"
    failure = retryable_failure(at=T + 20)  # next try at T + 25
    assert say(failure, T + 21) == "failed: connection reset — retrying in 4s"
    assert say(replace(failure, next_try_at=T + 21 + 600), T + 21) == (
        "failed: connection reset — retrying in 10m"
    )
    assert say(failure, T + 99) == "failed: connection reset — retrying in 0s"
    no_reason = replace(in_state(State.FAILED), error=None)
    assert say(no_reason, NOW) == "failed: the channel refused it — r to retry"


def test_describe_states_that_ask_for_a_check() -> None:
    assert say(in_state(State.UNKNOWN), NOW) == "unknown — check: R resend, D discard"
    assert say(in_state(State.ELSEWHERE), NOW) == (
        "answered elsewhere — check: R send anyway, D discard"
    )
    assert say(in_state(State.UNDONE), NOW) == "undone"
    assert say(in_state(State.DISCARDED), NOW) == "discarded"


def test_describe_snoozes_and_assignments_in_the_given_time_zone() -> None:
    nine = at_cet(9)
    assert nine > T  # T is 07:06 CET: nine o'clock is later that day
    snooze = pending(Kind.SNOOZE, until=repr(nine))
    assert say(snooze, T) == "snoozing in 8s, until 09:00 (u to undo)"
    done = outbox.delivered(outbox.claim(snooze, T + 8, OWNER), T + 9)
    assert say(done, T + 60) == "snoozed until 09:00"
    tomorrow = pending(Kind.SNOOZE, until=repr(at_cet(9, day=1)))
    weekday = datetime.fromtimestamp(at_cet(9, day=1), CET).strftime("%a")
    assert say(tomorrow, T) == f"snoozing in 8s, until {weekday} 09:00 (u to undo)"
    forever = outbox.delivered(
        outbox.claim(pending(Kind.SNOOZE, until="reply"), T + 8, OWNER), T + 9
    )
    assert say(forever, T + 60) == "snoozed until the customer writes"
    assigned = outbox.delivered(outbox.claim(pending(Kind.ASSIGN), T + 8, OWNER), T + 9)
    assert say(assigned, T + 600) == "assigned to Anna"


def test_describe_uses_the_time_zone_it_is_given() -> None:
    nine = at_cet(9)
    snooze = outbox.delivered(
        outbox.claim(pending(Kind.SNOOZE, until=repr(nine)), T + 8, OWNER), T + 9
    )
    assert outbox.describe(snooze, T + 60, UTC) == "snoozed until 08:00"


def test_snooze_until_reads_its_payload() -> None:
    assert pending(Kind.SNOOZE, until="reply").snooze_until() == float("inf")
    assert pending(Kind.SNOOZE, until="1795000000.5").snooze_until() == 1795000000.5
    assert pending(Kind.SNOOZE, until="tomorrow").snooze_until() is None
    assert pending(Kind.CLOSE).snooze_until() is None
