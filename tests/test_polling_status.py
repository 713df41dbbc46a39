"""Who polls, and whether the data is fresh: the header's words (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sportello.core.polling_status import (
    NOT_POLLED,
    OTHER_CONFIG,
    ChannelPolls,
    CollectorInfo,
    channel_digest,
    channel_digests,
    polling_status,
)
from sportello.core.records import Health
from sportello.core.settings import SecretRef
from tests.engine_fakes import make_config

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC).timestamp()


def polls(last_poll_ago: float, health: Health = Health.OK, cid: str = "chat") -> ChannelPolls:
    return ChannelPolls(cid, 10.0, 5.0, health, NOW - last_poll_ago)


def collector(**kw: object) -> CollectorInfo:
    values: dict[str, object] = {
        "user": "anna",
        "host": "shop",
        "pid": 42,
        "started_at": NOW - 3600,
        "paused": False,
        "channels": {"chat": "d1"},
    }
    values.update(kw)
    return CollectorInfo(**values)  # type: ignore[arg-type]


def status(**kw: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {
        "collecting": False,
        "paused_here": False,
        "collector": collector(),
        "own": {"chat": "d1"},
        "channels": [polls(5)],
        "now": NOW,
        "tz": ROME,
    }
    values.update(kw)
    return polling_status(**values)  # type: ignore[arg-type]


def test_a_viewer_names_who_collects_and_since_when() -> None:
    result = status()
    assert result.text == "● live · anna@shop since 10:00"
    assert result.level == "ok"
    assert not result.not_polled


def test_the_collector_itself_says_live() -> None:
    assert status(collecting=True, collector=None).text == "● live"


def test_a_poll_older_than_a_few_intervals_is_stale_not_live() -> None:
    result = status(channels=[polls(240)])
    assert result.text == "● stale · last poll 4m ago"
    assert result.level == "warn"
    assert result.stale


def test_a_failing_channel_in_backoff_is_not_called_stale() -> None:
    assert not status(channels=[polls(240, Health.DEGRADED)]).stale


def test_a_paused_collector_is_said_by_name_in_the_viewers() -> None:
    result = status(collector=collector(paused=True))
    assert result.text == "❚❚ paused by anna@shop"


def test_pausing_says_what_it_pauses() -> None:
    assert status(paused_here=True).text == "❚❚ paused (this screen)"
    assert status(paused_here=True, collecting=True).text == "❚❚ paused · nobody polls"


def test_a_channel_the_collector_does_not_know_is_named() -> None:
    result = status(own={"chat": "d1", "shop-mail": "d2"}, channels=[polls(5)])
    assert result.not_polled == {"shop-mail": NOT_POLLED}
    assert "other config" in result.text


def test_a_channel_polled_with_other_settings_is_named() -> None:
    result = status(own={"chat": "changed"})
    assert result.not_polled == {"chat": OTHER_CONFIG}
    assert result.text == "● live · anna@shop · other config"


def test_a_store_problem_is_the_stores() -> None:
    result = status(store_problem="the store at /x: saving a fetch failed: disk is full")
    assert result.text.startswith("✗ store: ")
    assert result.level == "error"


def test_digests_follow_what_matters_and_never_hold_secrets(tmp_path: Path) -> None:
    config = make_config(tmp_path / "s.db", {"a": "good", "b": "good"})
    first = config.channels[0]
    digests = channel_digests(config)
    assert set(digests) == {"a", "b"}
    assert channel_digest(replace(first, label="Renamed")) == digests["a"]
    assert channel_digest(replace(first, poll_interval=timedelta(seconds=99))) != digests["a"]
    secret = replace(first, options={"token": SecretRef("env", "TOKEN")})
    other = replace(first, options={"token": SecretRef("env", "OTHER")})
    assert channel_digest(secret) != channel_digest(other)
