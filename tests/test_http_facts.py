"""What answers tell besides their body: Retry-After, rate-limit headers, the advice
to poll more slowly before the limit is hit."""

from __future__ import annotations

import random

import httpx
import pytest

from sportello_sdk.http import ChannelHttp, parse_retry_after
from sportello_sdk.http_facts import RateLimitInfo, parse_rate_limit, rate_advice

NOW = 1_792_000_000.0  # 2026-10-14


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("Wed, 21 Oct 2026 07:28:00 GMT", 1792567680.0 - NOW),
        ("Thu, 01 Jan 2015 00:00:00 GMT", 0.0),  # a date in the past: now
        ("soon", None),
        ("-5", None),
        ("1e400", None),
        ("1.5", None),
        ("", None),
        ("   ", None),
        (None, None),
        ("9" * 5000, None),
        ("Wed, 99 Foo 2026 07:28:00 GMT", None),
        ("\x00\x01", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def limits(**headers: str) -> RateLimitInfo | None:
    return parse_rate_limit(httpx.Headers(headers), NOW)


def test_x_ratelimit_with_an_epoch_reset() -> None:  # GitHub
    info = limits(
        **{
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "42",
            "X-RateLimit-Reset": str(int(NOW) + 900),
        }
    )
    assert info == RateLimitInfo(limit=5000, remaining=42, reset_at=NOW + 900, seen_at=NOW)


def test_x_ratelimit_with_a_delta_reset() -> None:
    info = limits(**{"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "60"})
    assert info == RateLimitInfo(limit=None, remaining=3, reset_at=NOW + 60, seen_at=NOW)


def test_an_epoch_reset_in_milliseconds() -> None:
    info = limits(**{"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": str(int(NOW * 1000))})
    assert info is not None
    assert info.reset_at == NOW


def test_ietf_separate_fields() -> None:
    info = limits(
        **{"RateLimit-Limit": "100, 100;w=60", "RateLimit-Remaining": "7", "RateLimit-Reset": "30"}
    )
    assert info == RateLimitInfo(limit=100, remaining=7, reset_at=NOW + 30, seen_at=NOW)


def test_ietf_combined_field() -> None:
    info = limits(RateLimit="limit=100, remaining=5, reset=20")
    assert info == RateLimitInfo(limit=100, remaining=5, reset_at=NOW + 20, seen_at=NOW)


def test_ietf_structured_field_with_its_policy() -> None:
    info = limits(**{"RateLimit": '"default";r=9;t=45', "RateLimit-Policy": '"default";q=100;w=60'})
    assert info == RateLimitInfo(limit=100, remaining=9, reset_at=NOW + 45, seen_at=NOW)


def test_zendesk_and_freshdesk_names() -> None:
    zendesk = limits(**{"X-Rate-Limit": "700", "X-Rate-Limit-Remaining": "699"})
    assert zendesk == RateLimitInfo(limit=700, remaining=699, reset_at=None, seen_at=NOW)
    freshdesk = limits(**{"X-Ratelimit-Total": "50", "X-Ratelimit-Remaining": "4"})
    assert freshdesk == RateLimitInfo(limit=50, remaining=4, reset_at=None, seen_at=NOW)


def test_shopify_call_counter() -> None:
    info = limits(**{"X-Shopify-Shop-Api-Call-Limit": "38/40"})
    assert info == RateLimitInfo(limit=40, remaining=2, reset_at=None, seen_at=NOW)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-RateLimit-Remaining": "lots"},
        {"X-RateLimit-Remaining": "-1", "X-RateLimit-Reset": "nan"},
        {"RateLimit": "garbage"},
    ],
)
def test_no_or_unreadable_rate_limit(headers: dict[str, str]) -> None:
    assert limits(**headers) is None


def advise(
    info: RateLimitInfo | None, retry_until: float | None = None
) -> tuple[float | None, float | None]:
    return rate_advice(info, retry_until, NOW, fraction=0.10, low_remaining=5, window_s=60.0)


def test_plenty_left_gives_no_advice() -> None:
    info = RateLimitInfo(limit=100, remaining=50, reset_at=NOW + 60, seen_at=NOW)
    assert advise(info) == (None, None)


def test_below_a_tenth_of_the_limit_the_rest_is_spread_until_the_reset() -> None:
    info = RateLimitInfo(limit=100, remaining=5, reset_at=NOW + 50, seen_at=NOW)
    assert advise(info) == (None, 10.0)
    at_the_edge = RateLimitInfo(limit=100, remaining=10, reset_at=NOW + 50, seen_at=NOW)
    assert advise(at_the_edge) == (None, None)


def test_an_exhausted_window_says_wait_for_the_reset() -> None:
    info = RateLimitInfo(limit=100, remaining=0, reset_at=NOW + 30, seen_at=NOW)
    assert advise(info) == (NOW + 30, 30.0)


def test_without_a_limit_a_few_left_is_low() -> None:
    info = RateLimitInfo(limit=None, remaining=4, reset_at=None, seen_at=NOW - 20)
    assert advise(info) == (None, 10.0)  # the 40 s left of an assumed minute, over 4


def test_advice_about_a_renewed_window_is_dropped() -> None:
    info = RateLimitInfo(limit=100, remaining=0, reset_at=NOW - 1, seen_at=NOW - 60)
    assert advise(info) == (None, None)
    assert advise(None, retry_until=NOW - 5) == (None, None)
    assert advise(None, retry_until=NOW + 5) == (NOW + 5, None)


async def never_sleep(seconds: float) -> None:
    raise AssertionError(f"the policy slept {seconds}s")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    "headers",
    [
        {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "2", "X-RateLimit-Reset": "40"},
        {"RateLimit-Limit": "100", "RateLimit-Remaining": "2", "RateLimit-Reset": "40"},
        {"RateLimit": "limit=100, remaining=2, reset=40"},
        {"X-Ratelimit-Total": "100", "X-Ratelimit-Remaining": "2", "X-Ratelimit-Reset": "40"},
    ],
    ids=["x-ratelimit", "ietf", "ietf-combined", "freshdesk"],
)
async def test_the_report_slows_polling_before_the_limit_is_hit(headers: dict[str, str]) -> None:
    clock = Clock()
    http = ChannelHttp(
        "support",
        transport=httpx.MockTransport(lambda request: httpx.Response(200, headers=headers)),
        sleep=never_sleep,
        monotonic=clock,
        wall=clock,
        rng=random.Random(1),
    )
    async with http.client(base_url="https://desk.example.test") as client:
        await client.get("/tickets")
    report = http.report()
    assert report.suggested_interval_s == 20.0  # 2 requests left for 40 s
    assert report.slow_down_until is None
    assert report.rate_limit is not None
    assert report.rate_limit.remaining == 2
    clock.now += 41  # the window renewed
    assert http.report().suggested_interval_s is None


async def test_the_report_keeps_a_retry_after() -> None:
    clock = Clock()
    answer = httpx.Response(429, headers={"Retry-After": "300"})
    http = ChannelHttp(
        "support",
        transport=httpx.MockTransport(lambda request: answer),
        sleep=never_sleep,
        monotonic=clock,
        wall=clock,
    )
    async with http.client(base_url="https://desk.example.test") as client:
        await client.get("/tickets")
    assert http.report().slow_down_until == NOW + 300
    assert http.report().last_failure == "GET desk.example.test: HTTP 429"
