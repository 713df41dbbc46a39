"""The demo adapter: a believable shop, deterministic, shaped by the time of day."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters import (
    Author,
    ChannelKind,
    ChannelState,
    ConfigurationError,
    ConnectionFailed,
    Conversation,
    ProtocolError,
)
from adapters import demo_data as data
from adapters.demo import MAX_MESSAGES, PROFILES, DemoAdapter
from adapters.models import ActionKind, ActionRequest

ROME = ZoneInfo("Europe/Rome")
REPO = Path(__file__).resolve().parent.parent
MESSAGE_PROFILES = tuple(p for p in PROFILES if p != "phone")
SEEDS = range(1, 11)


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


def make(
    profile: str = "email",
    at: datetime = TUESDAY_11,
    channel_id: str | None = None,
    **options: Any,
) -> tuple[DemoAdapter, Clock]:
    clock = Clock(at)
    return DemoAdapter(channel_id or profile, {"profile": profile, **options}, clock), clock


async def fetch(profile: str = "email", at: datetime = TUESDAY_11, **options: Any) -> ChannelState:
    adapter, _ = make(profile, at, **options)
    return await adapter.fetch()


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
    adapter, _ = make(profile, TUESDAY_11, channel_id=f"{profile}-2", seed=3)
    other_channel = await adapter.fetch()
    assert base.conversations != other_seed.conversations
    assert base.conversations != other_channel.conversations


DIGEST_SCRIPT = """
import asyncio, hashlib, sys
from datetime import datetime
from adapters.demo import PROFILES, DemoAdapter

def digest(when):
    now = datetime.fromisoformat(when)
    async def states():
        out = []
        for profile in PROFILES:
            adapter = DemoAdapter(profile, {"profile": profile, "seed": 11}, lambda: now)
            out.append(repr(await adapter.fetch()))
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
    adapter, clock = make(profile, TUESDAY_11, seed=5)
    before = {c.external_id: c for c in (await adapter.fetch()).conversations}
    clock.advance(minutes=7)
    after = await adapter.fetch()
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
    adapter, clock = make(profile, TUESDAY_03, scale=scale)
    for _ in range(3):
        state = await adapter.fetch()
        assert len(waiting(state)) == scale
        ids = [c.external_id for c in state.conversations]
        assert len(ids) == len(set(ids))
        if profile == "phone":
            assert state.on_hold == scale
        clock.advance(hours=5)


async def test_scale_world_barely_changes_between_two_polls() -> None:
    """A store seeded from one fetch must match the app's first poll a little later."""
    adapter, clock = make("chat", TUESDAY_11, scale=2000)
    before = waiting_ids(await adapter.fetch())
    clock.advance(minutes=5)
    after = waiting_ids(await adapter.fetch())
    assert len(before & after) >= 0.9 * len(before)
    assert before != after  # but it is alive


async def test_scale_5000_fetch_works() -> None:
    adapter, _ = make("email", TUESDAY_11, scale=5000)
    started = time.perf_counter()
    state = await adapter.fetch()
    elapsed = time.perf_counter() - started
    assert len(waiting(state)) == 5000
    assert all(len(c.messages) <= 2 for c in state.conversations)
    print(f"demo scale=5000 fetch: {elapsed * 1000:.0f} ms")


async def test_a_reply_at_scale_leaves_the_queue() -> None:
    adapter, _ = make("email", TUESDAY_11, scale=50)
    target = waiting(await adapter.fetch())[10]
    await adapter.act(reply(target.external_id, "Fatto!", "k1"))
    state = await adapter.fetch()
    assert len(waiting(state)) == 49
    (after,) = [c for c in state.conversations if c.external_id == target.external_id]
    assert after.first_response_at is not None
    assert after.messages[-1].text == "Fatto!"


# --------------------------------------------------------------------------- actions


async def test_a_reply_takes_the_conversation_out_of_the_queue() -> None:
    adapter, clock = make("email", TUESDAY_11)
    before = await adapter.fetch()
    target = waiting(before)[0]
    result = await adapter.act(reply(target.external_id, "Buongiorno, ecco la risposta.", "r-1"))
    assert result.done_at == clock.now
    after = await adapter.fetch()
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
    assert target.external_id not in {c.external_id for c in (await adapter.fetch()).conversations}


async def test_sending_the_same_key_twice_sends_once() -> None:
    adapter, clock = make("chat", TUESDAY_17, seed=2)
    target = waiting(await adapter.fetch())[0]
    first = await adapter.act(reply(target.external_id, "Eccomi!", "same-key"))
    clock.advance(seconds=30)
    again = await adapter.act(reply(target.external_id, "Eccomi!", "same-key"))
    assert again == first
    other = await adapter.act(reply(target.external_id, "Altro?", "other-key"))
    assert other.external_id != first.external_id
    (after,) = [
        c for c in (await adapter.fetch()).conversations if c.external_id == target.external_id
    ]
    assert [m.text for m in after.messages].count("Eccomi!") == 1
    assert [m.text for m in after.messages].count("Altro?") == 1


async def test_close_assign_and_snooze() -> None:
    adapter, clock = make("email", TUESDAY_11, seed=4)
    control, control_clock = make("email", TUESDAY_11, seed=4)
    control_clock.advance(hours=1)
    still_waiting = waiting_ids(await control.fetch())
    queue = [c for c in waiting(await adapter.fetch()) if c.external_id in still_waiting]
    assert len(queue) >= 3, "some e-mails of 11:00 are still waiting at 12:00"
    closed, snoozed, assigned = queue[:3]

    await adapter.act(action(ActionKind.CLOSE, closed.external_id))
    await adapter.act(
        action(ActionKind.SNOOZE, snoozed.external_id, until=clock.now + timedelta(minutes=30))
    )
    await adapter.act(action(ActionKind.ASSIGN, assigned.external_id, assignee="marco"))
    state = await adapter.fetch()
    ids = waiting_ids(state)
    assert closed.external_id not in ids
    assert snoozed.external_id not in ids
    assert assigned.external_id in ids
    (marco,) = [c for c in state.conversations if c.external_id == assigned.external_id]
    assert marco.assignee == "marco"

    clock.advance(hours=1)  # the snooze is over
    state = await adapter.fetch()
    by_id = {c.external_id: c for c in state.conversations}
    assert by_id[snoozed.external_id].waiting_since == snoozed.waiting_since
    assert not by_id[closed.external_id].waiting


async def test_a_closed_conversation_reopens_when_the_customer_writes_again() -> None:
    # Find a chat whose customer adds a message shortly after now.
    for seed in range(1, 60):
        for minute in range(0, 60, 4):
            at = rome(2025, 3, 11, 10, minute)
            adapter, clock = make("chat", at, seed=seed)
            later, _ = make("chat", at + timedelta(minutes=3), seed=seed)
            now_state = {c.external_id: c for c in waiting(await adapter.fetch())}
            for conversation in waiting(await later.fetch()):
                old = now_state.get(conversation.external_id)
                customer_messages = [m for m in conversation.messages if m.sent_at > at]
                if old is None or not customer_messages:
                    continue
                if any(m.author is Author.BUSINESS for m in conversation.messages):
                    continue
                await adapter.act(action(ActionKind.CLOSE, old.external_id))
                assert old.external_id not in waiting_ids(await adapter.fetch())
                clock.advance(minutes=3)
                (reopened,) = [
                    c
                    for c in (await adapter.fetch()).conversations
                    if c.external_id == old.external_id
                ]
                assert reopened.waiting_since == customer_messages[0].sent_at
                return
    pytest.fail("no chat in the search had a customer writing twice in a row")


async def test_actions_on_unknown_conversations_are_refused() -> None:
    adapter, _ = make("email")
    with pytest.raises(ProtocolError):
        await adapter.act(reply("ch-1-0", "hi", "k"))
    with pytest.raises(ProtocolError):
        await adapter.act(action(ActionKind.CLOSE, "nonsense"))
    with pytest.raises(ProtocolError):  # a naive time
        await adapter.act(action(ActionKind.SNOOZE, "em-1-0", until=datetime(2030, 1, 1)))


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
        adapter, clock = make(profile, rome(2025, 3, 11, 12), seed=7)
        by_profile[profile] = []
        for _ in range(4):  # a day and a half, each fetch covers the last 24 hours
            by_profile[profile].extend((await adapter.fetch()).conversations)
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
    always, _ = make("email", fail_rate=1.0)
    for _ in range(3):
        with pytest.raises(ConnectionFailed, match="simulated"):
            await always.fetch()
    sometimes, _ = make("email", fail_rate=0.5)
    outcomes = []
    for _ in range(40):
        try:
            await sometimes.fetch()
            outcomes.append(True)
        except ConnectionFailed:
            outcomes.append(False)
    assert 5 < outcomes.count(False) < 35
    never, _ = make("email", fail_rate=0.0)
    for _ in range(20):
        await never.fetch()


def test_defaults_and_kinds() -> None:
    adapter, _ = make("telegram")
    assert (adapter.seed, adapter.scale, adapter.rate, adapter.fail_rate) == (7, 0, 1.0, 0.0)
    kinds = {p: make(p)[0].channel_kind for p in PROFILES}
    assert kinds == {
        "email": ChannelKind.EMAIL,
        "chat": ChannelKind.CHAT,
        "phone": ChannelKind.PHONE,
        "facebook": ChannelKind.SOCIAL,
        "telegram": ChannelKind.SOCIAL,
    }
    assert make("chat")[0].profile_expectation == timedelta(minutes=5)
    assert make("email")[0].profile_expectation == timedelta(hours=4)
    assert DemoAdapter.kind is ChannelKind.OTHER
    assert DemoAdapter.default_expectation == timedelta(hours=1)
    caps = DemoAdapter.capabilities
    assert (caps.reply, caps.close, caps.assign, caps.snooze) == (True, True, True, True)


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
    ],
)
def test_bad_options_are_configuration_errors(options: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        DemoAdapter("x", options)


async def test_aclose_can_be_called_twice() -> None:
    adapter, _ = make("chat")
    await adapter.fetch()
    await adapter.aclose()
    await adapter.aclose()


def test_fail_rate_range_is_the_declared_one() -> None:
    declared = {option.name: option for option in DemoAdapter.options}["fail_rate"]
    assert (declared.minimum, declared.maximum) == (0, 1)
    with pytest.raises(ConfigurationError, match=r"^option fail_rate: must be between 0 and 1"):
        DemoAdapter("x", {"profile": "email", "fail_rate": 1.5})
    assert DemoAdapter("x", {"profile": "email", "fail_rate": 1}).fail_rate == 1.0


def test_the_options_the_config_coerced_are_taken_as_they_are() -> None:
    from tui.core.config import load_config

    config = load_config(Path(__file__).resolve().parent.parent / "config.yaml")
    for channel in config.channels:
        adapter = DemoAdapter(channel.id, channel.options)
        assert adapter.config == channel.options  # every default already filled in
        assert DemoAdapter.declared_options(adapter.config) == adapter.config
