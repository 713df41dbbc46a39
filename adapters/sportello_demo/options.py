"""The options a demo channel takes under its entry in config.yaml."""

from __future__ import annotations

from datetime import timedelta

from sportello_demo.profiles import PROFILES
from sportello_sdk import Option, OptionType

__all__ = ["OPTIONS"]

OPTIONS: tuple[Option, ...] = (
    Option(
        "profile",
        OptionType.STR,
        required=True,
        choices=PROFILES,
        description="which kind of channel to simulate: " + ", ".join(PROFILES),
    ),
    Option(
        "seed",
        OptionType.INT,
        default=7,
        description="the simulated world; the same seed gives the same customers",
    ),
    Option(
        "scale",
        OptionType.INT,
        default=0,
        minimum=0,
        description="0: realistic traffic for the time of day; "
        "N: exactly N waiting conversations, for benchmarks",
    ),
    Option(
        "rate",
        OptionType.FLOAT,
        default=1.0,
        minimum=0,
        description="arrivals multiplier (2 = twice as busy, 0 = nobody writes)",
    ),
    Option(
        "fail_rate",
        OptionType.FLOAT,
        default=0.0,
        minimum=0,
        maximum=1,
        description="probability, 0 to 1, that a poll fails as if the network were down",
    ),
    Option(
        "record",
        OptionType.STR,
        description="the file where accepted actions are kept, one JSON line each "
        "(unset: $XDG_STATE_HOME/sportello/demo/<channel id>.jsonl)",
    ),
    Option(
        "honour_keys",
        OptionType.BOOL,
        default=True,
        description="a repeated idempotency key answers as the first time; "
        "false (a test switch): every call is a new delivery",
    ),
    Option(
        "down_file",
        OptionType.STR,
        description="while this file exists, polls, actions and look-ups fail "
        "as if the server were unreachable",
    ),
    Option(
        "act_delay",
        OptionType.FLOAT,
        default=0.0,
        minimum=0,
        maximum=10,
        description="seconds each action takes before the channel accepts it (0 to 10)",
    ),
    # Chaos: adapters that misbehave, for trying the collector's isolation.
    Option(
        "block",
        OptionType.DURATION,
        default=timedelta(0),
        minimum=0,
        maximum=600,
        description="chaos: each poll blocks the channel's thread (time.sleep) this long "
        "before it answers, as a blocking library would (requests.get)",
    ),
    Option(
        "crash",
        OptionType.BOOL,
        default=False,
        description="chaos: every poll raises a plain RuntimeError, as a bug in an "
        "adapter would (not an adapter error)",
    ),
)
