"""The demo adapter: a believable shop, deterministic, shaped by the time of day.

Sessions are opened as the collector opens them: options checked by the
declaration, then ``DemoAdapter.connect`` with a ``ChannelContext``."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sportello_demo import DemoAdapter, data
from sportello_demo.profiles import PROFILES
from sportello_demo.record import answer_elsewhere, deliveries_by_key, read_record
from sportello_demo.session import DemoSession
from sportello_demo.threads import MAX_MESSAGES
from sportello_sdk import (
    ActionKind,
    ActionRequest,
    ActionResult,
    AdapterError,
    Author,
    ChannelContext,
    ChannelKind,
    ChannelState,
    ConfigurationError,
    ConnectionFailed,
    Conversation,
    OptionType,
    ProtocolError,
)

ROME = ZoneInfo("Europe/Rome")
REPO = Path(__file__).resolve().parent.parent
MESSAGE_PROFILES = tuple(p for p in PROFILES if p != "phone")
SEEDS = range(1, 11)


@pytest.fixture(autouse=True)
def _records_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every demo session of these tests keeps its record under tmp_path."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def rome(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ROME).astimezone(UTC)


TUESDAY_03 = rome(2025, 3, 11, 3)  # 11 March 2025 is a Tuesday
TUESDAY_11 = rome(2025, 3, 11, 11)
TUESDAY_1430 = rome(2025, 3, 11, 14, 30)  # the phone line's lunch break
TUESDAY_17 = rome(2025, 3, 11, 17)
SUNDAY_11 = rome(2025, 3, 16, 11)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def context(channel_id: str, options: dict[str, Any], clock: Clock) -> ChannelContext:
    """What the collector gives ``connect``: the options checked and typed."""
    return ChannelContext(
        channel_id=channel_id, options=DemoAdapter.declared_options(options), clock=clock
    )


async def make(
    profile: str = "email",
    at: datetime = TUESDAY_11,
    channel_id: str | None = None,
    **options: Any,
) -> tuple[DemoSession, Clock]:
    clock = Clock(at)
    options = {"profile": profile, **options}
    session = await DemoAdapter.connect(context(channel_id or profile, options, clock))
    return session, clock


async def fetch(profile: str = "email", at: datetime = TUESDAY_11, **options: Any) -> ChannelState:
    session, _ = await make(profile, at, **options)
    return await session.fetch({})


def waiting(state: ChannelState) -> list[Conversation]:
    return [c for c in state.conversations if c.waiting]


def reply(external_id: str, text: str, key: str) -> ActionRequest:
    return ActionRequest(ActionKind.REPLY, external_id, key, text=text)


def action(kind: ActionKind, external_id: str, **fields: Any) -> ActionRequest:
    return ActionRequest(kind, external_id, f"k-{kind}-{external_id}", **fields)


def waiting_ids(state: ChannelState) -> set[str]:
    return {c.external_id for c in waiting(state)}


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("profile", PROFILES)
async def test_the_same_seed_and_clock_give_the_same_world(profile: str) -> None:
    first = await fetch(profile, TUESDAY_11, seed=3)
    second = await fetch(profile, TUESDAY_11, seed=3)
    assert first == second
    assert first.conversations, "a weekday morning has conversations on every channel"


@pytest.mark.parametrize("profile", MESSAGE_PROFILES)
async def test_another_seed_or_channel_gives_another_world(profile: str) -> None:
    base = await fetch(profile, TUESDAY_11, seed=3)
    other_seed = await fetch(profile, TUESDAY_11, seed=4)
    session, _ = await make(profile, TUESDAY_11, channel_id=f"{profile}-2", seed=3)
    other_channel = await session.fetch({})
    assert base.conversations != other_seed.conversations
    assert base.conversations != other_channel.conversations


DIGEST_SCRIPT = """
import asyncio, hashlib, sys
from datetime import datetime
from sportello_demo import DemoAdapter
from sportello_demo.profiles import PROFILES
from sportello_sdk import ChannelContext

def digest(when):
    now = datetime.fromisoformat(when)
    async def states():
        out = []
        for profile in PROFILES:
            options = DemoAdapter.declared_options({"profile": profile, "seed": 11})
            context = ChannelContext(channel_id=profile, options=options, clock=lambda: now)
            session = await DemoAdapter.connect(context)
            out.append(repr(await session.fetch({})))
        return out
    return hashlib.sha256("\\n".join(asyncio.run(states())).encode()).hexdigest()

if __name__ == "__main__":
    print(digest(sys.argv[1]))
"""


def test_another_process_sees_the_same_world() -> None:
    """No state and no process-salted ``hash()``: a restart finds the same queue."""
    when = TUESDAY_17.isoformat()
    namespace: dict[str, Any] = {"__name__": "digest"}
    exec(DIGEST_SCRIPT, namespace)  # the same code, in this process
    here = namespace["digest"](when)
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", DIGEST_SCRIPT, when],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == here


@pytest.mark.parametrize("profile", PROFILES)
async def test_the_world_moves_on_consistently(profile: str) -> None:
    """A conversation keeps its story from one poll to the next; caching changes nothing."""
    session, clock = await make(profile, TUESDAY_11, seed=5)
    before = {c.external_id: c for c in (await session.fetch({})).conversations}
    clock.advance(minutes=7)
    after = await session.fetch({})
    fresh = await fetch(profile, clock.now, seed=5)
    assert after == fresh
    kept = 0
    for conversation in after.conversations:
        old = before.get(conversation.external_id)
        if old is None:
            continue
        kept += 1
        assert conversation.customer == old.customer
        assert conversation.first_customer_message_at == old.first_customer_message_at
        if old.waiting and conversation.waiting and profile != "phone":
            # still waiting: same wait, unless the customer was answered and wrote again
            assert conversation.waiting_since == old.waiting_since
    if profile != "phone":
        assert kept > 0


# --------------------------------------------------------------------------- shape of the day


async def total_waiting(at: datetime, profiles: Iterable[str] = PROFILES) -> int:
    total = 0
    for profile in profiles:
        for seed in SEEDS:
            total += len(waiting(await fetch(profile, at, seed=seed)))
    return total


async def test_more_customers_wait_mid_morning_than_at_three_at_night() -> None:
    assert await total_waiting(TUESDAY_11) > await total_waiting(TUESDAY_03)
    assert await total_waiting(TUESDAY_11, ["email"]) > await total_waiting(TUESDAY_03, ["email"])


async def arrivals(profile: str, since: datetime, until: datetime) -> int:
    count = 0
    for seed in SEEDS:
        state = await fetch(profile, until, seed=seed)
        count += sum(since <= c.first_customer_message_at <= until for c in state.conversations)
    return count


@pytest.mark.parametrize("profile", MESSAGE_PROFILES)
async def test_arrivals_follow_the_time_of_day(profile: str) -> None:
    hour = timedelta(hours=1)
    morning = await arrivals(profile, TUESDAY_11 - hour, TUESDAY_11)
    night = await arrivals(profile, TUESDAY_03 - hour, TUESDAY_03)
    assert morning > 3 * max(night, 1)


@pytest.mark.parametrize("profile", PROFILES)
async def test_weekends_are_quieter(profile: str) -> None:
    # A fetch reports every conversation of the last 24 hours, answered or not.
    tuesday = await arrivals(profile, rome(2025, 3, 11, 0), rome(2025, 3, 11, 23, 59))
    sunday = await arrivals(profile, rome(2025, 3, 16, 0), rome(2025, 3, 16, 23, 59))
    assert tuesday > 1.5 * sunday


async def test_rate_multiplies_arrivals_and_zero_means_nobody() -> None:
    day = (rome(2025, 3, 11, 0), rome(2025, 3, 11, 23, 59))
    normal = await arrivals("email", *day)
    busy = 0
    for seed in SEEDS:
        state = await fetch("email", day[1], seed=seed, rate=3.0)
        busy += sum(c.first_customer_message_at >= day[0] for c in state.conversations)
    assert busy > 2 * normal
    for profile in PROFILES:
        assert (await fetch(profile, TUESDAY_11, rate=0)).conversations == ()


# --------------------------------------------------------------------------- phone


@pytest.mark.parametrize("closed", [TUESDAY_03, TUESDAY_1430, SUNDAY_11, rome(2025, 3, 15, 16)])
async def test_the_phone_queue_is_empty_when_the_line_is_closed(closed: datetime) -> None:
    for seed in SEEDS:
        state = await fetch("phone", closed, seed=seed)
        assert state.on_hold == 0
        assert state.longest_hold == timedelta(0)
        assert waiting(state) == []


async def test_callers_hold_during_open_hours() -> None:
    on_hold = 0
    for seed in SEEDS:
        for at in (TUESDAY_11, TUESDAY_17):
            state = await fetch("phone", at, seed=seed)
            holds = [at - c.waiting_since for c in waiting(state) if c.waiting_since]
            assert state.on_hold == len(holds)
            assert state.longest_hold == max(holds, default=timedelta(0))
            assert all(hold <= timedelta(minutes=10) for hold in holds)
            on_hold += len(holds)
            for conversation in state.conversations:
                assert conversation.subject in {
                    data.PHONE_SUBJECT_WAITING,
                    data.PHONE_SUBJECT_ANSWERED,
                    data.PHONE_SUBJECT_MISSED,
                }
                assert conversation.customer.phone is not None
                assert conversation.waiting == (conversation.subject == data.PHONE_SUBJECT_WAITING)
    assert on_hold > 0


# --------------------------------------------------------------------------- scale


@pytest.mark.parametrize("profile", ["email", "chat", "phone"])
@pytest.mark.parametrize("scale", [1, 37, 1500])
async def test_scale_keeps_exactly_n_waiting(profile: str, scale: int) -> None:
    session, clock = await make(profile, TUESDAY_03, scale=scale)
    for _ in range(3):
        state = await session.fetch({})
        assert len(waiting(state)) == scale
        ids = [c.external_id for c in state.conversations]
        assert len(ids) == len(set(ids))
        if profile == "phone":
            assert state.on_hold == scale
        clock.advance(hours=5)


async def test_scale_world_barely_changes_between_two_polls() -> None:
    """A store seeded from one fetch must match the app's first poll a little later."""
    session, clock = await make("chat", TUESDAY_11, scale=2000)
    before = waiting_ids(await session.fetch({}))
    clock.advance(minutes=5)
    after = waiting_ids(await session.fetch({}))
    assert len(before & after) >= 0.9 * len(before)
    assert before != after  # but it is alive


async def test_scale_5000_fetch_works() -> None:
    session, _ = await make("email", TUESDAY_11, scale=5000)
    started = time.perf_counter()
    state = await session.fetch({})
    elapsed = time.perf_counter() - started
    assert len(waiting(state)) == 5000
    assert all(len(c.messages) <= 2 for c in state.conversations)
    print(f"demo scale=5000 fetch: {elapsed * 1000:.0f} ms")


async def test_a_reply_at_scale_leaves_the_queue() -> None:
    session, _ = await make("email", TUESDAY_11, scale=50)
    target = waiting(await session.fetch({}))[10]
    await session.act(reply(target.external_id, "Fatto!", "k1"))
    state = await session.fetch({})
    assert len(waiting(state)) == 49
    (after,) = [c for c in state.conversations if c.external_id == target.external_id]
    assert after.first_response_at is not None
    assert after.messages[-1].text == "Fatto!"


# --------------------------------------------------------------------------- actions


async def test_a_reply_takes_the_conversation_out_of_the_queue() -> None:
    session, clock = await make("email", TUESDAY_11)
    before = await session.fetch({})
    target = waiting(before)[0]
    result = await session.act(reply(target.external_id, "Buongiorno, ecco la risposta.", "r-1"))
    assert result.done_at == clock.now
    after = await session.fetch({})
    assert waiting_ids(after) == waiting_ids(before) - {target.external_id}
    (answered,) = [c for c in after.conversations if c.external_id == target.external_id]
    assert answered.waiting_since is None
    expected_first = target.first_response_at or clock.now
    assert answered.first_response_at == expected_first
    last = answered.messages[-1]
    assert (last.author, last.text, last.external_id) == (
        Author.BUSINESS,
        "Buongiorno, ecco la risposta.",
        result.external_id,
    )
    clock.advance(hours=30)  # answered conversations are reported for a day
    assert target.external_id not in {
        c.external_id for c in (await session.fetch({})).conversations
    }


async def test_sending_the_same_key_twice_sends_once() -> None:
    session, clock = await make("chat", TUESDAY_17, seed=2)
    target = waiting(await session.fetch({}))[0]
    first = await session.act(reply(target.external_id, "Eccomi!", "same-key"))
    clock.advance(seconds=30)
    again = await session.act(reply(target.external_id, "Eccomi!", "same-key"))
    assert again == first
    other = await session.act(reply(target.external_id, "Altro?", "other-key"))
    assert other.external_id != first.external_id
    (after,) = [
        c for c in (await session.fetch({})).conversations if c.external_id == target.external_id
    ]
    assert [m.text for m in after.messages].count("Eccomi!") == 1
    assert [m.text for m in after.messages].count("Altro?") == 1


async def test_close_assign_and_snooze() -> None:
    session, clock = await make("email", TUESDAY_11, seed=4)
    control, control_clock = await make("email", TUESDAY_11, seed=4)
    control_clock.advance(hours=1)
    still_waiting = waiting_ids(await control.fetch({}))
    queue = [c for c in waiting(await session.fetch({})) if c.external_id in still_waiting]
    assert len(queue) >= 3, "some e-mails of 11:00 are still waiting at 12:00"
    closed, snoozed, assigned = queue[:3]

    await session.act(action(ActionKind.CLOSE, closed.external_id))
    await session.act(
        action(ActionKind.SNOOZE, snoozed.external_id, until=clock.now + timedelta(minutes=30))
    )
    await session.act(action(ActionKind.ASSIGN, assigned.external_id, assignee="marco"))
    state = await session.fetch({})
    ids = waiting_ids(state)
    assert closed.external_id not in ids
    assert snoozed.external_id not in ids
    assert assigned.external_id in ids
    (marco,) = [c for c in state.conversations if c.external_id == assigned.external_id]
    assert marco.assignee == "marco"

    clock.advance(hours=1)  # the snooze is over
    state = await session.fetch({})
    by_id = {c.external_id: c for c in state.conversations}
    assert by_id[snoozed.external_id].waiting_since == snoozed.waiting_since
    assert not by_id[closed.external_id].waiting


async def test_a_closed_conversation_reopens_when_the_customer_writes_again() -> None:
    # Find a chat whose customer adds a message shortly after now.
    for seed in range(1, 60):
        for minute in range(0, 60, 4):
            at = rome(2025, 3, 11, 10, minute)
            session, clock = await make("chat", at, seed=seed)
            later, _ = await make("chat", at + timedelta(minutes=3), seed=seed)
            now_state = {c.external_id: c for c in waiting(await session.fetch({}))}
            for conversation in waiting(await later.fetch({})):
                old = now_state.get(conversation.external_id)
                customer_messages = [m for m in conversation.messages if m.sent_at > at]
                if old is None or not customer_messages:
                    continue
                if any(m.author is Author.BUSINESS for m in conversation.messages):
                    continue
                await session.act(action(ActionKind.CLOSE, old.external_id))
                assert old.external_id not in waiting_ids(await session.fetch({}))
                clock.advance(minutes=3)
                (reopened,) = [
                    c
                    for c in (await session.fetch({})).conversations
                    if c.external_id == old.external_id
                ]
                assert reopened.waiting_since == customer_messages[0].sent_at
                return
    pytest.fail("no chat in the search had a customer writing twice in a row")


async def test_actions_on_unknown_conversations_are_refused() -> None:
    session, _ = await make("email")
    with pytest.raises(ProtocolError):
        await session.act(reply("ch-1-0", "hi", "k"))
    with pytest.raises(ProtocolError):
        await session.act(action(ActionKind.CLOSE, "nonsense"))
    with pytest.raises(ProtocolError):  # a naive time
        await session.act(action(ActionKind.SNOOZE, "em-1-0", until=datetime(2030, 1, 1)))


# --------------------------------------------------------------------------- people and texts


SUBJECT_PATTERNS = {
    lang: [
        re.compile(
            "^"
            + re.escape(topic.subject[:1].upper() + topic.subject[1:])
            .replace(re.escape("{order}"), "#[0-9]+")
            .replace(re.escape("{size}"), "[A-Z]+")
            .replace(re.escape("{item}"), ".+")
            + "$"
        )
        for topic in data.TOPICS[lang]
    ]
    for lang in data.LANGUAGES
}


def language_of(subject: str) -> str:
    found = {lang for lang, pats in SUBJECT_PATTERNS.items() if any(p.match(subject) for p in pats)}
    assert len(found) == 1, f"subject {subject!r} is not one of the shop's topics"
    return found.pop()


async def conversations_of(profiles: Iterable[str], seeds: Iterable[int]) -> list[Conversation]:
    out: list[Conversation] = []
    for profile in profiles:
        for seed in seeds:
            out.extend((await fetch(profile, TUESDAY_17, seed=seed)).conversations)
    return out


async def test_customers_write_mostly_in_italian_and_some_in_english() -> None:
    conversations = await conversations_of(MESSAGE_PROFILES, range(1, 4))
    languages = [language_of(c.subject) for c in conversations]
    italian = languages.count("it") / len(languages)
    assert languages.count("en") > 0
    assert 0.6 < italian < 0.9
    greetings = {"it": "Buongiorno,", "en": "Hello,"}
    checked = 0
    for conversation in conversations:
        first = conversation.messages[0]
        if conversation.external_id.startswith("em-") and first.sent_at == (
            conversation.first_customer_message_at
        ):
            assert first.text.startswith(greetings[language_of(conversation.subject)])
            checked += 1
    assert checked > 0


PHONE_NUMBER = re.compile(r"^(\+39 3\d\d 555 \d{4}|\+44 7700 900\d{3})$")
DOMAINS = {d for domains in data.EMAIL_DOMAINS.values() for d in domains}
FIRST_NAMES = {n for names in data.FIRST_NAMES.values() for n in names}


async def test_customers_have_fictitious_identities() -> None:
    conversations = await conversations_of(PROFILES, range(1, 4))
    scaled = (await fetch("phone", TUESDAY_11, scale=300)).conversations
    scaled += (await fetch("email", TUESDAY_11, scale=300)).conversations
    for conversation in [*conversations, *scaled]:
        customer = conversation.customer
        if customer.email is not None:
            assert customer.email.rsplit("@", 1)[1] in DOMAINS
        if customer.phone is not None:
            assert PHONE_NUMBER.match(customer.phone), customer.phone
        if customer.name is not None:
            assert customer.name.split()[0] in FIRST_NAMES
        assert customer.name or customer.phone or customer.email or customer.handle
    profiles_seen = {c.external_id[:2] for c in conversations}
    assert profiles_seen == {"em", "ch", "ph", "fb", "tg"}


async def test_the_same_customer_writes_on_two_channels() -> None:
    """Now and then a customer nobody answered tries a second channel."""
    by_profile: dict[str, list[Conversation]] = {}
    for profile in PROFILES:
        session, clock = await make(profile, rome(2025, 3, 11, 12), seed=7)
        by_profile[profile] = []
        for _ in range(4):  # a day and a half, each fetch covers the last 24 hours
            by_profile[profile].extend((await session.fetch({})).conversations)
            clock.advance(hours=9)
    pairs = 0
    for conversations in by_profile.values():
        for conversation in conversations:
            mention = next(
                (
                    first
                    for first in PROFILES
                    for lang in data.LANGUAGES
                    if data.ALSO_WROTE[lang][first] in conversation.messages[0].text
                ),
                None,
            )
            if mention is None:
                continue
            hour = conversation.external_id.split("-x", 1)[1]
            twins = [c for c in by_profile[mention] if c.external_id.endswith(f"-x{hour}")]
            if not twins:
                continue  # the first channel was the phone, and the shop was closed
            assert twins[0].customer.name == conversation.customer.name
            assert twins[0].first_customer_message_at < conversation.first_customer_message_at
            pairs += 1
    assert pairs > 0


async def test_follow_ups_wait_again_after_an_answer() -> None:
    found = 0
    for conversation in await conversations_of(MESSAGE_PROFILES, range(1, 4)):
        if conversation.waiting and conversation.first_response_at is not None:
            assert conversation.waiting_since is not None
            assert conversation.first_customer_message_at < conversation.first_response_at
            assert conversation.first_response_at < conversation.waiting_since
            found += 1
    assert found > 0


# --------------------------------------------------------------------------- invariants

INSTANTS = [
    TUESDAY_03,
    TUESDAY_11,
    TUESDAY_17,
    SUNDAY_11,
    rome(2025, 3, 17, 9, 5),  # Monday after the weekend
    datetime(2025, 3, 30, 1, 30, tzinfo=UTC),  # just after the spring DST change
    datetime(2025, 10, 26, 1, 30, tzinfo=UTC),  # the autumn one
    rome(2025, 12, 24, 19, 29),
]


def check_conversation(c: Conversation, now: datetime, phone: bool) -> None:
    times = [c.first_customer_message_at, c.waiting_since, c.first_response_at]
    times += [m.sent_at for m in c.messages]
    for t in times:
        if t is not None:
            assert t.tzinfo is not None and t.utcoffset() == timedelta(0)
            assert t <= now
    if c.waiting_since is not None:
        assert c.first_customer_message_at <= c.waiting_since
    if c.first_response_at is not None:
        assert c.first_customer_message_at <= c.first_response_at
    assert 1 <= len(c.messages) <= MAX_MESSAGES
    assert [m.sent_at for m in c.messages] == sorted(m.sent_at for m in c.messages)
    assert len({m.external_id for m in c.messages}) == len(c.messages)
    if phone:
        return
    last = c.messages[-1]
    assert c.waiting == (last.author is Author.CUSTOMER)
    if len(c.messages) < MAX_MESSAGES:  # the whole thread is there: check the definitions
        assert c.first_customer_message_at == c.messages[0].sent_at
        since = None
        for m in c.messages:
            if m.author is Author.BUSINESS:
                since = None
            elif since is None:
                since = m.sent_at
        assert c.waiting_since == since
        answers = [m.sent_at for m in c.messages if m.author is Author.BUSINESS]
        assert c.first_response_at == (answers[0] if answers else None)
    if not c.waiting:
        assert now - last.sent_at <= timedelta(hours=24)


@pytest.mark.parametrize("profile", PROFILES)
async def test_every_conversation_is_consistent(profile: str) -> None:
    for now in INSTANTS:
        for seed in (1, 2, 3):
            state = await fetch(profile, now, seed=seed)
            assert state.complete
            ids = [c.external_id for c in state.conversations]
            assert len(ids) == len(set(ids))
            for conversation in state.conversations:
                check_conversation(conversation, now, profile == "phone")
            if profile == "phone":
                assert state.on_hold == len(waiting(state))
            else:
                assert state.on_hold is None and state.longest_hold is None


# --------------------------------------------------------------------------- options


async def test_fail_rate_makes_polls_fail() -> None:
    always, _ = await make("email", fail_rate=1.0)
    for _ in range(3):
        with pytest.raises(ConnectionFailed, match="simulated"):
            await always.fetch({})
    sometimes, _ = await make("email", fail_rate=0.5)
    outcomes = []
    for _ in range(40):
        try:
            await sometimes.fetch({})
            outcomes.append(True)
        except ConnectionFailed:
            outcomes.append(False)
    assert 5 < outcomes.count(False) < 35
    never, _ = await make("email", fail_rate=0.0)
    for _ in range(20):
        await never.fetch({})


async def test_defaults_and_kinds() -> None:
    session, _ = await make("telegram")
    assert (session.seed, session.scale, session.rate, session.fail_rate) == (7, 0, 1.0, 0.0)
    typed = {p: DemoAdapter.declared_options({"profile": p}) for p in PROFILES}
    kinds = {p: DemoAdapter.channel_kind(typed[p]) for p in PROFILES}
    assert kinds == {
        "email": ChannelKind.EMAIL,
        "chat": ChannelKind.CHAT,
        "phone": ChannelKind.PHONE,
        "facebook": ChannelKind.SOCIAL,
        "telegram": ChannelKind.SOCIAL,
    }
    assert DemoAdapter.channel_expectation(typed["chat"]) == timedelta(minutes=5)
    assert DemoAdapter.channel_expectation(typed["email"]) == timedelta(hours=4)
    assert DemoAdapter.kind is ChannelKind.OTHER
    assert DemoAdapter.default_expectation == timedelta(hours=1)
    caps = DemoAdapter.capabilities
    assert (caps.reply, caps.close, caps.assign, caps.snooze) == (True, True, True, True)
    assert (caps.reopen, caps.keys, caps.lookup, caps.recheck) == (True, True, True, True)
    assert (session.honour_keys, session.act_delay, session.down_file) == (True, 0.0, None)
    assert session.record_path.name == "telegram.jsonl"


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({}, "profile"),
        ({"profile": "fax"}, "profile"),
        ({"profile": "email", "seed": "seven"}, "seed"),
        ({"profile": "email", "scale": -1}, "scale"),
        ({"profile": "email", "rate": -0.5}, "rate"),
        ({"profile": "email", "fail_rate": 1.5}, "fail_rate"),
        ({"profile": "email", "sclae": 10}, "sclae"),
        ({"profile": "email", "act_delay": 11}, "act_delay"),
        ({"profile": "email", "act_delay": -1}, "act_delay"),
        ({"profile": "email", "honour_keys": "no"}, "honour_keys"),
        ({"profile": "email", "record": 5}, "record"),
        ({"profile": "email", "down_file": True}, "down_file"),
        ({"profile": "email", "block": 5}, "block"),  # a duration needs its unit
        ({"profile": "email", "block": "11m"}, "block"),
        ({"profile": "email", "block": "soon"}, "block"),
        ({"profile": "email", "crash": "yes"}, "crash"),
    ],
)
def test_bad_options_are_configuration_errors(options: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        DemoAdapter.declared_options(options)


async def test_aclose_can_be_called_twice() -> None:
    session, _ = await make("chat")
    await session.fetch({})
    await session.aclose()
    await session.aclose()


async def test_fail_rate_range_is_the_declared_one() -> None:
    declared = {option.name: option for option in DemoAdapter.options}["fail_rate"]
    assert (declared.minimum, declared.maximum) == (0, 1)
    with pytest.raises(ConfigurationError, match=r"^option fail_rate: must be between 0 and 1"):
        DemoAdapter.declared_options({"profile": "email", "fail_rate": 1.5})
    session, _ = await make("email", fail_rate=1)
    assert session.fail_rate == 1.0


async def test_the_options_the_config_coerced_are_taken_as_they_are() -> None:
    from sportello.core.config import load_config

    config = load_config(REPO / "config.yaml")
    for channel in config.channels:
        typed = DemoAdapter.declared_options(channel.options)
        assert typed == channel.options  # every default already filled in
        assert DemoAdapter.declared_options(typed) == typed
        session = await DemoAdapter.connect(
            ChannelContext(channel_id=channel.id, options=channel.options)
        )
        assert session.config == channel.options


# --------------------------------------------------------------------------- the record


def by_id(state: ChannelState) -> dict[str, Conversation]:
    return {c.external_id: c for c in state.conversations}


async def test_act_returns_only_once_its_line_is_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "mail.jsonl"
    session, _ = await make("email", record=str(record))
    target = waiting(await session.fetch({}))[0]
    events: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        if os.fstat(fd).st_ino == record.stat().st_ino:
            lines = len(read_record(record))
            events.append(f"fsync {lines}")

    monkeypatch.setattr("sportello_demo.record.os.fsync", fsync)
    await session.act(reply(target.external_id, "Eccoci", "k-1"))
    events.append("returned")
    await session.act(action(ActionKind.CLOSE, target.external_id))
    events.append("returned")
    assert events == ["fsync 1", "returned", "fsync 2", "returned"]


async def test_every_action_is_one_line_of_the_record(tmp_path: Path) -> None:
    record = tmp_path / "mail.jsonl"
    session, clock = await make("email", record=str(record))
    a, b, c = waiting(await session.fetch({}))[:3]
    until = clock.now + timedelta(hours=2)
    result = await session.act(reply(a.external_id, "Grazie, è partito.", "k-reply"))
    await session.act(action(ActionKind.ASSIGN, b.external_id, assignee="marco"))
    await session.act(action(ActionKind.SNOOZE, b.external_id, until=until))
    await session.act(action(ActionKind.SNOOZE, c.external_id))  # until the customer writes
    await session.act(action(ActionKind.CLOSE, c.external_id))
    await session.act(action(ActionKind.REOPEN, c.external_id))
    at = clock.now.timestamp()
    base = {"at": at}
    assert read_record(record) == [
        {
            "key": "k-reply",
            "kind": "reply",
            "conversation": a.external_id,
            **base,
            "text": "Grazie, è partito.",
            "message_id": result.external_id,
        },
        {
            "key": f"k-assign-{b.external_id}",
            "kind": "assign",
            "conversation": b.external_id,
            **base,
            "assignee": "marco",
        },
        {
            "key": f"k-snooze-{b.external_id}",
            "kind": "snooze",
            "conversation": b.external_id,
            **base,
            "until": until.timestamp(),
        },
        {
            "key": f"k-snooze-{c.external_id}",
            "kind": "snooze",
            "conversation": c.external_id,
            **base,
            "until": None,
        },
        {"key": f"k-close-{c.external_id}", "kind": "close", "conversation": c.external_id, **base},
        {
            "key": f"k-reopen-{c.external_id}",
            "kind": "reopen",
            "conversation": c.external_id,
            **base,
        },
    ]


async def test_a_restart_finds_what_was_done(tmp_path: Path) -> None:
    record = str(tmp_path / "mail.jsonl")
    session, clock = await make("email", TUESDAY_11, seed=2, record=record)
    queue = waiting(await session.fetch({}))
    assert len(queue) >= 4
    replied, closed, snoozed, assigned = queue[:4]
    sent = await session.act(reply(replied.external_id, "Eccomi!", "k-r"))
    await session.act(action(ActionKind.CLOSE, closed.external_id))
    until = clock.now + timedelta(hours=1)
    await session.act(action(ActionKind.SNOOZE, snoozed.external_id, until=until))
    await session.act(action(ActionKind.ASSIGN, assigned.external_id, assignee="giulia"))
    clock.advance(minutes=1)
    before = await session.fetch({})
    await session.aclose()

    again, _ = await make("email", clock.now, seed=2, record=record)  # a new process, say
    after = await again.fetch({})
    assert after == before
    assert by_id(after)[replied.external_id].messages[-1].external_id == sent.external_id
    assert not by_id(after)[closed.external_id].waiting
    assert snoozed.external_id not in waiting_ids(after)
    assert by_id(after)[assigned.external_id].assignee == "giulia"
    found = await again.lookup(reply(replied.external_id, "Eccomi!", "k-r"))
    assert found == sent
    assert await again.lookup(reply(replied.external_id, "Eccomi!", "never-sent")) is None
    # The same key again after the restart: answered from the record, nothing written.
    assert await again.act(reply(replied.external_id, "Eccomi!", "k-r")) == sent
    assert deliveries_by_key(record)["k-r"] == 1


async def test_lookup_sees_a_record_written_by_another_process(tmp_path: Path) -> None:
    record = str(tmp_path / "mail.jsonl")
    reader, _ = await make("email", record=record)
    assert await reader.lookup(reply("em-1-0", "x", "k-other")) is None
    writer, clock = await make("email", record=record)
    target = waiting(await writer.fetch({}))[0]
    sent = await writer.act(reply(target.external_id, "Fatto", "k-other"))
    assert await reader.lookup(reply(target.external_id, "Fatto", "k-other")) == sent
    assert sent.done_at == clock.now


async def test_without_honour_keys_every_call_is_a_delivery(tmp_path: Path) -> None:
    record = str(tmp_path / "chat.jsonl")
    session, clock = await make("chat", TUESDAY_17, seed=2, record=record, honour_keys=False)
    target = waiting(await session.fetch({}))[0]
    first = await session.act(reply(target.external_id, "Eccomi!", "same-key"))
    clock.advance(seconds=20)
    second = await session.act(reply(target.external_id, "Eccomi!", "same-key"))
    assert second.external_id != first.external_id
    assert deliveries_by_key(record) == {"same-key": 2}
    (after,) = [
        c for c in (await session.fetch({})).conversations if c.external_id == target.external_id
    ]
    assert [m.text for m in after.messages].count("Eccomi!") == 2
    assert await session.lookup(reply(target.external_id, "Eccomi!", "same-key")) == first
    assert DemoAdapter.capabilities.keys  # declared for the default; the switch is for tests


async def test_a_torn_last_line_does_not_stop_the_channel(tmp_path: Path) -> None:
    record = tmp_path / "mail.jsonl"
    session, _ = await make("email", record=str(record))
    target = waiting(await session.fetch({}))[0]
    await session.act(action(ActionKind.CLOSE, target.external_id))
    with record.open("ab") as handle:  # the process died in the middle of the next line
        handle.write(b'{"key": "k-torn", "kind": "reply", "conversation": "em-')
    restarted, _ = await make("email", record=str(record))
    state = await restarted.fetch({})
    assert not by_id(state)[target.external_id].waiting
    assert await restarted.lookup(reply(target.external_id, "x", "k-torn")) is None
    await restarted.act(reply(target.external_id, "Eccoci", "k-after"))
    assert [e["key"] for e in read_record(record)] == [f"k-close-{target.external_id}", "k-after"]


async def test_removing_the_record_starts_the_demo_over(tmp_path: Path) -> None:
    record = tmp_path / "mail.jsonl"
    session, _ = await make("email", record=str(record))
    before = await session.fetch({})
    target = waiting(before)[0]
    await session.act(action(ActionKind.CLOSE, target.external_id))
    assert target.external_id not in waiting_ids(await session.fetch({}))
    record.unlink()
    assert await session.fetch({}) == before


async def test_two_channels_keep_different_default_records(tmp_path: Path) -> None:
    shop, _ = await make("email", channel_id="shop-mail")
    other, _ = await make("email", channel_id="other-mail")
    assert shop.record_path != other.record_path
    assert shop.record_path.parent == tmp_path / "state" / "sportello" / "demo"
    untouched = await other.fetch({})
    target = waiting(await shop.fetch({}))[0]
    await shop.act(action(ActionKind.CLOSE, target.external_id))
    assert len(read_record(shop.record_path)) == 1
    assert not other.record_path.exists()
    assert await other.fetch({}) == untouched


async def test_a_record_that_cannot_be_written_fails_the_action(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    session, _ = await make("email", record=str(blocker / "mail.jsonl"))
    target = waiting(await session.fetch({}))[0]
    with pytest.raises(ConnectionFailed, match="cannot write the demo record") as caught:
        await session.act(action(ActionKind.CLOSE, target.external_id))
    assert caught.value.retryable
    assert target.external_id in waiting_ids(await session.fetch({}))


async def test_a_scale_queue_keeps_its_actions_across_a_restart(tmp_path: Path) -> None:
    record = str(tmp_path / "scale.jsonl")
    session, clock = await make("email", TUESDAY_11, scale=3000, record=record)
    queue = waiting(await session.fetch({}))
    for n, target in enumerate(queue[:50]):
        await session.act(reply(target.external_id, "Risposto", f"k-{n}"))
    again, _ = await make("email", clock.now, scale=3000, record=record)
    started = time.perf_counter()
    state = await again.fetch({})
    elapsed = time.perf_counter() - started
    assert len(waiting(state)) == 3000 - 50
    assert state == await session.fetch({})
    print(f"demo scale=3000 fetch with 50 recorded replies: {elapsed * 1000:.0f} ms")


# --------------------------------------------------------------------------- down, slow


async def test_a_down_file_pulls_the_channel_away(tmp_path: Path) -> None:
    down = tmp_path / "down"
    record = tmp_path / "mail.jsonl"
    session, _ = await make("email", record=str(record), down_file=str(down))
    target = waiting(await session.fetch({}))[0]
    down.touch()
    with pytest.raises(ConnectionFailed, match=r"\(demo down_file present\)$"):
        await session.fetch({})
    with pytest.raises(ConnectionFailed, match="down_file") as caught:
        await session.act(action(ActionKind.CLOSE, target.external_id))
    assert caught.value.retryable
    with pytest.raises(ConnectionFailed):
        await session.recheck(target.external_id)
    assert not record.exists()
    down.unlink()  # and back
    await session.act(action(ActionKind.CLOSE, target.external_id))
    assert target.external_id not in waiting_ids(await session.fetch({}))


async def test_act_delay_holds_the_action_before_it_is_recorded(tmp_path: Path) -> None:
    record = tmp_path / "mail.jsonl"
    session, _ = await make("email", record=str(record), act_delay=0.3)
    target = waiting(await session.fetch({}))[0]
    task = asyncio.create_task(session.act(action(ActionKind.CLOSE, target.external_id)))
    started = time.perf_counter()
    await asyncio.sleep(0.1)
    assert not task.done() and read_record(record) == []
    await task
    assert time.perf_counter() - started >= 0.25
    assert len(read_record(record)) == 1


# --------------------------------------------------------------------------- chaos


def test_the_chaos_options_are_declared_off_and_bounded() -> None:
    declared = {option.name: option for option in DemoAdapter.options}
    block, crash = declared["block"], declared["crash"]
    assert (block.type, block.default, block.minimum, block.maximum) == (
        OptionType.DURATION,
        timedelta(0),
        0,
        600,
    )
    assert (crash.type, crash.default) == (OptionType.BOOL, False)
    assert block.description and crash.description
    typed = DemoAdapter.declared_options({"profile": "chat", "block": "1m30s", "crash": True})
    assert (typed["block"], typed["crash"]) == (timedelta(seconds=90), True)
    assert DemoAdapter.declared_options(typed) == typed  # coercion takes its own output
    with pytest.raises(ConfigurationError, match=r"^option block: must be between 0s and 10m"):
        DemoAdapter.declared_options({"profile": "chat", "block": "10m1s"})


async def test_by_default_no_chaos() -> None:
    session, _ = await make("chat")
    assert (session.block_s, session.crash) == (0.0, False)
    started = time.perf_counter()
    await session.fetch({})
    assert time.perf_counter() - started < 5  # nothing near a block of any size


def test_block_stops_the_channels_own_thread_and_only_it(tmp_path: Path) -> None:
    """``block`` is a blocking call (time.sleep), as ``requests.get()`` in an adapter
    would be: the session's own loop stands still for it, another thread does not."""
    block_s = 0.5
    ready = threading.Event()

    async def in_its_thread() -> tuple[float, float, int]:
        session, _ = await make("chat", block=f"{block_s}s", record=str(tmp_path / "r.jsonl"))
        ticks: list[float] = []

        async def tick() -> None:
            while True:
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        await asyncio.sleep(0.05)
        ready.set()
        started = time.perf_counter()
        state = await session.fetch({})
        took = time.perf_counter() - started
        await asyncio.sleep(0.05)
        ticker.cancel()
        await session.aclose()
        stood_still = max(b - a for a, b in itertools.pairwise(ticks))
        return took, stood_still, len(state.conversations)

    beats = 0
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(asyncio.run, in_its_thread())
        ready.wait(30)
        while not future.done():  # this thread goes on meanwhile
            time.sleep(0.01)
            beats += 1
        took, stood_still, _ = future.result()
    assert took >= block_s  # the fetch waited for the whole block…
    assert stood_still >= block_s * 0.9  # …and its loop with it, not just the coroutine
    assert beats >= 5  # the other thread kept going (≈50 steps unless starved)


async def test_a_blocking_channel_still_answers() -> None:
    blocked, _ = await make("email", block="0.2s")
    plain, _ = await make("email")
    assert await blocked.fetch({}) == await plain.fetch({})


async def test_crash_raises_a_plain_error_on_every_poll() -> None:
    session, _ = await make("email", crash=True)
    for _ in range(3):
        with pytest.raises(RuntimeError, match=r"crash: true") as caught:
            await session.fetch({})
        assert not isinstance(caught.value, AdapterError)  # a bug, not a channel failure
    await session.aclose()


# --------------------------------------------------------------------------- elsewhere, recheck


async def test_an_answer_from_another_tool_shows_in_fetch_and_recheck(tmp_path: Path) -> None:
    record = tmp_path / "chat.jsonl"
    session, clock = await make("chat", TUESDAY_17, seed=2, record=str(record))
    target = waiting(await session.fetch({}))[0]
    assert await session.recheck(target.external_id) == target
    answered_at = clock.now - timedelta(seconds=30)
    message_id = answer_elsewhere(
        record, target.external_id, "Risolto al telefono", "Anna", answered_at
    )
    rechecked = await session.recheck(target.external_id)
    assert rechecked is not None and not rechecked.waiting
    last = rechecked.messages[-1]
    assert (last.author, last.text, last.author_name, last.external_id) == (
        Author.BUSINESS,
        "Risolto al telefono",
        "Anna",
        message_id,
    )
    assert last.sent_at == answered_at
    assert by_id(await session.fetch({}))[target.external_id] == rechecked
    assert deliveries_by_key(record) == {}


@pytest.mark.parametrize(
    ("profile", "options"),
    [
        ("email", {}),
        ("chat", {"seed": 3}),
        ("phone", {}),
        ("telegram", {"seed": 5}),
        ("email", {"scale": 300}),
        ("phone", {"scale": 50}),
    ],
)
async def test_recheck_is_what_fetch_reports(profile: str, options: dict[str, Any]) -> None:
    session, _ = await make(profile, TUESDAY_17, **options)
    state = await session.fetch({})
    assert state.conversations
    if waiting(state):
        await session.act(reply(waiting(state)[0].external_id, "Eccoci", "k-recheck"))
        state = await session.fetch({})
    for conversation in state.conversations:
        assert await session.recheck(conversation.external_id) == conversation
    tag = state.conversations[0].external_id.split("-", 1)[0]
    for unknown in (f"{tag}-1-0", f"{tag}-x1", f"{tag}-s99999-0", f"{tag}-nonsense", "zz-1-0"):
        assert await session.recheck(unknown) is None


# --------------------------------------------------------------------------- customers write again


@dataclass(frozen=True)
class WroteAgain:
    conversation: Conversation  # 45 minutes after the user acted
    acted_at: datetime
    seed: int
    untouched: Conversation  # the same conversation then, had nobody acted


RATE = 3.0  # a busy morning: many customers waiting at once


async def acted_and_later(
    profile: str, kind: ActionKind = ActionKind.REPLY, seeds: range = range(1, 8)
) -> tuple[list[WroteAgain], list[Conversation]]:
    """Act on every waiting conversation of a few worlds (channel ``<profile><seed>``),
    then look 45 minutes on: (those whose customer wrote again; the others)."""
    again: list[WroteAgain] = []
    quiet: list[Conversation] = []
    for seed in seeds:
        session, clock = await make(profile, TUESDAY_11, f"{profile}{seed}", seed=seed, rate=RATE)
        acted_at = clock.now
        queue = waiting(await session.fetch({}))
        for n, conversation in enumerate(queue):
            if kind is ActionKind.REPLY:
                await session.act(reply(conversation.external_id, "Fatto!", f"k-{n}"))
            else:
                await session.act(action(kind, conversation.external_id))
        assert not waiting_ids(await session.fetch({})) & {c.external_id for c in queue}
        clock.advance(minutes=45)
        later = by_id(await session.fetch({}))
        record = Path(os.environ["XDG_STATE_HOME"]) / f"control-{profile}{seed}.jsonl"
        unseen, _ = await make(
            profile, clock.now, f"{profile}{seed}", seed=seed, rate=RATE, record=str(record)
        )
        untouched = by_id(await unseen.fetch({}))
        for conversation in queue:
            now = later[conversation.external_id]
            customer_after = [
                m for m in now.messages if m.author is Author.CUSTOMER and m.sent_at > acted_at
            ]
            if customer_after and now.waiting:
                again.append(WroteAgain(now, acted_at, seed, untouched[now.external_id]))
            else:
                quiet.append(now)
    return again, quiet


async def test_after_a_reply_some_customers_write_again() -> None:
    again, quiet = await acted_and_later("chat")
    assert again and quiet, "about a third of chat customers write again"
    assert 0.1 < len(again) / (len(again) + len(quiet)) < 0.6
    for found in again:
        conversation, replied_at = found.conversation, found.acted_at
        last = conversation.messages[-1]
        assert last.author is Author.CUSTOMER
        assert conversation.messages[-2].text == "Fatto!"
        assert conversation.waiting_since == last.sent_at
        assert timedelta(minutes=2) <= last.sent_at - replied_at <= timedelta(minutes=40)
        assert conversation.first_response_at is not None
        check_conversation(conversation, replied_at + timedelta(minutes=45), phone=False)


async def test_after_a_close_some_customers_write_again() -> None:
    again, quiet = await acted_and_later("email", ActionKind.CLOSE)
    assert again and quiet
    follow_ups = 0
    for found in again:
        conversation = found.conversation
        after = [
            m
            for m in conversation.messages
            if m.author is Author.CUSTOMER and m.sent_at > found.acted_at
        ]
        assert conversation.waiting_since == after[0].sent_at  # waiting again from then
        planned = {m.text for m in found.untouched.messages}
        follow_ups += conversation.messages[-1].text not in planned
    assert follow_ups > 0, "some wrote because the conversation was closed, not by chance"


async def test_callers_do_not_call_back_after_an_answer() -> None:
    answered = 0
    for seed in range(1, 6):
        session, clock = await make("phone", TUESDAY_11, f"phone{seed}", seed=seed, rate=RATE)
        queue = waiting(await session.fetch({}))
        for n, conversation in enumerate(queue):
            await session.act(reply(conversation.external_id, "Risposto", f"k-{n}"))
        clock.advance(minutes=45)
        assert not waiting_ids(await session.fetch({})) & {c.external_id for c in queue}
        answered += len(queue)
    assert answered >= 5


async def test_a_customer_who_wrote_again_still_waits_after_a_restart() -> None:
    again, _ = await acted_and_later("chat", seeds=range(1, 3))
    assert len(again) >= 2
    for found in again:
        conversation = found.conversation
        later = found.acted_at + timedelta(minutes=45)
        restarted, _ = await make("chat", later, f"chat{found.seed}", seed=found.seed, rate=RATE)
        assert await restarted.recheck(conversation.external_id) == conversation


async def test_a_snooze_until_the_customer_writes_ends_when_they_do(tmp_path: Path) -> None:
    again, _ = await acted_and_later("chat", seeds=range(1, 4))
    found = again[0]
    target = found.conversation.external_id
    wrote_at = found.conversation.messages[-1].sent_at
    # The same world and the same reply, on a record of its own; then a snooze
    # until the customer writes, before they do.
    session, clock = await make(
        "chat",
        found.acted_at,
        f"chat{found.seed}",
        seed=found.seed,
        rate=RATE,
        record=str(tmp_path / "fresh.jsonl"),
    )
    await session.act(reply(target, "Fatto!", "k-fresh"))
    clock.advance(seconds=30)
    await session.act(action(ActionKind.SNOOZE, target))
    clock.now = wrote_at - timedelta(seconds=1)
    assert target not in waiting_ids(await session.fetch({}))
    clock.now = wrote_at + timedelta(seconds=1)
    back = by_id(await session.fetch({}))[target]
    assert back.waiting_since == wrote_at


# --------------------------------------------------------------------------- threads


def test_sessions_work_each_in_a_thread_and_loop_of_its_own(tmp_path: Path) -> None:
    """As the collector runs them: each session opened and used on an event loop of
    its own in a thread of its own, all at once; each sees what it sees alone."""
    jobs: list[tuple[str, datetime, dict[str, Any]]] = [
        ("email", TUESDAY_11, {"scale": 1500}),  # its queue is made in a worker thread
        ("chat", TUESDAY_17, {"seed": 2}),
        ("email", TUESDAY_11, {"seed": 4}),
    ]

    Seen = tuple[ChannelState, ActionResult, ChannelState, ActionResult | None, Conversation | None]

    async def run(n: int, where: str) -> Seen:
        profile, at, options = jobs[n]
        record = str(tmp_path / f"{where}-{n}.jsonl")
        session, clock = await make(profile, at, record=record, **options)
        first = await session.fetch({})
        target = waiting(first)[0].external_id
        sent = await session.act(reply(target, "Eccoci", "k-thread"))
        clock.advance(minutes=5)
        after = await session.fetch({})
        found = await session.lookup(reply(target, "Eccoci", "k-thread"))
        rechecked = await session.recheck(target)
        await session.aclose()
        return first, sent, after, found, rechecked

    alone = [asyncio.run(run(n, "alone")) for n in range(len(jobs))]
    with ThreadPoolExecutor(len(jobs)) as pool:
        together = list(pool.map(lambda n: asyncio.run(run(n, "together")), range(len(jobs))))
    assert together == alone
    for first, sent, after, found, rechecked in together:
        assert found == sent
        assert rechecked is not None and rechecked in after.conversations
        assert rechecked.external_id in waiting_ids(first) and not rechecked.waiting


# --------------------------------------------------------------------------- crashes

CRASH_SCRIPT = """
import asyncio, os, sys
from datetime import datetime
from sportello_demo import DemoAdapter
from sportello_sdk import ActionKind, ActionRequest, ChannelContext

record, delay, now = sys.argv[1], float(sys.argv[2]), datetime.fromisoformat(sys.argv[3])

async def main():
    options = {"profile": "email", "record": record, "act_delay": delay}
    typed = DemoAdapter.declared_options(options)
    session = await DemoAdapter.connect(ChannelContext("mail", typed, lambda: now))
    target = [c for c in (await session.fetch({})).conversations if c.waiting][0]
    print("acting", flush=True)
    await session.act(ActionRequest(ActionKind.REPLY, target.external_id, "k-crash", text="Ok"))
    os._exit(9)  # dies at once: no cleanup, no flush of anything but what act() did

asyncio.run(main())
"""


def crash_child(record: Path, delay: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, str(record), str(delay), TUESDAY_11.isoformat()],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )


async def test_what_a_process_accepted_before_dying_is_found_by_the_next(tmp_path: Path) -> None:
    record = tmp_path / "mail.jsonl"
    child = crash_child(record, 0.0)
    assert child.wait(timeout=120) == 9
    session, _ = await make("email", channel_id="mail", record=str(record))
    found = await session.lookup(reply("em-1-0", "Ok", "k-crash"))
    assert found is not None and found.external_id is not None
    (answered,) = [
        c
        for c in (await session.fetch({})).conversations
        if c.external_id == found.external_id.split("/")[0]
    ]
    assert answered.messages[-1].external_id == found.external_id
    assert deliveries_by_key(record) == {"k-crash": 1}


async def test_a_process_killed_before_the_channel_accepted_left_nothing(tmp_path: Path) -> None:
    record = tmp_path / "mail.jsonl"
    child = crash_child(record, 5.0)  # killed during act_delay, before the record is written
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "acting"
    await asyncio.sleep(0.2)
    child.kill()
    child.wait(timeout=30)
    child.stdout.close()
    session, _ = await make("email", channel_id="mail", record=str(record))
    assert await session.lookup(reply("em-1-0", "Ok", "k-crash")) is None
    assert deliveries_by_key(record) == {}
