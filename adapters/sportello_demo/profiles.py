"""The demo's profiles: the five kinds of channel it simulates and their traffic.

A demo channel's ``profile`` option (email, chat, phone, facebook, telegram) picks
one :class:`Profile`: the channel's kind and expectation, how many customers
arrive and when, how soon and at what hours the shop answers, and how often a
customer writes again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sportello_demo.hours import (
    AGENT_WEEK,
    OWNER_WEEK,
    SHAPE_MESSAGES,
    SHAPE_PHONE,
    SHAPE_SOCIAL,
)
from sportello_sdk import ChannelKind

__all__ = ["PROFILES", "PROFILE_BY_NAME", "Profile"]

PROFILES = ("email", "chat", "phone", "facebook", "telegram")


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    tag: str  # prefix of external ids
    kind: ChannelKind
    expectation: timedelta
    peak_per_hour: float  # arrivals per hour at the busiest time of a weekday
    shape: tuple[float, ...]
    # (probability, low, high) in seconds of working time, tried in order; the
    # first band is the usual answer, later ones are late.
    delays: tuple[tuple[float, float, float], ...]
    more_gap: tuple[float, float]  # a second customer message, seconds after the first
    followup_gap: tuple[float, float]  # the customer again after an answer
    p_more: float = 0.2
    p_followup: float = 0.25
    answer_hours: int = OWNER_WEEK  # when answers are written (email and social: evenings too)
    offline_share: float = 1.0  # arrival rate outside agent hours (chat is "offline")
    finish_by_close: bool = False  # what arrived while open is answered before closing
    # The customer again after the user answered or closed: how likely, how soon.
    p_again: float = 0.2
    again_gap: tuple[float, float] = (2 * 60, 40 * 60)


PROFILE_BY_NAME: dict[str, Profile] = {
    "email": Profile(
        "email",
        "em",
        ChannelKind.EMAIL,
        timedelta(hours=4),
        2.5,
        SHAPE_MESSAGES,
        delays=((0.80, 600, 9000), (0.14, 3 * 3600, 6 * 3600), (1.0, 8 * 3600, 14 * 3600)),
        more_gap=(300, 3600),
        followup_gap=(1800, 20 * 3600),
    ),
    "chat": Profile(
        "chat",
        "ch",
        ChannelKind.CHAT,
        timedelta(minutes=5),
        6.0,
        SHAPE_MESSAGES,
        delays=((0.60, 30, 300), (0.30, 300, 900), (1.0, 1200, 3600)),
        more_gap=(15, 120),
        followup_gap=(30, 300),
        p_more=0.35,
        p_followup=0.3,
        p_again=0.3,
        offline_share=0.02,
        finish_by_close=True,
        answer_hours=AGENT_WEEK,
    ),
    "phone": Profile(
        "phone",
        "ph",
        ChannelKind.PHONE,
        timedelta(minutes=2),
        14.0,
        SHAPE_PHONE,
        delays=(),
        more_gap=(0, 0),
        followup_gap=(0, 0),
        p_again=0.0,  # a caller who was answered does not call back on their own
    ),
    "facebook": Profile(
        "facebook",
        "fb",
        ChannelKind.SOCIAL,
        timedelta(hours=1),
        1.0,
        SHAPE_SOCIAL,
        delays=((0.60, 300, 3000), (0.28, 3600, 4 * 3600), (1.0, 6 * 3600, 16 * 3600)),
        more_gap=(60, 900),
        followup_gap=(600, 6 * 3600),
        p_again=0.25,
    ),
    "telegram": Profile(
        "telegram",
        "tg",
        ChannelKind.SOCIAL,
        timedelta(hours=1),
        0.7,
        SHAPE_SOCIAL,
        delays=((0.70, 180, 2400), (0.25, 3600, 3 * 3600), (1.0, 5 * 3600, 12 * 3600)),
        more_gap=(20, 300),
        followup_gap=(300, 4 * 3600),
        p_more=0.3,
        p_again=0.25,
    ),
}
