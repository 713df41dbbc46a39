"""Declared options: one idempotent coercion, durations with units, figures in two units."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sportello.core.config import load_config
from sportello_sdk import Option, OptionError, OptionType
from sportello_sdk.errors import ConfigurationError
from sportello_sdk.options import format_duration, parse_duration, resolve_options
from tests.engine_fakes import DeclarationOnly

# ── coercion is idempotent ────────────────────────────────────────────────────


def _raw_values(kind: OptionType, rng: random.Random) -> list[Any]:
    """Values as YAML gives them for an option of ``kind``, valid and not."""
    words = ["", "a", "INBOX", "düsseldorf", "x" * 50]
    if kind is OptionType.STR:
        return [rng.choice(words) for _ in range(5)] + ["a"]
    if kind is OptionType.INT:
        return [rng.randint(-10, 70_000) for _ in range(5)] + [rng.randint(-(10**9), 10**9)]
    if kind is OptionType.FLOAT:
        return [rng.uniform(-1e6, 1e6), rng.random(), rng.random(), rng.randint(-99, 99), 0]
    if kind is OptionType.BOOL:
        return [True, False]
    if kind is OptionType.DURATION:
        units = "dhms"
        texts = [
            "".join(f"{rng.randint(0, 99)}{unit}" for unit in rng.sample(units, rng.randint(1, 4)))
            for _ in range(8)
        ]
        return [*texts, "1.5h", " 2h 30m ", "0s", f"{rng.randint(1, 59)}m"]
    return [[rng.choice(words) for _ in range(rng.randint(0, 4))] for _ in range(5)]


OPTIONS = [
    Option("text", OptionType.STR),
    Option("mode", OptionType.STR, choices=("a", "INBOX")),
    Option("count", OptionType.INT),
    Option("port", OptionType.INT, minimum=1, maximum=65535),
    Option("share", OptionType.FLOAT, minimum=0, maximum=1),
    Option("rate", OptionType.FLOAT),
    Option("flag", OptionType.BOOL),
    Option("every", OptionType.DURATION),
    Option("short", OptionType.DURATION, minimum=1, maximum=3600),
    Option("folders", OptionType.STR_LIST),
]


@pytest.mark.parametrize("option", OPTIONS, ids=lambda option: option.name)
@pytest.mark.parametrize("seed", range(20))
def test_coerce_accepts_its_own_output_unchanged(option: Option, seed: int) -> None:
    rng = random.Random(seed)
    coerced = 0
    for raw in _raw_values(option.type, rng):
        try:
            once = option.coerce(raw)
        except OptionError:
            continue  # out of range or not of the type: refused, that is all
        coerced += 1
        twice = option.coerce(once)
        assert twice == once and type(twice) is type(once), (raw, once, twice)
    assert coerced, "the generator produced no valid value"


def test_resolve_options_fills_defaults_and_keeps_ready_values() -> None:
    declared = (
        Option("profile", required=True),
        Option("every", OptionType.DURATION, default=timedelta(minutes=5)),
        Option("folders", OptionType.STR_LIST, default=("INBOX",)),
    )
    ready = resolve_options(declared, {"profile": "p", "every": "90s", "folders": ["A", "B"]})
    assert ready == {"profile": "p", "every": timedelta(seconds=90), "folders": ("A", "B")}
    assert resolve_options(declared, ready) == ready
    assert resolve_options(declared, {"profile": "p"})["every"] == timedelta(minutes=5)
    with pytest.raises(OptionError, match=r"^option profile: required by the x adapter"):
        resolve_options(declared, {}, adapter="x")
    with pytest.raises(OptionError, match=r"^option 'proflie': unknown to the x adapter"):
        resolve_options(declared, {"proflie": "p"}, adapter="x")
    with pytest.raises(OptionError, match=r"^option every: 5 has no unit"):
        resolve_options(declared, {"profile": "p", "every": 5})


class Mailbox(DeclarationOnly):
    """The next adapter: durations and lists, as the IMAP one will have."""

    name = "mailbox"
    options = (
        Option("idle", OptionType.DURATION, default=timedelta(minutes=5), maximum=3600),
        Option("folders", OptionType.STR_LIST, default=("INBOX",)),
        Option("share", OptionType.FLOAT, default=0.5, minimum=0, maximum=1),
    )


def test_an_adapter_accepts_the_options_its_config_coerced(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "business: {name: Shop, hours: {mon: [09:00-17:00]}}\n"
        "channels:\n"
        "  - id: mail\n    adapter: mailbox\n"
        "    options: {idle: 90s, folders: [INBOX, Ordini]}\n",
        encoding="utf-8",
    )
    config = load_config(path, adapter_loader={"mailbox": Mailbox}.__getitem__)
    assert Mailbox.declared_options(config.channels[0].options) == {
        "idle": timedelta(seconds=90),
        "folders": ("INBOX", "Ordini"),
        "share": 0.5,
    }


def test_an_adapter_refuses_an_option_out_of_its_range() -> None:
    with pytest.raises(ConfigurationError, match=r"^option share: must be between 0 and 1, got 2$"):
        Mailbox.declared_options({"share": 2})


def test_describe_has_the_declared_range_of_every_option() -> None:
    described = [option.describe() for option in OPTIONS]
    assert {frozenset(d) for d in described} == {
        frozenset(
            {"name", "type", "required", "secret", "default", "description"}
            | {"minimum", "maximum", "choices"}
        )
    }
    by_name = {d["name"]: d for d in described}
    assert (by_name["port"]["minimum"], by_name["port"]["maximum"]) == (1, 65535)
    assert by_name["mode"]["choices"] == ["a", "INBOX"]
    assert by_name["text"]["minimum"] is None and by_name["text"]["choices"] is None


# ── durations have a unit ─────────────────────────────────────────────────────


@pytest.mark.parametrize("value", [5, 5.0, "5", " 5 ", 0, "0", 300])
def test_a_bare_number_is_refused(value: object) -> None:
    with pytest.raises(OptionError, match="has no unit: write"):
        parse_duration(value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("45s", 45), ("5m", 300), ("4h", 14400), ("1h30m", 5400), ("2d", 172800), ("0m", 0)],
)
def test_durations_with_units(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


# ── figures: two units from an hour on ────────────────────────────────────────


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0, "0s"),
        (45, "45s"),
        (60, "1m"),
        (12 * 60 + 30, "12m"),
        (3600, "1h00m"),
        (2 * 3600 + 5 * 60, "2h05m"),
        (23 * 3600 + 18 * 60, "23h18m"),
        (86400 + 18 * 60, "1d00h"),
        (86400 + 3 * 3600, "1d03h"),
        (12 * 86400 + 3 * 3600 + 59 * 60, "12d03h"),
        (99 * 86400 + 23 * 3600, "99d23h"),
        (123 * 86400 + 5 * 3600, "123d"),
        (-(3600 + 60), "-1h01m"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_a_wait_its_expectation_and_its_gap_agree() -> None:
    """``1d00h`` next to ``+23h18m`` with a 1h expectation: no unit dropped."""
    wait, expectation = 86400 + 18 * 60, 3600
    assert format_duration(wait) == "1d00h"
    assert "+" + format_duration(wait - expectation) == "+23h18m"
    assert format_duration(expectation) == "1h00m"


def test_two_units_fit_the_narrowest_columns() -> None:
    for seconds in range(0, 100 * 86400, 3 * 3600 + 17 * 60 + 11):
        assert len(format_duration(seconds)) <= 6, seconds  # the queue's wait column
        assert len("+" + format_duration(seconds)) <= 7, seconds  # its gap column
