"""``sportello queue``, ``reply``, ``close``, ``assign``, ``snooze`` and ``outbox``.

Each test runs the command line (:func:`sportello.cli.main`) on a temporary store seeded
with ``apply_fetch``, at a fixed clock: Thursday 8 January 2026, 12:00 in Rome.
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sportello import cli_actions
from sportello.cli import main
from sportello.core import desk as desk_module
from sportello.core import outbox
from sportello.core.config import load_config
from sportello.core.leader import CollectorLock
from sportello.core.outbox import Action, Kind, State
from sportello.core.settings import Config
from sportello.core.snooze_until import parse_until
from sportello.core.store import Store
from sportello_sdk.models import Capabilities
from tests.helpers_store import T0, conversation, state

ROOT = Path(__file__).resolve().parent.parent
ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 1, 8, 12, 0, tzinfo=ROME).timestamp()  # a Thursday, open 09:00-19:00
WHO = "giulia@shop"
QUEUE_KEYS = {
    "id",
    "channel",
    "channel_label",
    "customer",
    "subject",
    "waiting_since",
    "wait_s",
    "expect_s",
    "gap_s",
    "action",
}
OUTBOX_KEYS = {
    "key",
    "state",
    "kind",
    "channel",
    "conversation_id",
    "who",
    "made_by",
    "made_at",
    "describe",
    "error",
}
HOSTILE_SUBJECT = "\x1b[31mFattura\x1b]52;c;aGk=\x07 errata"


def rome(hour: int, minute: int = 0, day: int = 8) -> float:
    """Seconds after T0 of that time in Rome, January 2026 (for the store's helpers)."""
    return datetime(2026, 1, day, hour, minute, tzinfo=ROME).timestamp() - T0


CONFIG = """\
business:
  name: Bottega Rossi
  timezone: Europe/Rome
  hours:
    mon: [09:00-19:00]
    tue: [09:00-19:00]
    wed: [09:00-19:00]
    thu: [09:00-19:00]
    fri: [09:00-19:00]
    sat: [09:00-13:00]
store:
  path: {store}
{extra}channels:
  - id: email
    label: Email
    adapter: demo
    expectation: 4h
    options: {{profile: email}}
  - id: chat
    label: Chat
    adapter: demo
    expectation: 5m
    hours: 24/7
    undo_window: 0s
    options: {{profile: chat}}
"""
TEAM = "team:\n  - {name: Giulia Rossi, user: giulia}\n  - Marco Bianchi\n"


class Shop:
    """A config and its seeded store; ``ids`` maps the channel's ids to the store's."""

    def __init__(self, path: Path, ids: dict[str, int]) -> None:
        self.path = path
        self.ids = ids
        self.config: Config = load_config(path)

    def run(self, *argv: str) -> int:
        return main(["--config", str(self.path), *argv])

    def actions(self) -> list[Action]:
        async def read() -> list[Action]:
            async with await Store.open(self.config.store_path) as store:
                return await store.actions()

        return asyncio.run(read())


def make_shop(tmp_path: Path, extra: str = TEAM) -> Shop:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(store=tmp_path / "store.db", extra=extra), encoding="utf-8")
    config = load_config(path)

    async def seed() -> dict[str, int]:
        async with await Store.open(config.store_path) as store:
            await store.sync_channels(config.channels, {"email": "email", "chat": "chat"})
            email = state(
                conversation("e1", first=rome(8), waiting=rome(8)),
                conversation(
                    "e2",
                    first=rome(11),
                    waiting=rome(11),
                    name=None,
                    email="luca.bianchi@example.it",
                    subject=HOSTILE_SUBJECT,
                ),
                conversation("e3", first=rome(7), waiting=None, first_response=rome(9)),
            )
            await store.apply_fetch("email", email, T0 + rome(11, 30))
            chat = state(
                conversation(
                    "c1", first=rome(8), waiting=rome(8), name=None, email=None, subject=""
                )
            )
            await store.apply_fetch("chat", chat, T0 + rome(11, 30))
            rows = await store.waiting()
            ids = {item.external_id: item.conversation_id for item in rows}
            stored = [n for n in range(1, 10) if await store.conversation_state(n) is not None]
            [ids["e3"]] = set(stored) - set(ids.values())  # stored, not waiting
            return ids

    return Shop(path, asyncio.run(seed()))


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_actions, "clock", lambda: NOW)
    monkeypatch.setattr(desk_module, "who_am_i", lambda: WHO)


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return make_shop(tmp_path)


def out_err(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    captured = capsys.readouterr()
    return captured.out, captured.err


# ---------------------------------------------------------------------- reply


def test_reply_commits_one_pending_action_and_prints_its_key(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shop.run("reply", str(shop.ids["e1"]), "--text", "Buongiorno Maria, è partito.") == 0
    out, err = out_err(capsys)
    [action] = shop.actions()
    assert out == action.key + "\n"
    assert action.state is State.PENDING and action.kind is Kind.REPLY
    assert action.text == "Buongiorno Maria, è partito."
    assert action.conversation_id == shop.ids["e1"] and action.channel_id == "email"
    assert action.made_by == WHO and action.made_at == NOW
    assert action.due_at == NOW + outbox.UNDO_WINDOW_S["email"]  # the kind's default
    assert f"sending in 10s — undo: sportello outbox discard {action.key}" in err
    assert "u to undo" not in err
    assert "nobody is sending for this store right now" in err  # no collector runs


def test_reply_reads_stdin_with_file_dash(
    shop: Shop, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "Gentile cliente,\n\nla fattura corretta è in allegato.\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))
    assert shop.run("reply", str(shop.ids["e1"]), "--file", "-") == 0
    [action] = shop.actions()
    assert action.text == text.rstrip()  # the file's last line break is not part of it
    assert out_err(capsys)[0] == action.key + "\n"


def test_reply_from_a_file(shop: Shop, tmp_path: Path) -> None:
    reply = tmp_path / "reply.txt"
    reply.write_bytes("\ufeffGrazie, lo spediamo oggi.".encode())  # a BOM is not text
    assert shop.run("reply", str(shop.ids["e1"]), "--file", str(reply)) == 0
    assert [a.text for a in shop.actions()] == ["Grazie, lo spediamo oggi."]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xff\xfebad", "is not UTF-8 text"),
        (b"   \n\n", "an empty reply is not sent"),
        (None, "cannot read"),
    ],
)
def test_a_reply_file_that_cannot_be_sent_is_refused(
    shop: Shop,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes | None,
    expected: str,
) -> None:
    reply = tmp_path / "reply.txt"
    if content is not None:
        reply.write_bytes(content)
    assert shop.run("reply", str(shop.ids["e1"]), "--file", str(reply)) == 1
    out, err = out_err(capsys)
    assert out == "" and expected in err
    assert shop.actions() == []


def test_an_empty_reply_is_refused(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    assert shop.run("reply", str(shop.ids["e1"]), "--text", "  \n ") == 1
    out, err = out_err(capsys)
    assert out == "" and "sportello: an empty reply is not sent" in err
    assert shop.actions() == []


def test_a_second_reply_asks_for_again(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    conversation_id = str(shop.ids["e1"])
    assert shop.run("reply", conversation_id, "--text", "Prima risposta") == 0
    first = out_err(capsys)[0].strip()
    assert shop.run("reply", conversation_id, "--text", "Seconda risposta") == 1
    out, err = out_err(capsys)
    assert out == ""
    assert "already on its way or sent" in err and first[:11] in err and "--again" in err
    assert len(shop.actions()) == 1
    assert shop.run("reply", conversation_id, "--text", "Seconda risposta", "--again") == 0
    assert sorted(a.text for a in shop.actions()) == ["Prima risposta", "Seconda risposta"]


def test_a_channel_without_an_undo_window_says_so(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shop.run("reply", str(shop.ids["c1"]), "--text", "Eccomi") == 0
    [action] = shop.actions()
    assert action.due_at == action.made_at  # undo_window: 0s in config
    assert "(no undo window on this channel)" in out_err(capsys)[1]


# ---------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("999", "there is no conversation 999 (sportello queue lists them)"),
        ("abc", "'abc' is not a conversation number"),
    ],
)
def test_an_unknown_conversation_is_refused(
    shop: Shop, capsys: pytest.CaptureFixture[str], raw: str, expected: str
) -> None:
    for argv in (("reply", raw, "--text", "x"), ("close", raw), ("snooze", raw, "1h")):
        assert shop.run(*argv) == 1
        out, err = out_err(capsys)
        assert out == "" and expected in err and "Traceback" not in err
    assert shop.actions() == []


def test_a_conversation_that_is_not_waiting_is_refused(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shop.run("close", str(shop.ids["e3"])) == 1
    err = out_err(capsys)[1]
    assert f"conversation {shop.ids['e3']} is not waiting: nobody is waiting" in err
    assert shop.actions() == []


def test_a_channel_that_cannot_do_it_refuses(
    shop: Shop, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sportello_sdk.registry

    class CannotReply:
        capabilities = Capabilities(close=True)

    monkeypatch.setattr(sportello_sdk.registry, "load", lambda name: CannotReply)
    assert shop.run("reply", str(shop.ids["e1"]), "--text", "x") == 1
    assert "sportello: Email cannot reply from sportello" in out_err(capsys)[1]
    assert shop.actions() == []
    assert shop.run("close", str(shop.ids["e1"])) == 0


READ_ONLY_VERBS = [
    ("reply", "{e1}", "--text", "Buongiorno"),
    ("close", "{e1}"),
    ("assign", "{e1}", "Giulia Rossi"),
    ("snooze", "{e1}", "1h"),
    ("outbox", "retry", "sp-"),
    ("outbox", "discard", "sp-"),
]


@pytest.mark.parametrize("how", ["flag", "config"])
@pytest.mark.parametrize("verb", READ_ONLY_VERBS, ids=lambda verb: " ".join(verb[:2]))
def test_read_only_refuses_every_action_and_commits_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str, verb: tuple[str, ...]
) -> None:
    shop = make_shop(tmp_path, TEAM + ("read_only: true\n" if how == "config" else ""))
    flags = ["--read-only"] if how == "flag" else []
    argv = [part.format(e1=shop.ids["e1"]) for part in verb]
    assert shop.run(*flags, *argv) == 1
    out, err = out_err(capsys)
    assert out == ""
    assert "sportello: read-only: this sportello only watches" in err
    assert shop.actions() == []


def test_read_only_leaves_the_outbox_as_it_is(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shop.run("close", str(shop.ids["e1"])) == 0
    key = out_err(capsys)[0].strip()
    assert shop.run("--read-only", "outbox", "discard", key) == 1
    assert [a.state for a in shop.actions()] == [State.PENDING]
    assert shop.run("--read-only", "outbox") == 0  # reading is not acting
    assert key[:11] in out_err(capsys)[0]


def test_read_only_reaches_the_dashboard(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    import sportello.app
    import sportello.core.logs

    seen: list[Config] = []

    def fake_dashboard(config: Config) -> int:
        seen.append(config)
        return 0

    monkeypatch.setattr(sportello.app, "run_dashboard", fake_dashboard)
    monkeypatch.setattr(sportello.core.logs, "log_to_file", lambda: None)
    assert shop.run("--read-only") == 0
    assert shop.run() == 0
    assert [config.read_only for config in seen] == [True, False]


# ---------------------------------------------------------------------- close, assign


def test_close(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    assert shop.run("close", str(shop.ids["e2"])) == 0
    out, err = out_err(capsys)
    [action] = shop.actions()
    assert out == action.key + "\n"
    assert action.kind is Kind.CLOSE and action.conversation_id == shop.ids["e2"]
    assert action.state is State.PENDING
    assert f"closing in 10s — undo: sportello outbox discard {action.key}" in err


def test_assign_takes_a_name_of_the_team_in_any_case(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shop.run("assign", str(shop.ids["e1"]), "giulia ROSSI") == 0
    [action] = shop.actions()
    assert action.kind is Kind.ASSIGN
    assert action.payload == {"assignee": "Giulia Rossi"}  # as the team writes it
    assert "assigning to Giulia Rossi in 10s" in out_err(capsys)[1]


def test_assign_to_someone_not_in_the_team_is_refused(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shop.run("assign", str(shop.ids["e1"]), "Bob") == 1
    out, err = out_err(capsys)
    assert out == ""
    assert "'Bob' is not in the team (team: Giulia Rossi, Marco Bianchi)" in err
    assert shop.actions() == []


def test_assign_without_a_team_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = make_shop(tmp_path, extra="")
    assert shop.run("assign", str(shop.ids["e1"]), "Giulia") == 1
    assert "no team: list the people in config.yaml (team:)" in out_err(capsys)[1]
    assert shop.actions() == []


# ---------------------------------------------------------------------- snooze


def rome_at(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, 1, day, hour, minute, tzinfo=ROME).timestamp()


@pytest.mark.parametrize(
    ("until", "channel", "expected"),
    [
        (["1h"], "e1", NOW + 3600),
        (["30m"], "e1", NOW + 1800),
        (["1h30m"], "e1", NOW + 5400),
        (["14:30"], "e1", rome_at(8, 14, 30)),  # still to come today
        (["10:00"], "e1", rome_at(9, 10)),  # passed today: tomorrow
        (["2026-01-12", "09:15"], "e1", rome_at(12, 9, 15)),  # two words, no quotes needed
        (["2026-01-12 09:15"], "e1", rome_at(12, 9, 15)),
        (["tomorrow"], "e1", rome_at(9, 9)),
        (["opening"], "e1", rome_at(9, 9)),  # open now: the opening after it closes at 19:00
        (["reply"], "e1", math.inf),
    ],
)
def test_snooze_until_each_form(
    shop: Shop,
    capsys: pytest.CaptureFixture[str],
    until: list[str],
    channel: str,
    expected: float,
) -> None:
    assert shop.run("snooze", str(shop.ids[channel]), *until) == 0
    out, err = out_err(capsys)
    [action] = shop.actions()
    assert out == action.key + "\n"
    assert action.kind is Kind.SNOOZE
    assert action.snooze_until() == expected
    if math.isinf(expected):
        assert action.payload == {"until": "reply"}
        assert "snoozing in 10s, until the customer writes" in err
    else:
        moment = datetime.fromtimestamp(expected, ROME)
        assert f"back in the queue on {moment:%a %Y-%m-%d at %H:%M}" in err


@pytest.mark.parametrize(
    ("until", "expected"),
    [
        ("5", "5 has no unit"),
        ("0m", "0 is no time at all"),
        ("2026-01-01 09:00", "2026-01-01 09:00 has already passed"),
        ("2026-02-30 09:00", "is not a date"),
        ("soon", "'soon' is none of 1h, 30m, 14:30"),
        ("25:00", "'25:00' is not a time of day (00:00 to 23:59)"),
        ("2026-01-12 24:30", "is not a time of day"),
    ],
)
def test_a_snooze_time_that_cannot_be_used_is_refused(
    shop: Shop, capsys: pytest.CaptureFixture[str], until: str, expected: str
) -> None:
    assert shop.run("snooze", str(shop.ids["e1"]), until) == 1
    out, err = out_err(capsys)
    assert out == "" and expected in err
    assert shop.actions() == []


def test_snooze_until_opening_of_a_channel_always_open_is_refused(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shop.run("snooze", str(shop.ids["c1"]), "opening") == 1
    assert "Chat is open every hour (24/7): it has no next opening" in out_err(capsys)[1]
    assert shop.actions() == []


def test_parse_until_when_closed_and_across_days() -> None:
    config = load_config(ROOT / "config.yaml")
    email = config.channel("email")  # business hours; Sunday closed
    saturday_evening = datetime(2026, 1, 10, 20, 0, tzinfo=ROME).timestamp()
    monday_nine = datetime(2026, 1, 12, 9, 0, tzinfo=ROME).timestamp()
    assert parse_until("opening", now=saturday_evening, tz=ROME, channel=email) == monday_nine
    assert parse_until(" Tomorrow ", now=saturday_evening, tz=ROME) == rome_at(11, 9)
    assert parse_until("08:00", now=saturday_evening, tz=ROME) == rome_at(11, 8)
    with pytest.raises(ValueError, match="no longer in config"):
        parse_until("opening", now=saturday_evening, tz=ROME, channel=None)


# ---------------------------------------------------------------------- queue


def test_queue_json_fields_nulls_and_order(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    assert shop.run("reply", str(shop.ids["e2"]), "--text", "Controllo subito") == 0
    key = out_err(capsys)[0].strip()
    assert shop.run("queue", "--json") == 0
    out, err = out_err(capsys)
    rows = json.loads(out)
    assert [row["id"] for row in rows] == [shop.ids["c1"], shop.ids["e1"], shop.ids["e2"]]
    for row in rows:
        assert set(row) == QUEUE_KEYS
    chat, maria, luca = rows
    # Longest wait first, in open hours as the board counts them: the chat is 24/7
    # (08:00 → 12:00 is 4h), the e-mail opens at 09:00 (08:00 → 12:00 is 3h).
    assert chat["wait_s"] == 4 * 3600 and maria["wait_s"] == 3 * 3600
    assert luca["wait_s"] == 3600
    assert maria["expect_s"] == 4 * 3600 and maria["gap_s"] == -3600
    assert chat["gap_s"] == 4 * 3600 - 300
    assert maria["waiting_since"] == "2026-01-08T08:00:00+01:00"
    assert maria["channel"] == "email" and maria["channel_label"] == "Email"
    assert maria["customer"] == "Maria Rossi" and maria["subject"] == "Ordine non arrivato"
    # Unknown is null, never 0 or an empty text.
    assert chat["customer"] is None and chat["subject"] is None and chat["action"] is None
    assert maria["action"] is None
    assert luca["action"] == {
        "key": key,
        "kind": "reply",
        "state": "pending",
        "describe": "sending in 10s",
    }
    # Masked as on the dashboard, and inert.
    assert luca["customer"] == "l•••@e•••.it"
    assert luca["subject"] == "Fattura errata"
    assert "nobody polls the channels right now" in err


def test_queue_reveal_shows_addresses(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    assert shop.run("queue", "--json", "--reveal") == 0
    rows = {row["id"]: row for row in json.loads(out_err(capsys)[0])}
    assert rows[shop.ids["e2"]]["customer"] == "luca.bianchi@example.it"


def test_queue_table(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    assert shop.run("snooze", str(shop.ids["e1"]), "tomorrow") == 0
    out_err(capsys)
    assert shop.run("queue") == 0
    out, _ = out_err(capsys)
    lines = out.splitlines()
    assert lines[0].split() == [
        "ID",
        "CHANNEL",
        "CUSTOMER",
        "SUBJECT",
        "SINCE",
        "WAIT",
        "GAP",
        "ACTION",
    ]
    assert [line.split()[0] for line in lines[1:]] == [str(shop.ids[c]) for c in ("c1", "e1", "e2")]
    chat, maria, luca = lines[1:]
    assert "Chat" in chat and "unknown" in chat and "(no subject)" in chat and "4h00m" in chat
    assert "Maria Rossi" in maria and "08:00" in maria and "3h00m" in maria
    assert "snoozing in 10s, until Fri 09:00" in maria
    assert "l•••@e•••.it" in luca and "Fattura errata" in luca
    assert "\x1b" not in out and "\x07" not in out


def test_queue_of_an_empty_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(store=tmp_path / "store.db", extra=""), encoding="utf-8")
    assert main(["--config", str(path), "queue"]) == 0
    out, err = out_err(capsys)
    assert out == "" and "nobody is waiting" in err and "no channel polled yet" in err
    assert main(["--config", str(path), "queue", "--json"]) == 0
    assert json.loads(out_err(capsys)[0]) == []


def test_json_goes_before_the_command_too(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    assert shop.run("--json", "queue") == 0
    assert len(json.loads(out_err(capsys)[0])) == 3


def test_a_running_collector_is_not_told_to_run(
    shop: Shop, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = CollectorLock(shop.config.store_path)  # as a dashboard or collect holds it
    assert lock.try_acquire()
    try:
        assert shop.run("close", str(shop.ids["e1"])) == 0
        assert shop.run("queue") == 0
    finally:
        lock.release()
    err = out_err(capsys)[1]
    assert "nobody is sending" not in err and "nobody polls" not in err
    # The command never delivers: its action is still pending once due.
    [action] = shop.actions()
    assert action.state is State.PENDING and action.attempts == 0


# ---------------------------------------------------------------------- outbox


def fail(shop: Shop, key: str, *, retryable: bool = False) -> None:
    """What a collector does when the channel refuses an action."""

    async def go() -> None:
        async with await Store.open(shop.config.store_path) as store:
            action = await store.action(key)
            assert action is not None
            sending = outbox.claim(action, action.due_at, "collector")
            assert await store.transition(sending, State.PENDING)
            refused = outbox.failed(sending, NOW, "550 mailbox full", retryable=retryable)
            assert await store.transition(refused, State.SENDING)

    asyncio.run(go())


@pytest.fixture
def three(
    shop: Shop, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[str]]:
    """A reply, a close and an assign, made 2 s, 1 s and 0 s before NOW; their keys."""
    keys = []
    for ago, argv in (
        (2, ("reply", str(shop.ids["e1"]), "--text", "Buongiorno")),
        (1, ("close", str(shop.ids["e2"]))),
        (0, ("assign", str(shop.ids["c1"]), "Marco Bianchi")),
    ):
        monkeypatch.setattr(cli_actions, "clock", lambda ago=ago: NOW - ago)
        assert shop.run(*argv) == 0
        keys.append(out_err(capsys)[0].strip())
    monkeypatch.setattr(cli_actions, "clock", lambda: NOW)
    yield keys


def test_outbox_lists_what_is_on_its_way(
    shop: Shop, three: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    reply, close, assign = three
    assert shop.run("outbox", "discard", close[:12]) == 0
    out, err = out_err(capsys)
    assert out == close + "\n" and "discarded: this close will not be done" in err
    assert shop.run("outbox", "--json") == 0
    active = json.loads(out_err(capsys)[0])
    assert [a["key"] for a in active] == [reply, assign]
    for item in active:
        assert set(item) == OUTBOX_KEYS
    first = active[0]
    assert first["state"] == "pending" and first["kind"] == "reply"
    assert first["channel"] == "email" and first["conversation_id"] == shop.ids["e1"]
    assert first["who"] == "Giulia Rossi"  # the login giulia is hers in team:
    assert first["made_by"] == WHO
    assert first["made_at"] == "2026-01-08T11:59:58+01:00"
    assert first["describe"] == "sending in 8s" and first["error"] is None
    assert active[1]["describe"] == "assigning to Marco Bianchi…"  # chat: no undo window
    assert shop.run("outbox", "--all", "--json") == 0
    every = json.loads(out_err(capsys)[0])
    assert [(a["key"], a["state"]) for a in every] == [
        (reply, "pending"),
        (close, "discarded"),
        (assign, "pending"),
    ]
    assert shop.run("outbox") == 0
    table = out_err(capsys)[0].splitlines()
    assert table[0].split() == ["KEY", "STATE", "KIND", "CHANNEL", "ID", "WHO", "MADE"]
    assert table[1].split()[:4] == [reply[:11], "pending", "reply", "Email"]
    assert "Giulia Rossi" in table[1] and "11:59" in table[1] and "sending in 8s" in table[1]


def test_who_is_the_login_when_it_is_nobody_of_the_team(
    shop: Shop, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(desk_module, "who_am_i", lambda: "luigi@shop")
    assert shop.run("close", str(shop.ids["e1"])) == 0
    out_err(capsys)
    assert shop.run("outbox", "--json") == 0
    [item] = json.loads(out_err(capsys)[0])
    assert item["who"] is None and item["made_by"] == "luigi@shop"


def test_outbox_retry_by_prefix(
    shop: Shop, three: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    reply = three[0]
    fail(shop, reply)
    assert shop.run("outbox") == 0
    out, err = out_err(capsys)
    assert "failed: 550 mailbox full" in out and "r to retry" not in out
    assert "send again: sportello outbox retry KEY" in err
    assert shop.run("outbox", "retry", reply[:10]) == 0
    out, err = out_err(capsys)
    assert out == reply + "\n" and "sending… again" in err
    retried = {a.key: a for a in shop.actions()}[reply]
    assert retried.state is State.PENDING and retried.due_at == NOW and retried.error is None


def test_outbox_discard_a_failed_action(
    shop: Shop, three: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    fail(shop, three[0])
    assert shop.run("outbox", "discard", three[0][:14]) == 0
    assert "discarded: this reply will not be sent" in out_err(capsys)[1]
    assert {a.key: a for a in shop.actions()}[three[0]].state is State.DISCARDED


def test_outbox_refusals(shop: Shop, three: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    before = shop.actions()
    assert shop.run("outbox", "retry", "sp-") == 1
    assert "'sp-' matches 3 actions: give more of the key" in out_err(capsys)[1]
    assert shop.run("outbox", "discard", "sp-nothing") == 1
    assert "no action with the key 'sp-nothing'" in out_err(capsys)[1]
    assert shop.run("outbox", "retry", three[1]) == 1  # pending: nothing to retry
    assert "only a failed, unknown or held action can be retried" in out_err(capsys)[1]
    assert shop.actions() == before


def test_an_empty_outbox(shop: Shop, capsys: pytest.CaptureFixture[str]) -> None:
    assert shop.run("outbox") == 0
    out, err = out_err(capsys)
    assert out == "" and "nothing on its way" in err
    assert shop.run("outbox", "--json", "--all") == 0
    assert json.loads(out_err(capsys)[0]) == []


# ---------------------------------------------------------------------- the module


def test_the_triage_commands_import_without_textual() -> None:
    code = textwrap.dedent("""\
        import sys
        sys.modules["textual"] = None  # any import of it fails
        import sportello.cli, sportello.cli_actions
        assert not any(name.startswith("textual") and sys.modules[name] for name in sys.modules)
    """)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr


def test_help_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = out_err(capsys)[0]
    for command in ("queue", "reply", "close", "assign", "snooze", "outbox", "--read-only"):
        assert command in out


# ---------------------------------------------------------------------- delivery


def test_an_action_of_the_command_is_delivered_by_sportello_collect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command only writes to the outbox; ``sportello collect`` sends it."""
    import yaml

    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["store"] = {"path": str(tmp_path / "store.db")}
    data["channels"] = [c for c in data["channels"] if c["id"] == "chat"]
    data["channels"][0].update(poll_interval="1s", undo_window="0s")
    data["channels"][0]["options"]["scale"] = 3  # customers wait at any hour
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    collector = subprocess.Popen(
        [sys.executable, "-m", "sportello.cli", "--config", str(path), "collect"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        rows: list[dict[str, object]] = []
        for _ in range(200):
            assert main(["--config", str(path), "queue", "--json"]) == 0
            rows = json.loads(capsys.readouterr().out)
            if rows:
                break
            time.sleep(0.1)
        assert rows, "the collector stored no waiting conversation"
        assert main(["--config", str(path), "reply", str(rows[0]["id"]), "--text", "Eccomi"]) == 0
        key = capsys.readouterr().out.strip()
        shop = Shop(path, {})
        state = None
        for _ in range(200):
            [action] = shop.actions()
            state = action.state
            if state is State.SENT:
                break
            time.sleep(0.1)
        assert state is State.SENT, f"{key} is still {state}"
    finally:
        collector.send_signal(signal.SIGTERM)
        collector.wait(timeout=20)


@pytest.mark.parametrize("state", list(State))
def test_the_words_of_every_state_name_no_dashboard_key(state: State) -> None:
    from dataclasses import replace

    from sportello.core.triage_report import words

    action = outbox.make(
        Kind.REPLY,
        channel_id="email",
        conversation_id=1,
        external_id="e1",
        payload={"text": "x"},
        made_by=WHO,
        now=NOW,
        undo_window_s=10,
    )
    action = replace(
        action, state=state, error="550 mailbox full" if state is State.FAILED else None
    )
    text = words(action, NOW, ROME)
    assert text == text.strip() and text
    for hint in ("u to undo", "r to retry", "R resend", "R send", "D discard"):
        assert hint not in text, text
