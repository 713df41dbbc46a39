"""config.yaml → Config: good files, broken files, hostile files, and where to find them."""

from __future__ import annotations

import importlib.util
import os
import textwrap
import time as clock
from datetime import date, time, timedelta
from pathlib import Path

import platformdirs
import pytest

from sportello.core import yaml_lines
from sportello.core.config import ConfigError, Problem, check_config, find_config, load_config
from sportello.core.settings import Config, GapThreshold, Person, SecretRef
from sportello_sdk import Adapter, ChannelKind, Option, OptionType, parse_duration
from sportello_sdk.registry import AdapterLoadError
from tests.engine_fakes import DeclarationOnly

ROOT = Path(__file__).resolve().parent.parent
SECRET = "hunter2-Sup3rSecret"


class FakeMail(DeclarationOnly):
    name = "fakemail"
    kind = ChannelKind.EMAIL
    default_expectation = timedelta(hours=6)
    options = (
        Option("host", required=True, description="the IMAP server"),
        Option("port", OptionType.INT, default=993, minimum=1),
        Option("folder", default="INBOX"),
        Option("idle", OptionType.DURATION, default=timedelta(minutes=5)),
        Option("password", secret=True, required=True),
        Option("mode", choices=("fast", "slow"), default="fast"),
    )


class Bare(DeclarationOnly):
    name = "bare"
    default_expectation = timedelta(minutes=5)


class FakeDemo(DeclarationOnly):
    """What the demo adapter declares (profile, seed, scale, rate)."""

    name = "demo"
    options = (
        Option("profile", choices=("email", "chat", "phone", "facebook", "telegram")),
        Option("seed", OptionType.INT, default=7),
        Option("scale", OptionType.INT, default=0),
        Option("rate", OptionType.FLOAT, default=1.0),
    )


ADAPTERS: dict[str, type[Adapter]] = {"fakemail": FakeMail, "bare": Bare, "demo": FakeDemo}


def fake_loader(name: str) -> type[Adapter]:
    try:
        return ADAPTERS[name]
    except KeyError:
        raise AdapterLoadError(f"no adapter named {name!r} is installed") from None


GOOD = """\
business:
  name: Bottega Rossi
  timezone: Europe/Rome
  hours:
    mon: [09:00-13:00, 15:30-19:30]
    tue: ["09:00-13:00", "15:30-19:30"]
    wed: 09:00-13:00, 15:30-19:30
    thu: [15:30-19:30, 09:00-13:00]
    fri: [09:00-24:00]
    sat: [09:00-13:00]
    sun: closed
  holidays:
    - 12-25
    - 2026-04-06
    - "2027-01-02"
store:
  path: data/shop.db
  retention_days: 90
dashboard:
  gap_warn: 30m
  gap_critical: 50%
  mask_personal_data: false
keys:
  dashboard.sort: S
  app.quit: ctrl+q
channels:
  - id: mail
    label: Posta
    adapter: fakemail
    expectation: 4h
    poll_interval: 2m
    timeout: 20s
    options:
      host: imap.example.it
      port: 143
      idle: 90s
      password: ${env:SHOP_MAIL_PASSWORD}
  - id: chat
    adapter: bare
    hours: 24/7
  - id: phone
    label: Telefono
    adapter: bare
    hours:
      mon: [08:00-12:00]
  - id: old
    adapter: not-installed-yet
    enabled: false
"""


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Config:
    return load_config(write(tmp_path, text), adapter_loader=fake_loader)


def problems_of(tmp_path: Path, text: str | bytes) -> list[Problem]:
    if isinstance(text, bytes):
        path = tmp_path / "config.yaml"
        path.write_bytes(text)
    else:
        path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, adapter_loader=fake_loader)
    assert caught.value.problems, "a ConfigError must carry its problems"
    return caught.value.problems


def lines_of(tmp_path: Path, text: str | bytes) -> list[str]:
    return [str(problem) for problem in problems_of(tmp_path, text)]


def one_problem(tmp_path: Path, text: str | bytes) -> str:
    lines = lines_of(tmp_path, text)
    assert len(lines) == 1, lines
    return lines[0]


MINIMAL = """\
business:
  name: Shop
  hours: {mon: [09:00-17:00]}
channels:
  - id: chat
    adapter: bare
"""


def with_channel(channel: str) -> str:
    """MINIMAL's business with one channel given as YAML text (indented as a list item)."""
    body = textwrap.indent(textwrap.dedent(channel).strip(), "    ")
    return MINIMAL.split("channels:")[0] + "channels:\n  -" + body[3:] + "\n"


# ── good files ─────────────────────────────────────────────────────────────────


def test_good_config_is_read_in_full(tmp_path: Path) -> None:
    config = load(tmp_path, GOOD)
    business = config.business
    assert business.name == "Bottega Rossi"
    assert str(business.timezone) == "Europe/Rome"
    nine_one = (time(9), time(13))
    afternoon = (time(15, 30), time(19, 30))
    assert business.hours.weekly[0] == (nine_one, afternoon)
    assert business.hours.weekly[1] == (nine_one, afternoon)  # quoted spans
    assert business.hours.weekly[2] == (nine_one, afternoon)  # comma-separated text
    assert business.hours.weekly[3] == (nine_one, afternoon)  # sorted
    assert business.hours.weekly[4] == ((time(9), time.max),)  # 24:00 ends the day
    assert business.hours.weekly[6] == ()
    assert date(2026, 12, 25) in business.holidays and date(2031, 12, 25) in business.holidays
    assert {date(2026, 4, 6), date(2027, 1, 2)} <= business.holidays
    assert date(2026, 4, 7) not in business.holidays
    assert business.hours.holidays == business.holidays
    assert config.store_path == tmp_path / "data" / "shop.db"
    assert config.retention_days == 90
    assert config.dashboard.gap_warn == GapThreshold(seconds=1800.0)
    assert config.dashboard.gap_critical == GapThreshold(fraction=0.5)
    assert config.dashboard.mask_personal_data is False
    assert config.keys == {"dashboard.sort": "S", "app.quit": "ctrl+q"}
    assert config.source == tmp_path / "config.yaml"

    assert [channel.id for channel in config.channels] == ["mail", "chat", "phone"]
    mail, chat, phone = config.channels
    assert mail.label == "Posta" and mail.adapter == "fakemail"
    assert mail.expectation == timedelta(hours=4)
    assert mail.poll_interval == timedelta(minutes=2) and mail.timeout == timedelta(seconds=20)
    assert mail.hours is business.hours
    assert mail.line == 27
    assert mail.options == {
        "host": "imap.example.it",
        "port": 143,
        "idle": timedelta(seconds=90),
        "password": SecretRef("env", "SHOP_MAIL_PASSWORD"),
        "folder": "INBOX",  # defaults applied
        "mode": "fast",
    }
    assert chat.label == "chat"  # defaults to the id
    assert chat.expectation == timedelta(minutes=5)  # the adapter's default
    assert chat.poll_interval == timedelta(seconds=60) and chat.timeout == timedelta(seconds=30)
    assert chat.hours is None  # 24/7
    assert chat.options == {}
    assert phone.hours is not None
    assert phone.hours.weekly[0] == ((time(8), time(12)),)
    assert phone.hours.weekly[1] == ()
    assert phone.hours.timezone == business.timezone
    assert phone.hours.holidays == business.holidays


def test_defaults_of_a_minimal_config(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL)
    assert str(config.business.timezone) == "Europe/Rome"
    assert config.business.holidays == frozenset()
    assert config.store_path.parent == platformdirs.user_data_path("sportello")
    assert config.store_path.name.startswith("config-")
    assert config.retention_days == 365
    assert config.dashboard.gap_warn == GapThreshold(seconds=0.0)
    assert config.dashboard.gap_critical == GapThreshold(fraction=1.0)
    assert config.dashboard.mask_personal_data is True
    assert config.keys == {}
    assert config.channels[0].hours is config.business.hours


def test_store_path_expands_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = load(tmp_path, MINIMAL + "store:\n  path: ~/shop.db\n")
    assert config.store_path == tmp_path / "home" / "shop.db"


def test_recurring_holidays_cover_many_years_and_leap_days(tmp_path: Path) -> None:
    text = MINIMAL.replace("  hours:", "  holidays: [02-29, 08-15]\n  hours:")
    holidays = load(tmp_path, text).business.holidays
    assert date(2024, 2, 29) in holidays and date(2028, 2, 29) in holidays
    assert not any(day.month == 2 and day.year == 2025 for day in holidays)
    assert all(date(year, 8, 15) in holidays for year in range(2020, 2040))


def test_merge_keys_share_channel_defaults(tmp_path: Path) -> None:
    text = MINIMAL.split("channels:")[0] + textwrap.dedent("""\
        channels:
          - &base
            id: one
            adapter: bare
            expectation: 1h
          - <<: *base
            id: two
        """)
    one, two = load(tmp_path, text).channels
    assert (one.id, two.id) == ("one", "two")
    assert two.expectation == timedelta(hours=1) and two.adapter == "bare"


def test_utf8_bom_and_italian_text_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.replace("Shop", "Caffè Città").encode())
    assert load_config(path, adapter_loader=fake_loader).business.name == "Caffè Città"


def test_disabled_channels_are_checked_but_left_out(tmp_path: Path) -> None:
    text = MINIMAL + "  - id: later\n    adapter: bare\n    enabled: false\n"
    assert [channel.id for channel in load(tmp_path, text).channels] == ["chat"]
    broken = MINIMAL + "  - id: later\n    adapter: bare\n    enabled: false\n    expectation: x\n"
    assert "channel 'later' · expectation" in one_problem(tmp_path, broken)


def test_every_channel_disabled_is_a_problem(tmp_path: Path) -> None:
    text = MINIMAL + "    enabled: false\n"
    assert "every channel is disabled" in one_problem(tmp_path, text)


# ── the shipped config.yaml ────────────────────────────────────────────────────


def check_shipped(config: Config) -> None:
    assert config.business.name == "Bottega Rossi"
    assert str(config.business.timezone) == "Europe/Rome"
    weekly = config.business.hours.weekly
    assert weekly[0] == ((time(9), time(13)), (time(15, 30), time(19, 30)))
    assert weekly[5] == ((time(9), time(13)),) and weekly[6] == ()
    assert date(2026, 12, 25) in config.business.holidays
    expected = {"email": "4h", "chat": "5m", "phone": "2m", "facebook": "1h", "telegram": "30m"}
    assert {c.id: c.expectation for c in config.channels} == {
        key: parse_duration(value) for key, value in expected.items()
    }
    assert {c.adapter for c in config.channels} == {"demo"}
    assert {c.options["profile"] for c in config.channels} == set(expected)


def test_shipped_config_with_the_declared_demo_options() -> None:
    check_shipped(load_config(ROOT / "config.yaml", adapter_loader=fake_loader))


@pytest.mark.skipif(
    importlib.util.find_spec("sportello_demo.adapter") is None,
    reason="the demo adapter is not installed",
)
def test_shipped_config_with_the_installed_demo_adapter() -> None:
    config = load_config(ROOT / "config.yaml")
    check_shipped(config)
    assert check_config(ROOT / "config.yaml") == []


# ── broken files: every problem at once, each on one line ─────────────────────


def test_every_problem_is_reported_at_once_in_line_order(tmp_path: Path) -> None:
    text = """\
        business:
          name: Shop
          timezone: Mars/Olympus
          hours: {mon: [09:00-17:00]}
        channels:
          - id: mail
            adapter: fakemail
            expectation: soon
            options:
              host: imap.example.it
              password: ${env:X}
              port: many
          - id: chat
            adapter: bare
            poll_interval: 0s
        """
    problems = problems_of(tmp_path, text)
    path = tmp_path / "config.yaml"
    assert [str(problem) for problem in problems] == [
        f"{path}:3: business · timezone: unknown time zone 'Mars/Olympus', such as Europe/Rome",
        f"{path}:8: channel 'mail' · expectation: "
        "expected a duration such as 5m, 4h or 1h30m, got 'soon'",
        f"{path}:12: channel 'mail' · options.port: expected a whole number, got text",
        f"{path}:15: channel 'chat' · poll_interval: must be at least 1s",
    ]
    assert problems[1] == Problem(
        path,
        8,
        "channel 'mail' · expectation",
        "expected a duration such as 5m, 4h or 1h30m, got 'soon'",
    )
    error = ConfigError(problems)
    assert str(error).splitlines() == [str(problem) for problem in problems]


def test_problems_are_sorted_by_line(tmp_path: Path) -> None:
    text = """\
        business:
          name: Shop
          hours: {mon: [09:00-08:00]}
          holidays: [13-13]
        channels:
          - id: chat
            adapter: nope
            adapter: bare
        """
    lines = [problem.line for problem in problems_of(tmp_path, text)]
    assert lines == [3, 4, 7, 8], lines  # 7: nope is not installed; 8: duplicate key


def test_problem_str_without_file_or_line() -> None:
    assert str(Problem(None, None, "", "nothing found")) == "nothing found"
    assert str(Problem(Path("c.yaml"), None, "", "no such file")) == "c.yaml: no such file"
    assert str(Problem(None, 3, "keys · x", "bad")) == "line 3: keys · x: bad"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("channnels: []\n", ":7: channnels: unknown key 'channnels' — did you mean 'channels'?"),
        (
            "zzz: 1\n",
            "unknown key 'zzz'; expected business, store, dashboard, keys, team, read_only,"
            " channels",
        ),
        (
            "dashboard: {gap_wran: 5m}\n",
            "dashboard · gap_wran: unknown key 'gap_wran' — did you mean 'gap_warn'?",
        ),
        ("store: {retention: 3}\n", "did you mean 'retention_days'?"),
    ],
)
def test_unknown_top_level_keys_get_did_you_mean(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in one_problem(tmp_path, MINIMAL + text)


def test_unknown_business_and_channel_keys_get_did_you_mean(tmp_path: Path) -> None:
    text = MINIMAL.replace("  name: Shop", "  name: Shop\n  timezon: Europe/Rome")
    assert "business · timezon: unknown key 'timezon' — did you mean 'timezone'?" in one_problem(
        tmp_path, text
    )
    text = MINIMAL + "    pol_interval: 5s\n"
    assert ":7: channel 'chat' · pol_interval: unknown key 'pol_interval' — did you mean " in (
        one_problem(tmp_path, text)
    )


def test_unknown_options_get_did_you_mean(tmp_path: Path) -> None:
    text = with_channel("""\
        id: mail
        adapter: fakemail
        options:
          host: h
          password: ${env:P}
          fodler: Spam
          colour: red
        """)
    lines = lines_of(tmp_path, text)
    assert len(lines) == 2
    assert (
        "channel 'mail' · options.fodler: unknown option 'fodler' — did you mean 'folder'?"
        in (lines[0])
    )
    assert "options.colour: unknown option 'colour'; it takes host, port, folder, idle" in lines[1]
    bare = with_channel("id: chat\nadapter: bare\noptions: {x: 1}")
    assert "the bare adapter takes no options" in one_problem(tmp_path, bare)


def test_required_options_and_option_types(tmp_path: Path) -> None:
    text = with_channel("""\
        id: mail
        adapter: fakemail
        options:
          port: 0
          mode: turbo
          idle: later
        """)
    found = "\n".join(lines_of(tmp_path, text))
    assert len(found.splitlines()) == 5, found
    assert "options.host: missing; the fakemail adapter requires it (the IMAP server)" in found
    assert "options.password: missing; the fakemail adapter requires it" in found
    assert "options.port: must be at least 1" in found
    assert "options.mode: must be one of fast, slow" in found
    assert "options.idle: expected a duration" in found


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ("  name: Shop", "  name: [a]", "business · name: expected text, got a list"),
        ("  name: Shop", "  name:", "business · name: expected text, got nothing"),
        ("  name: Shop", "  name: 12", "business · name: expected text, got a number"),
        ("  name: Shop\n", "", "business · name: missing (required)"),
        (
            "  hours: {mon: [09:00-17:00]}",
            "  hours: [09:00-17:00]",
            "business · hours: expected a mapping of weekday to hours, got a list",
        ),
        (
            "  hours: {mon: [09:00-17:00]}",
            "  hours: {mon: 9}",
            "business · hours.mon: expected a list of spans such as 09:00-13:00, got a number",
        ),
        (
            "  hours: {mon: [09:00-17:00]}",
            "  hours: {mon: [9]}",
            "business · hours.mon: expected a span such as 09:00-13:00, got a number",
        ),
        ("  hours: {mon: [09:00-17:00]}\n", "", "business · hours: missing (required)"),
        (
            "business:\n  name: Shop\n  hours: {mon: [09:00-17:00]}\n",
            "",
            "business: missing (required)",
        ),
        ("business:\n", "business: Shop\nx:\n", "business: expected a mapping, got text"),
        (
            "    adapter: bare",
            "    adapter: bare\n    enabled: 'no'",
            "channel 'chat' · enabled: expected true or false, got text",
        ),
        ("    adapter: bare", "    adapter: 7", "channel 'chat' · adapter: expected text"),
        (
            "    adapter: bare",
            "    adapter: bare\n    label: {a: 1}",
            "channel 'chat' · label: expected text, got a mapping",
        ),
        (
            "    adapter: bare",
            "    adapter: bare\n    expectation: 0s",
            "channel 'chat' · expectation: must be at least 1s",
        ),
        (
            "    adapter: bare",
            "    adapter: bare\n    timeout: true",
            "channel 'chat' · timeout: expected a duration such as 5m or 4h, got",
        ),
        (
            "    adapter: bare",
            "    adapter: bare\n    hours: always",
            "channel 'chat' · hours: expected business, 24/7 or a mapping of weekday to hours, "
            "got 'always'",
        ),
        (
            "    adapter: bare",
            "    adapter: bare\n    options: [a]",
            "channel 'chat' · options: expected a mapping, got a list",
        ),
        ("  - id: chat\n", "  - ID: chat\n", "channel #1 · id: missing (required)"),
        (
            "  - id: chat\n",
            "  - id: Chat Room\n",
            "channel #1 · id: 'Chat Room' must be 1 to 64 of a-z, 0-9, _ and -",
        ),
        ("    adapter: bare\n", "", "channel 'chat' · adapter: missing (required)"),
        (
            "  - id: chat\n    adapter: bare\n",
            "  - chat\n",
            "channel #1: expected a mapping with id:, adapter: …, got text",
        ),
        (
            "  - id: chat\n    adapter: bare\n",
            "  []\n",
            "channels: expected a list of channels (- id: email …), got an empty list",
        ),
        (
            "  - id: chat\n    adapter: bare\n",
            "  {chat: bare}\n",
            "channels: expected a list of channels (- id: email …), got a mapping",
        ),
        ("channels:\n  - id: chat\n    adapter: bare\n", "", "channels: missing (required)"),
    ],
)
def test_wrong_types_and_missing_values(
    tmp_path: Path, replace: str, by: str, expected: str
) -> None:
    assert replace in MINIMAL
    lines = lines_of(tmp_path, MINIMAL.replace(replace, by))
    assert any(expected in line for line in lines), lines
    assert all("Traceback" not in line for line in lines)


def test_dashboard_thresholds_and_keys(tmp_path: Path) -> None:
    text = MINIMAL + textwrap.dedent("""\
        dashboard:
          gap_warn: 80%
          gap_critical: 20%
          mask_personal_data: 1
        keys:
          dashboard.sort: 5
          app.quit: ""
        """)
    lines = lines_of(tmp_path, text)
    assert len(lines) == 4
    assert ":8: dashboard · gap_warn: must not be larger than gap_critical" in lines[0]
    assert "dashboard · mask_personal_data: expected true or false, got a number" in lines[1]
    assert "keys · dashboard.sort: expected a key such as ctrl+r, got a number" in lines[2]
    assert "keys · app.quit: expected a key such as ctrl+r, got nothing" in lines[3]
    for bad in ("-5%", "lots%", "soon"):
        message = one_problem(tmp_path, MINIMAL + f"dashboard: {{gap_critical: '{bad}'}}\n")
        assert "dashboard · gap_critical: expected a duration such as 30m or a share" in message


def test_hours_problems(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "  hours: {mon: [09:00-17:00]}",
        textwrap.indent(
            textwrap.dedent("""\
              hours:
                mon: [09:00-13:00, 12:30-15:00]
                tue: [22:00-02:00]
                wed: [25:00-26:00]
                lun: [09:00-13:00]
                monday: [09:00-13:00]
                thu: [9.30-12]
                fri:
                  - 09:00-13:00
                  - 14:00-13:00
            """).rstrip(),
            "  ",
        ),
    )
    lines = lines_of(tmp_path, text)
    assert len(lines) == 7, lines
    assert "business · hours.mon: 09:00-13:00 and 12:30-15:00 overlap" in lines[0]
    assert (
        "hours.tue: '22:00-02:00' ends before it starts; a span across midnight is two"
        in (lines[1])
    )
    assert "hours.wed: '25:00-26:00' is not a time of day (00:00 to 24:00)" in lines[2]
    assert "hours.lun: unknown weekday 'lun' — weekdays are written in English: 'mon'" in lines[3]
    assert "hours.monday: unknown weekday 'monday' — did you mean 'mon'?" in lines[4]
    assert "hours.thu: expected a span such as 09:00-13:00, got '9.30-12'" in lines[5]
    assert lines[6].startswith(
        f"{tmp_path / 'config.yaml'}:12: business · hours.fri: '14:00-13:00'"
    )


def test_own_channel_hours_are_checked(tmp_path: Path) -> None:
    text = with_channel("id: chat\nadapter: bare\nhours: {sun: [10:00-09:00]}")
    assert "channel 'chat' · hours.sun: '10:00-09:00' ends before it starts" in one_problem(
        tmp_path, text
    )


def test_holiday_problems(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "  hours:",
        "  holidays:\n    - 2025-02-30\n    - 13-01\n    - 2025-12-25 10:00:00\n"
        "    - Christmas\n    - 12-25\n  hours:",
    )
    lines = lines_of(tmp_path, text)
    assert len(lines) == 4, lines
    assert ":4: business · holidays: '2025-02-30' is not a date in the calendar" in lines[0]
    assert ":5: business · holidays: '13-01' is not a day of the year (MM-DD)" in lines[1]
    assert (
        ":6: business · holidays: a holiday is a day: write 2025-08-15, without a time"
        in (lines[2])
    )
    assert (
        ":7: business · holidays: expected a date such as 2025-08-15 or 12-25, got 'Christmas'"
        in (lines[3])
    )
    assert "holidays: expected a list of dates" in one_problem(
        tmp_path, MINIMAL.replace("  hours:", "  holidays: 12-25\n  hours:")
    )


def test_timezone_did_you_mean(tmp_path: Path) -> None:
    for wrong in ("Europe/Rom", "europe/rome"):
        text = MINIMAL.replace("  name: Shop", f"  name: Shop\n  timezone: {wrong}")
        assert (
            f"business · timezone: unknown time zone '{wrong}' — did you mean 'Europe/Rome'?"
            in (one_problem(tmp_path, text))
        )
    text = MINIMAL.replace("  name: Shop", "  name: Shop\n  timezone: ../../etc/passwd")
    assert "unknown time zone '../../etc/passwd'" in one_problem(tmp_path, text)


def test_duplicate_and_bad_channel_ids(tmp_path: Path) -> None:
    text = MINIMAL + "  - id: chat\n    adapter: bare\n"
    assert ":7: channel #2 · id: 'chat' is already the id of the channel at line 5" in (
        one_problem(tmp_path, text)
    )


def test_duplicate_keys_are_reported(tmp_path: Path) -> None:
    text = MINIMAL + "    adapter: bare\n"
    assert ":7: duplicate key 'adapter' (first at line 6)" in one_problem(tmp_path, text)


def test_adapter_not_installed_names_the_channel(tmp_path: Path) -> None:
    text = MINIMAL.replace("adapter: bare", "adapter: imap")
    assert ":6: channel 'chat' · adapter: no adapter named 'imap' is installed" in (
        one_problem(tmp_path, text)
    )


def test_adapter_that_fails_to_load_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    def broken(name: str) -> type[Adapter]:
        raise RuntimeError("plug-in exploded")

    path = write(tmp_path, MINIMAL)
    with pytest.raises(ConfigError) as caught:
        load_config(path, adapter_loader=broken)
    assert "channel 'chat' · adapter: plug-in exploded" in str(caught.value)


def test_adapter_did_you_mean_uses_the_registry(tmp_path: Path) -> None:
    # "demo" is registered through the package's entry points
    text = MINIMAL.replace("adapter: bare", "adapter: dmeo")
    assert "did you mean 'demo'?" in one_problem(tmp_path, text)


# ── secrets in the file ────────────────────────────────────────────────────────


def mail_channel(password: str) -> str:
    return with_channel(f"""\
        id: shop-mail
        adapter: fakemail
        options:
          host: imap.example.it
          password: {password}
        """)


@pytest.mark.parametrize("literal", [SECRET, f"'{SECRET}'", "123456789", "[a, b]", "''"])
def test_literal_secret_is_refused_without_repeating_it(tmp_path: Path, literal: str) -> None:
    message = one_problem(tmp_path, mail_channel(literal))
    assert message.endswith(
        "channel 'shop-mail' · options.password: is a secret: write a reference such as "
        "${env:SPORTELLO_SHOP_MAIL_PASSWORD}, not the value"
    )
    assert SECRET not in message and "123456789" not in message


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("'${vault:x}'", "unknown reference kind 'vault': use env, keyring or file"),
        ("'${env:MY-VAR}'", "${env:NAME} needs a variable name of letters, digits and _"),
        ("'${keyring:service}'", "${keyring:service/user} needs both a service and a user"),
        ("'${keyring:/user}'", "${keyring:service/user} needs both a service and a user"),
        ("'${env:}'", "is not a reference"),
        ("'${env:X'", "is not a reference"),
        ("'${env:X} tail'", "is not a reference"),
    ],
)
def test_malformed_references(tmp_path: Path, reference: str, expected: str) -> None:
    message = one_problem(tmp_path, mail_channel(reference))
    assert "channel 'shop-mail' · options.password: " + expected in message
    assert "tail" not in message


@pytest.mark.parametrize(
    ("reference", "ref"),
    [
        ("${env:SHOP_PASS}", SecretRef("env", "SHOP_PASS")),
        ('"${keyring:sportello/shop-mail}"', SecretRef("keyring", "sportello/shop-mail")),
        ("${file:~/.config/sportello/pw}", SecretRef("file", "~/.config/sportello/pw")),
        ("${file:/etc/sportello/pw}", SecretRef("file", "/etc/sportello/pw")),
    ],
)
def test_references_are_kept_unresolved(tmp_path: Path, reference: str, ref: SecretRef) -> None:
    assert load(tmp_path, mail_channel(reference)).channels[0].options["password"] == ref


def test_relative_file_reference_is_relative_to_the_config(tmp_path: Path) -> None:
    options = load(tmp_path, mail_channel("${file:secrets/pw}")).channels[0].options
    assert options["password"] == SecretRef("file", str(tmp_path / "secrets" / "pw"))


def test_reference_in_a_plain_option_is_refused(tmp_path: Path) -> None:
    text = mail_channel("${env:P}").replace("host: imap.example.it", "host: ${env:HOST}")
    assert "options.host: only secret options read ${…} references" in one_problem(tmp_path, text)


# ── broken and hostile files ───────────────────────────────────────────────────


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path, adapter_loader=fake_loader)
    assert str(caught.value) == f"{path}: no such file"


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a folder, not a config file"):
        load_config(tmp_path, adapter_loader=fake_loader)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, MINIMAL)

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)  # chmod 0 does not stop root
    with pytest.raises(ConfigError) as caught:
        load_config(path, adapter_loader=fake_loader)
    assert str(caught.value) == f"{path}: cannot read the file: permission denied"


def test_fifo_is_not_read(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="is not a regular file"):
        load_config(fifo, adapter_loader=fake_loader)  # would block forever if opened


@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n", "---\n", "~\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    assert one_problem(tmp_path, text).endswith(
        "config.yaml: the file is empty; it needs at least business: and channels:"
    )


@pytest.mark.parametrize(
    ("text", "got"),
    [("- a\n- b\n", "a list"), ("hello\n", "text"), ("42\n", "a number"), ("2025-01-01", "date")],
)
def test_file_that_is_not_a_mapping(tmp_path: Path, text: str, got: str) -> None:
    assert one_problem(tmp_path, text).endswith(
        f"config.yaml:1: expected a mapping with business:, channels: …, got {got}"
    )


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("business:\n  name: [Shop\nchannels: []\n", 3, "YAML syntax error: while parsing a flow"),
        ("business:\n  name: Shop\n   x: 1\n", 3, "YAML syntax error: mapping values are not"),
        ("business:\n\tname: Shop\n", 2, "(indent with spaces, not tabs)"),
        ("a: 1\n---\nb: 2\n", 2, "expected a single document in the stream"),
        ("a: *nothing\n", 1, "found undefined alias 'nothing'"),
        ("a: 'open\n", 2, "while scanning a quoted scalar"),
    ],
)
def test_yaml_syntax_errors_give_the_line(
    tmp_path: Path, text: str, line: int, expected: str
) -> None:
    message = one_problem(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'config.yaml'}:{line}: YAML syntax error")
    assert expected in message


def test_non_utf8_bytes_give_the_line(tmp_path: Path) -> None:
    data = MINIMAL.replace("Shop", "Caff\xe8").encode("latin-1")
    assert one_problem(tmp_path, data).endswith(
        "config.yaml:2: the file is not valid UTF-8 text (byte 0xe8); save it as UTF-8"
    )


def test_utf16_file(tmp_path: Path) -> None:
    assert "UTF-16" in one_problem(tmp_path, MINIMAL.encode("utf-16"))


def test_control_characters_are_refused(tmp_path: Path) -> None:
    message = one_problem(tmp_path, b"business:\n  name: a\x1b[31mred\n")
    assert "config.yaml:2: the file contains the control character U+001B" in message


def test_escapes_written_in_yaml_are_shown_inert(tmp_path: Path) -> None:
    message = one_problem(tmp_path, MINIMAL + '"\\e[2Jwipe": 1\n')
    assert "\x1b" not in message and "\\x1b[2Jwipe" in message


def test_file_too_large(tmp_path: Path) -> None:
    data = MINIMAL.encode() + b"#" * (2 * 1024 * 1024)
    assert "is too large for a config file" in one_problem(tmp_path, data)


def test_python_tags_are_refused_and_never_run(tmp_path: Path) -> None:
    canary = tmp_path / "pwned"
    text = MINIMAL + f"x: !!python/object/apply:os.system ['touch {canary}']\n"
    message = one_problem(tmp_path, text)
    assert "config.yaml:7: the tag !!python/object/apply:os.system is not allowed" in message
    assert not canary.exists()


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!python/name:os.system", "!!python/name:os.system"),
        ("!!python/object:collections.OrderedDict {}", "!!python/object:collections.OrderedDict"),
        ("!!set {a, b}", "!!set"),
        ("!!omap [a: 1]", "!!omap"),
        ("!!binary aGVsbG8=", "!!binary"),
        ("!custom thing", "!custom"),
    ],
)
def test_other_tags_are_refused(tmp_path: Path, value: str, tag: str) -> None:
    message = one_problem(tmp_path, MINIMAL.replace("name: Shop", f"name: {value}"))
    assert f"config.yaml:2: the tag {tag} is not allowed" in message


def test_billion_laughs_is_refused_quickly(tmp_path: Path) -> None:
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        rows.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    started = clock.monotonic()
    message = one_problem(tmp_path, "\n".join(rows) + "\n")
    assert clock.monotonic() - started < 2
    assert "too large once its aliases are expanded" in message


def test_alias_expansion_is_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_lines, "MAX_VALUES", 60)
    text = "a: &a [" + ", ".join(["x"] * 20) + "]\nb: [*a, *a]\n"
    assert "too large once its aliases are expanded" in one_problem(tmp_path, text)
    small = lines_of(tmp_path, "a: &a [x, y]\nb: [*a, *a]\n")  # under the limit: read, then checked
    assert not any("too large" in line for line in small) and "unknown key 'a'" in small[0]


def test_too_many_aliases_are_refused(tmp_path: Path) -> None:
    text = "a: &a x\nb: [" + ", ".join(["*a"] * 101) + "]\n"
    assert "config.yaml:2: too many aliases (more than 100" in one_problem(tmp_path, text)


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    assert "an alias refers to a value that contains it" in one_problem(tmp_path, "a: &a [*a]\n")


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    assert "nested too deeply" in one_problem(tmp_path, "a: " + "[" * 5000 + "]" * 5000 + "\n")


def test_complex_keys_are_refused(tmp_path: Path) -> None:
    assert "a key must be plain text" in one_problem(tmp_path, "? [a, b]\n: 1\n")


# ── finding the file ───────────────────────────────────────────────────────────


@pytest.fixture
def places(tmp_path: Path) -> tuple[Path, Path]:
    cwd, user = tmp_path / "cwd", tmp_path / "user"
    cwd.mkdir()
    user.mkdir()
    return cwd, user


def test_find_config_order(tmp_path: Path, places: tuple[Path, Path]) -> None:
    cwd, user = places
    explicit = write(tmp_path, MINIMAL, "explicit.yaml")
    named = write(tmp_path, MINIMAL, "named.yaml")
    local = write(cwd, MINIMAL)
    in_user = write(user, MINIMAL)
    env = {"SPORTELLO_CONFIG": str(named)}
    assert find_config(explicit, env, cwd, user_dir=user) == explicit
    assert find_config(None, env, cwd, user_dir=user) == named
    assert find_config(None, {}, cwd, user_dir=user) == local
    local.unlink()
    assert find_config(None, {"SPORTELLO_CONFIG": " "}, cwd, user_dir=user) == in_user


def test_find_config_relative_paths_start_at_cwd(places: tuple[Path, Path]) -> None:
    cwd, user = places
    write(cwd, MINIMAL, "mine.yaml")
    assert find_config(Path("mine.yaml"), {}, cwd, user_dir=user) == cwd / "mine.yaml"
    env = {"SPORTELLO_CONFIG": "mine.yaml"}
    assert find_config(None, env, cwd, user_dir=user) == cwd / "mine.yaml"


def test_find_config_defaults_to_the_platform_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platformdirs, "user_config_path", lambda app: tmp_path / "cfg" / app)
    user = tmp_path / "cfg" / "sportello"
    user.mkdir(parents=True)
    write(user, MINIMAL)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert find_config(None, {}, elsewhere) == user / "config.yaml"


def test_an_explicit_path_that_is_missing_does_not_fall_back(places: tuple[Path, Path]) -> None:
    cwd, user = places
    write(cwd, MINIMAL)
    with pytest.raises(ConfigError) as caught:
        find_config(Path("typo.yaml"), {}, cwd, user_dir=user)
    assert str(caught.value) == "typo.yaml: no such file (given with --config)"
    with pytest.raises(ConfigError) as caught:
        find_config(None, {"SPORTELLO_CONFIG": "/nowhere.yaml"}, cwd, user_dir=user)
    assert str(caught.value) == "/nowhere.yaml: no such file (named by $SPORTELLO_CONFIG)"


def test_nothing_found_lists_every_place(places: tuple[Path, Path]) -> None:
    cwd, user = places
    with pytest.raises(ConfigError) as caught:
        find_config(None, {}, cwd, user_dir=user)
    message = str(caught.value)
    assert message.startswith("no config file found: no --config, no $SPORTELLO_CONFIG")
    assert str(cwd / "config.yaml") in message and str(user / "config.yaml") in message


# ── check_config: secrets that cannot be resolved ──────────────────────────────


def check(path: Path, env: dict[str, str]) -> list[str]:
    return [str(p) for p in check_config(path, adapter_loader=fake_loader, env=env)]


def test_check_config_of_a_good_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert check(path, {"SHOP_MAIL_PASSWORD": SECRET}) == []


def test_check_config_reports_unresolvable_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    assert check(path, {}) == [
        f"{path}:37: channel 'mail' · options.password: "
        "cannot resolve ${env:SHOP_MAIL_PASSWORD}: "
        "the environment variable SHOP_MAIL_PASSWORD is not set"
    ]


def test_check_config_file_secret_permissions(tmp_path: Path) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text(SECRET + "\n")
    secret_file.chmod(0o644)
    path = write(tmp_path, mail_channel("${file:pw}"))
    [message] = check(path, {})
    assert "options.password: cannot resolve ${file:" in message and "chmod 600" in message
    assert SECRET not in message
    secret_file.chmod(0o600)
    assert check(path, {}) == []


def test_check_config_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    stored = {("sportello", "shop-mail"): SECRET}
    monkeypatch.setattr(keyring, "get_password", lambda s, u: stored.get((s, u)))
    path = write(tmp_path, mail_channel("${keyring:sportello/shop-mail}"))
    assert check(path, {}) == []
    stored.clear()
    [message] = check(path, {})
    assert "cannot resolve ${keyring:sportello/shop-mail}: no entry in the keyring" in message


def test_check_config_returns_load_problems_too(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("bare", "nope"))
    [message] = check(path, {})
    assert "channel 'chat' · adapter: no adapter named 'nope'" in message


# ── issue 6: every number true, every key honest ───────────────────────────────


@pytest.mark.parametrize("value", ["5", "0", "'5'", "90", "1.5"])
@pytest.mark.parametrize("key", ["expectation", "poll_interval", "timeout"])
def test_a_bare_number_is_not_a_duration(tmp_path: Path, key: str, value: str) -> None:
    message = one_problem(tmp_path, with_channel(f"id: chat\nadapter: bare\n{key}: {value}"))
    assert f"channel 'chat' · {key}: " in message
    number = value.strip("'")
    if number == "0":
        assert "0 has no unit: write 0m or 0s" in message
    else:
        assert f"{number} has no unit: write 5m, 4h or 1h30m" in message


@pytest.mark.parametrize("key", ["gap_warn", "gap_critical"])
def test_a_bare_number_is_not_a_gap_threshold(tmp_path: Path, key: str) -> None:
    message = one_problem(tmp_path, MINIMAL + f"dashboard: {{{key}: 30}}\n")
    assert f"dashboard · {key}: 30 has no unit: write 5m, 4h or 1h30m" in message
    assert "or a share of the expectation such as 50%" in message


def test_a_bare_number_is_not_a_duration_option(tmp_path: Path) -> None:
    text = with_channel(
        "id: mail\nadapter: fakemail\noptions: {host: h, password: '${env:P}', idle: 90}"
    )
    assert "options.idle: 90 has no unit" in one_problem(tmp_path, text)


def test_durations_with_units_still_read(tmp_path: Path) -> None:
    text = with_channel("id: chat\nadapter: bare\nexpectation: 0m\npoll_interval: 5s")
    assert "must be at least 1s" in one_problem(tmp_path, text)  # 0m read, then refused
    config = load(tmp_path, with_channel("id: chat\nadapter: bare\nexpectation: 1h30m"))
    assert config.channels[0].expectation == timedelta(minutes=90)


def test_a_day_month_holiday_gets_a_did_you_mean(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "  hours:",
        "  holidays:\n    - 25-12\n    - 2026-25-12\n    - 25/12/2026\n    - 05-06\n  hours:",
    )
    lines = lines_of(tmp_path, text)
    assert len(lines) == 3, lines
    assert ":4: business · holidays: '25-12' is not a day of the year (MM-DD); " in lines[0]
    assert lines[0].endswith("did you mean 12-25?")
    assert lines[1].endswith("did you mean 2026-12-25?")
    assert "year first (YYYY-MM-DD); did you mean 2026-12-25?" in lines[2]
    # the ambiguous one is read as documented, month first: the 6th of May
    config = load(tmp_path, MINIMAL.replace("  hours:", "  holidays: [05-06]\n  hours:"))
    assert date(2026, 5, 6) in config.business.holidays
    assert date(2026, 6, 5) not in config.business.holidays


def test_two_configs_have_two_default_stores(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "test").mkdir()
    shop = load_config(write(tmp_path / "shop", MINIMAL), adapter_loader=fake_loader)
    test = load_config(write(tmp_path / "test", MINIMAL), adapter_loader=fake_loader)
    assert shop.store_path != test.store_path
    assert (
        shop.store_path.parent == test.store_path.parent == platformdirs.user_data_path("sportello")
    )
    assert shop.store_path.name.startswith("config-") and shop.store_path.suffix == ".db"
    again = load_config(tmp_path / "shop" / "config.yaml", adapter_loader=fake_loader)
    assert again.store_path == shop.store_path  # stable
    # the same store only when both name it
    shared = MINIMAL + f"store: {{path: {tmp_path / 'one.db'}}}\n"
    one = load_config(write(tmp_path / "shop", shared), adapter_loader=fake_loader)
    two = load_config(write(tmp_path / "test", shared), adapter_loader=fake_loader)
    assert one.store_path == two.store_path == tmp_path / "one.db"


def test_a_store_path_that_is_a_folder_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    message = one_problem(tmp_path, MINIMAL + "store:\n  retention_days: 9\n  path: data\n")
    assert message.startswith(f"{tmp_path / 'config.yaml'}:9: store · path: ")
    assert "is a folder" in message


def test_a_store_path_that_cannot_be_created_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("not a folder", encoding="utf-8")
    message = one_problem(tmp_path, MINIMAL + "store:\n  path: file.txt/sub/shop.db\n")
    assert message.startswith(f"{tmp_path / 'config.yaml'}:8: store · path: ")
    assert "cannot be created" in message and "is a file, not a folder" in message
    assert check_config(write(tmp_path, MINIMAL + "store: {path: file.txt/db}\n"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_store_path_in_a_read_only_folder_is_a_problem(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        message = one_problem(tmp_path, MINIMAL + "store: {path: locked/new/shop.db}\n")
        assert "no permission to write in" in message
    finally:
        locked.chmod(0o700)


def test_unknown_key_ids_are_problems(tmp_path: Path) -> None:
    text = MINIMAL + "keys:\n  dashboard.sortt: s\n  quit: ctrl+q\n"
    lines = lines_of(tmp_path, text)
    assert len(lines) == 2, lines
    assert ":8: keys · dashboard.sortt: unknown key id 'dashboard.sortt'" in lines[0]
    assert "did you mean 'dashboard.sort'?" in lines[0]
    assert ":9: keys · quit: unknown key id 'quit'" in lines[1]


def test_a_key_taken_from_another_binding_is_a_problem(tmp_path: Path) -> None:
    message = one_problem(tmp_path, MINIMAL + "keys:\n  dashboard.filter: q\n")
    assert message.startswith(f"{tmp_path / 'config.yaml'}:8: keys · dashboard.filter: ")
    assert "'q' is also app.quit, which has it by default" in message


def test_two_remapped_bindings_sharing_a_key_are_one_problem(tmp_path: Path) -> None:
    text = MINIMAL + "keys:\n  app.pause: x\n  queue.open: X, x\n"
    message = one_problem(tmp_path, text)
    assert ":9: keys · queue.open: 'x' is also app.pause (line 8)" in message


@pytest.mark.parametrize(
    ("keys", "clash"),
    [
        ("queue.down: n\n  channels.down: n", None),  # siblings: never active together
        ("queue.last: end,g", "'g' is also queue.first"),  # same scope
        ("dashboard.sort: g", "'g' is also queue.first"),  # a parent and its child
        ("dashboard.sort: J", None),  # J is not j
        ("conversation.back: escape,q", None),  # the default shadowing of quit, as shipped
        ("app.quit: x\n  dashboard.filter: q", None),  # q freed first
    ],
)
def test_which_remapped_keys_clash(tmp_path: Path, keys: str, clash: str | None) -> None:
    text = MINIMAL + f"keys:\n  {keys}\n"
    if clash is None:
        load(tmp_path, text)
    else:
        assert clash in one_problem(tmp_path, text)


def test_punctuation_keys_clash_by_their_textual_name(tmp_path: Path) -> None:
    message = one_problem(tmp_path, MINIMAL + "keys:\n  queue.open: /\n")
    assert "keys · queue.open: 'slash' is also dashboard.filter" in message


def test_an_adapter_not_installed_lists_the_installed_ones(tmp_path: Path) -> None:
    text = MINIMAL.replace("adapter: bare", "adapter: imap")
    message = one_problem(tmp_path, text)
    assert "no adapter named 'imap' is installed (installed: demo;" in message
    assert "sportello adapters lists them" in message
    close = one_problem(tmp_path, MINIMAL.replace("adapter: bare", "adapter: dmeo"))
    assert "did you mean 'demo'? (installed: demo;" in close


class Ranged(DeclarationOnly):
    name = "ranged"
    options = (
        Option("share", OptionType.FLOAT, default=0.0, minimum=0, maximum=1),
        Option("every", OptionType.DURATION, default=timedelta(minutes=1), maximum=3600),
    )


def test_an_option_out_of_its_declared_range_is_a_problem(tmp_path: Path) -> None:
    path = write(tmp_path, with_channel("id: r\nadapter: ranged\noptions:\n  share: 2"))
    problems = check_config(path, adapter_loader={"ranged": Ranged}.__getitem__)
    assert [str(problem) for problem in problems] == [
        f"{path}:8: channel 'r' · options.share: must be between 0 and 1, got 2"
    ]
    path = write(tmp_path, with_channel("id: r\nadapter: ranged\noptions:\n  every: 2h"))
    problems = check_config(path, adapter_loader={"ranged": Ranged}.__getitem__)
    assert [problem.message for problem in problems] == ["must be at most 1h00m, got 2h00m"]


# ── team, read_only, undo_window ──────────────────────────────────────────────


def test_team_takes_names_and_logins(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        MINIMAL + "team:\n  - Anna\n  - {name: Marco Bianchi, user: marco}\n"
        "  - name: '  Giulia  '\n    user: giulia.v\n",
    )
    assert config.team == (
        Person("Anna"),
        Person("Marco Bianchi", "marco"),
        Person("Giulia", "giulia.v"),
    )
    assert config.read_only is False


def test_no_team_and_an_empty_team(tmp_path: Path) -> None:
    assert load(tmp_path, MINIMAL).team == ()
    assert load(tmp_path, MINIMAL + "team:\n").team == ()  # every name commented out
    assert load(tmp_path, MINIMAL + "team: []\n").team == ()


def test_team_names_are_unique_ignoring_case(tmp_path: Path) -> None:
    text = MINIMAL + "team:\n  - Anna\n  - Marco\n  - anna\n"
    message = one_problem(tmp_path, text)
    assert message.endswith(
        "config.yaml:10: team #3: 'anna' is already in the team (line 8); "
        "names must differ, ignoring capitals"
    )


def test_team_logins_are_unique(tmp_path: Path) -> None:
    text = MINIMAL + "team:\n  - {name: Anna, user: anna}\n  - {name: Anna B, user: anna}\n"
    message = one_problem(tmp_path, text)
    assert "config.yaml:9: team #2 · user: the login 'anna' is already someone's (line 8)" in (
        message
    )


@pytest.mark.parametrize(
    ("entry", "line", "expected"),
    [
        ("- ''", 8, "team #1: a name cannot be empty"),
        ("- 42", 8, "team #1: expected a name or {name: …, user: …}, got a number"),
        ("- [Anna]", 8, "team #1: expected a name or {name: …, user: …}, got a list"),
        ("- " + "A" * 61, 8, "team #1: a name of at most 60 characters, got 61"),
        ('- "Anna\\u0007"', 8, "team #1: 'Anna\\x07' contains a control character"),
        ("- {user: anna}", 8, "team #1 · name: missing (required)"),
        ("- {name: '', user: anna}", 8, "team #1 · name: a name cannot be empty"),
        ("- {name: 7}", 8, "team #1 · name: expected text, got a number"),
        ("- {name: Anna, user: 'anna rossi'}", 8, "team #1 · user: expected a login"),
        ("- {name: Anna, user: 12}", 8, "team #1 · user: expected a login"),
        ("- Anna: anna", 8, "team #1: unknown key 'Anna'; write - {name: Anna, user: …}"),
        (
            "- name: Anna\n    usr: anna",
            9,
            "team #1 · usr: unknown key 'usr' — did you mean 'user'?",
        ),
    ],
)
def test_a_bad_team_entry_names_its_line(
    tmp_path: Path, entry: str, line: int, expected: str
) -> None:
    message = one_problem(tmp_path, MINIMAL + f"team:\n  {entry}\n")
    assert f"config.yaml:{line}: {expected}" in message


def test_team_must_be_a_list(tmp_path: Path) -> None:
    message = one_problem(tmp_path, MINIMAL + "team: Anna, Marco\n")
    assert "config.yaml:7: team: expected a list of people such as - Anna" in message


def test_team_is_bounded(tmp_path: Path) -> None:
    names = "".join(f"  - Person {i}\n" for i in range(201))
    message = one_problem(tmp_path, MINIMAL + "team:\n" + names)
    assert "team: at most 200 people, got 201" in message


def test_every_team_problem_at_once(tmp_path: Path) -> None:
    text = MINIMAL + "team:\n  - ''\n  - Anna\n  - {name: Bob, usr: bob}\n  - ANNA\n"
    lines = lines_of(tmp_path, text)
    assert [line.split(": ")[0].rsplit(":", 1)[1] for line in lines] == ["8", "10", "11"]


def test_a_misspelt_team_gets_a_did_you_mean(tmp_path: Path) -> None:
    message = one_problem(tmp_path, MINIMAL + "teams:\n  - Anna\n")
    assert "config.yaml:7: teams: unknown key 'teams' — did you mean 'team'?" in message


def test_read_only(tmp_path: Path) -> None:
    assert load(tmp_path, MINIMAL + "read_only: true\n").read_only is True
    assert load(tmp_path, MINIMAL + "read_only: false\n").read_only is False
    message = one_problem(tmp_path, MINIMAL + "read_only: yes please\n")
    assert "config.yaml:7: read_only: expected true or false, got text" in message
    message = one_problem(tmp_path, MINIMAL + "readonly: true\n")
    assert "unknown key 'readonly' — did you mean 'read_only'?" in message


def test_undo_window_is_a_duration_of_the_channel(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        with_channel("id: chat\nadapter: bare\nundo_window: 20s")
        + "  - id: mail\n    adapter: bare\n    undo_window: 0s\n"
        + "  - id: other\n    adapter: bare\n",
    )
    assert [channel.undo_window for channel in config.channels] == [
        timedelta(seconds=20),
        timedelta(0),
        None,  # the default of its kind
    ]
    assert load(tmp_path, with_channel("id: c\nadapter: bare\nundo_window: 10m")).channels[
        0
    ].undo_window == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10", "10 has no unit: write 5m, 4h or 1h30m"),
        ("0", "0 has no unit: write 0m or 0s"),
        ("11m", "must be at most 10m, got 11m"),
        ("1h", "must be at most 10m, got 1h00m"),
        ("soon", "expected a duration such as"),
    ],
)
def test_a_bad_undo_window_names_its_line(tmp_path: Path, value: str, expected: str) -> None:
    message = one_problem(tmp_path, with_channel(f"id: chat\nadapter: bare\nundo_window: {value}"))
    assert f"config.yaml:7: channel 'chat' · undo_window: {expected}" in message


def test_the_shipped_config_has_a_team(tmp_path: Path) -> None:
    config = load_config(ROOT / "config.yaml")
    assert len(config.team) == 3
    assert config.read_only is False
