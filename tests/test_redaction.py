"""The one redaction (sportello_sdk.redaction): every form of a secret is blanked,
in any text, from any thread, in every log handler, and in what the CLI prints."""

from __future__ import annotations

import base64
import copy
import io
import json
import logging
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, cast
from urllib.parse import quote, quote_plus

import httpx
import pytest

from sportello_sdk import redaction
from sportello_sdk.options import Option
from sportello_sdk.redaction import MASK, redact, redact_data, register
from sportello_sdk.secret import Secret

TOKEN = "123456789:AAH-tok3n_S3cret-Value"  # Telegram-style: bot id, colon, secret
PIN = "481"
QUOTED = 'pa"ss\\w0rd/é x'  # quotes, a backslash, a slash, a space, non-ASCII


@pytest.fixture(autouse=True)
def nothing_registered() -> Iterator[None]:
    redaction.forget_all()
    yield
    redaction.forget_all()


def forms_of(secret: str) -> list[str]:
    """Every way the secret is written that must never get out."""
    raw = secret.encode()
    b64 = [
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ]
    encoded = quote(secret, safe="")
    return [
        secret,
        secret.upper(),
        secret.lower(),
        secret.swapcase(),
        encoded,
        re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), encoded),  # lower-case hex
        quote(secret),
        quote_plus(secret),
        *b64,
    ]


def leaks(text: str, secret: str) -> list[str]:
    """The forms of ``secret`` (and its 8-character parts) still in ``text``."""
    found = [form for form in forms_of(secret) if form in text]
    low = text.lower()
    if len(secret) > redaction.PART:
        found += [
            secret[i : i + redaction.PART]
            for i in range(len(secret) - redaction.PART + 1)
            if secret[i : i + redaction.PART].lower() in low
        ]
    return found


# ------------------------------------------------------------------ the forms


def test_nothing_registered_leaves_text_as_it_is() -> None:
    text = f"GET /bot{TOKEN}/getMe"
    assert redact(text) is text


def test_the_token_in_a_url_path_is_blanked() -> None:
    register(TOKEN)
    text = redact(f"GET https://api.telegram.org/bot{TOKEN}/getUpdates?offset=5")
    assert text == f"GET https://api.telegram.org/bot{MASK}/getUpdates?offset=5"


@pytest.mark.parametrize("form", forms_of(TOKEN), ids=lambda f: f[:14])
def test_every_form_of_the_token_is_blanked(form: str) -> None:
    register(TOKEN)
    text = redact(f"failed for {form} (401)")
    assert text == f"failed for {MASK} (401)"


def test_url_encoded_with_upper_and_lower_hex() -> None:
    register(QUOTED)
    upper = quote(QUOTED, safe="")
    assert "%22" in upper and "%5C" in upper
    lower = upper.replace("%5C", "%5c").replace("%C3%A9", "%c3%a9")
    for form in (upper, lower, quote(QUOTED), quote_plus(QUOTED)):
        assert redact(f"url ?pw={form}&x=1") == f"url ?pw={MASK}&x=1", form


def test_upper_case_token_is_blanked() -> None:
    register(TOKEN)
    assert redact(f"X-Token: {TOKEN.upper()}") == f"X-Token: {MASK}"


def test_json_escaped_secret_is_blanked_and_the_json_stays_json() -> None:
    register(QUOTED)
    for ascii_only in (True, False):
        dumped = json.dumps({"password": QUOTED, "n": 1}, ensure_ascii=ascii_only)
        text = redact(dumped)
        assert json.loads(text) == {"password": MASK, "n": 1}, text
    assert redact(repr(QUOTED)) == f"'{MASK}'"


def test_base64_alone_with_and_without_padding() -> None:
    register(TOKEN)
    for encoded in (base64.b64encode, base64.urlsafe_b64encode):
        padded = encoded(TOKEN.encode()).decode()
        assert padded.endswith("=")
        for form in (padded, padded.rstrip("=")):
            assert redact(f"token={form};") == f"token={MASK};", form


def test_basic_auth_with_a_user_prefix_is_blanked_whole() -> None:
    register(TOKEN)
    header = base64.b64encode(f"shop-bot:{TOKEN}".encode()).decode()
    assert redact(f"Authorization: Basic {header}") == f"Authorization: Basic {MASK}"
    unpadded = header.rstrip("=")
    assert redact(f"Basic {unpadded}") == f"Basic {MASK}"
    # Cut mid-quantum by a URL encoding (Basic%20…): the run starts with "20".
    assert redact(f"auth=Basic%20{header}") == f"auth=Basic%20{MASK}"


def test_basic_auth_of_the_readme_example() -> None:
    register("s3cr3t")
    assert base64.b64decode("dXNlcjpzM2NyM3Q=") == b"user:s3cr3t"
    assert redact("Authorization: Basic dXNlcjpzM2NyM3Q=") == f"Authorization: Basic {MASK}"
    assert redact("Authorization: Basic dXNlcjpTM0NSM1Q=") == f"Authorization: Basic {MASK}"


def test_a_short_pin_inside_basic_auth_is_blanked() -> None:
    register(PIN)
    header = base64.b64encode(f"desk:{PIN}".encode()).decode()
    assert redact(f"Basic {header}") == f"Basic {MASK}"


def test_a_short_pins_base64_alone_is_blanked_as_a_token() -> None:
    register(PIN)
    encoded = base64.b64encode(PIN.encode()).decode()
    assert len(encoded) < redaction.BASE64_RUN  # too short to be decoded as a run
    assert redact(f"pin={encoded}&") == f"pin={MASK}&"
    assert redact(f"x{encoded}y") == f"x{encoded}y"


def test_an_eight_character_part_of_a_token_is_blanked() -> None:
    register(TOKEN)
    part = TOKEN[9:17]  # ":AAH-tok"
    assert len(part) == redaction.PART
    assert redact(f"token ends {part}!") == f"token ends {MASK}!"
    assert redact(f"token ends {part.upper()}!") == f"token ends {MASK}!"
    # A log line that cut the token short: what is left of it goes too.
    assert redact(f"bot{TOKEN[:20]}… timed out") == f"bot{MASK}… timed out"
    # Seven characters are not a part: ordinary text is not blanked for that.
    assert redact(f"x {TOKEN[9:16]} y") == f"x {TOKEN[9:16]} y"


def test_a_part_is_blanked_to_its_end() -> None:
    register(TOKEN)
    assert redact(f"[{TOKEN[3:25]}]") == f"[{MASK}]"  # not eight blanked and the rest shown


def test_a_three_character_pin_only_as_a_whole_token() -> None:
    register(PIN)
    assert redact(f"PIN {PIN}, retry") == f"PIN {MASK}, retry"
    assert redact(f"pin={PIN}&x") == f"pin={MASK}&x"
    for text in (f"{PIN}2", f"a{PIN}", f"{PIN}b", f"x{PIN}y", "14812"):
        assert redact(text) == text


def test_short_secrets_do_not_eat_words() -> None:
    register("ab")
    register("x")
    text = "about a box: ab x-ray, Ab and X"
    assert redact(text) == f"about a box: {MASK} {MASK}-ray, {MASK} and {MASK}"


def test_secrets_with_spaces_around_are_blanked_trimmed_too() -> None:
    register("  s3cr3t\n")  # a file's line, an environment variable pasted with spaces
    assert redact("pw=s3cr3t;") == f"pw={MASK};"
    register("   ")  # nothing to hide
    assert redact("a   b") == "a   b"


def test_no_false_blanking_of_ordinary_text() -> None:
    for secret in (TOKEN, PIN, QUOTED, "hunter2-Sup3rSecret", "s3cr3t"):
        register(secret)
    ordinary = (
        "2025-06-01 10:00:00 INFO sportello.core.collector: channel email polled in "
        "0.4 s; 3 waiting, oldest 12m, 4812 messages read. Customers asked about "
        "deliveries, invoices and opening hours. See https://example.com/help/faq?id=48 "
        "and the attachment aGVsbG8gd29ybGQ= (hello world); HTTP/1.1 200 OK; "
        "Content-Type: application/json; charset=utf-8; id 9876543210; token: none"
    )
    assert redact(ordinary) == ordinary


def test_redact_data_keeps_numbers_and_structure() -> None:
    register(PIN)
    data = {"waiting": 481, "error": f"bad pin {PIN}", "items": [PIN, 1.5, None]}
    assert redact_data(data) == {
        "waiting": 481,
        "error": f"bad pin {MASK}",
        "items": [MASK, 1.5, None],
    }


def test_redact_never_raises() -> None:
    register(TOKEN)

    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert redact(cast(str, Hostile())) == MASK
    assert redact(cast(str, 42)) == "42"
    assert redact("") == ""


def test_a_failing_pattern_still_blanks_the_exact_value(monkeypatch: pytest.MonkeyPatch) -> None:
    register(TOKEN)

    def broken(*_: object) -> str:
        raise RecursionError("pattern")

    monkeypatch.setattr(redaction, "_part_spans", broken)
    assert redact(f"x {TOKEN} y") == f"x {MASK} y"


def test_redaction_from_many_threads() -> None:
    """Adapters' threads redact while others register new secrets: never a raise,
    never a form of a secret registered before the call."""
    errors: list[BaseException] = []
    leaked: list[str] = []
    registering = threading.Event()
    start = threading.Barrier(6)

    def redacting(n: int) -> None:
        mine = f"thread {n}/Secret-{n * 7919:06d}"
        try:
            register(mine)
            start.wait()
            while registering.is_set():
                text = redact(f"try: {mine} / {quote(mine)} / {mine.upper()}")
                if leaks(text, mine):
                    leaked.append(text)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def registering_secrets(n: int) -> None:
        try:
            start.wait()
            for i in range(15):
                register(f"extra-{n}-{i}-tok3n")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    registering.set()
    threads = [threading.Thread(target=redacting, args=(n,)) for n in range(4)]
    writers = [threading.Thread(target=registering_secrets, args=(n,)) for n in range(2)]
    for thread in threads + writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    registering.clear()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert not leaked, leaked[:3]
    assert redact("extra-1-14-tok3n and extra-0-0-tok3n") == f"{MASK} and {MASK}"


def test_a_secret_never_shows_itself() -> None:
    option = Option("token", secret=True, description="the bot's token")
    secret = option.coerce(TOKEN)
    assert isinstance(secret, Secret)
    assert option.coerce(secret) is secret
    shown = [repr(secret), str(secret), f"{secret}", f"{secret!r:>40}", repr({"t": secret})]
    shown += [repr(option), json.dumps(option.describe())]
    for text in shown:
        assert TOKEN not in text
    assert copy.deepcopy({"t": secret})["t"] is secret
    assert redact(f"{TOKEN}") == MASK, "making the Secret registered its value"


# ------------------------------------------------------------------ logging


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Our log set-up (redaction on, httpx quiet) writing to a string."""
    from sportello.core.logs import HTTP_LOGGERS, secure_logging

    root = logging.getLogger()
    names = (*HTTP_LOGGERS, "sportello.channel.x")
    saved = root.level, {name: logging.getLogger(name).level for name in names}
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    secure_logging(0, environ={})
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


def test_the_filter_is_on_the_root_handlers(log_stream: io.StringIO) -> None:
    assert any(redaction.LOG_FILTER in h.filters for h in logging.getLogger().handlers)


def test_our_logger_is_redacted(log_stream: io.StringIO) -> None:
    register(TOKEN)
    logging.getLogger("sportello.core.collector").warning("telegram: %s rejected", TOKEN)
    logging.getLogger("sportello.core.collector").warning(f"upper {TOKEN.upper()}")
    out = log_stream.getvalue()
    assert not leaks(out, TOKEN)
    assert f"telegram: {MASK} rejected" in out and f"upper {MASK}" in out


def test_the_httpx_logger_is_redacted(log_stream: io.StringIO) -> None:
    register(TOKEN)
    url = f"https://api.telegram.org/bot{quote(TOKEN, safe='')}/getMe"
    logging.getLogger("httpx").warning('HTTP Request: GET %s "HTTP/1.1 401"', url)
    out = log_stream.getvalue()
    assert not leaks(out, TOKEN)
    assert f"bot{MASK}/getMe" in out


def test_an_adapters_channel_logger_is_redacted(log_stream: io.StringIO) -> None:
    register(TOKEN)
    logging.getLogger("sportello.channel.x").error("login with %r", TOKEN)
    out = log_stream.getvalue()
    assert not leaks(out, TOKEN)
    assert "sportello.channel.x ERROR login with" in out


def test_a_handler_an_adapter_adds_later_is_redacted(log_stream: io.StringIO) -> None:
    register(TOKEN)
    own = io.StringIO()
    handler = logging.StreamHandler(own)  # added after the set-up, on a logger of its own
    logger = logging.getLogger("sportello.channel.x")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        header = base64.b64encode(f"bot:{TOKEN}".encode()).decode()
        logger.warning("sent Authorization: Basic %s", header)
        logger.warning("token %s", TOKEN.lower())
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert own.getvalue() == f"sent Authorization: Basic {MASK}\ntoken {MASK}\n"


def test_a_logged_exception_holding_the_token_is_redacted(log_stream: io.StringIO) -> None:
    register(TOKEN)
    logger = logging.getLogger("sportello.channel.x")
    try:
        raise RuntimeError(f"401 Unauthorized for url 'https://api/bot{quote(TOKEN)}/getMe'")
    except RuntimeError:
        logger.exception("poll failed for %s", TOKEN[:12])
    # A stack whose file name holds the token (as a path of a plug-in could).
    code = compile("def where(log):\n    log.warning('here', stack_info=True)\n", TOKEN, "exec")
    space: dict[str, Any] = {}
    exec(code, space)
    space["where"](logger)
    out = log_stream.getvalue()
    assert "RuntimeError: 401 Unauthorized for url 'https://api/bot•••/getMe'" in out
    assert "Traceback (most recent call last)" in out and "Stack (most recent call last)" in out
    assert not leaks(out, TOKEN)


def test_extra_fields_and_bad_arguments_are_redacted(
    log_stream: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    register(TOKEN)
    own = io.StringIO()
    handler = logging.StreamHandler(own)
    handler.setFormatter(logging.Formatter("%(message)s url=%(url)s"))
    logger = logging.getLogger("sportello.channel.x")
    logger.addHandler(handler)
    try:
        logger.warning("got", extra={"url": f"/bot{TOKEN}/x"})
        logger.warning("count %d", TOKEN, extra={"url": "-"})
    finally:
        logger.removeHandler(handler)
    out = own.getvalue() + log_stream.getvalue()
    assert f"got url=/bot{MASK}/x" in out
    assert f"count %d (arguments that did not format: ('{MASK}',)) url=-" in out
    assert not leaks(out, TOKEN)
    err = capsys.readouterr().err
    assert not leaks(err, TOKEN), "logging's own error report repeated the arguments"


def test_setting_up_twice_wraps_the_handlers_once(log_stream: io.StringIO) -> None:
    handle = logging.Handler.handle
    redaction.install_log_redaction()
    assert logging.Handler.handle is handle
    filters = logging.getLogger().handlers[-1].filters
    assert filters.count(redaction.LOG_FILTER) == 1


def _get(url: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, request=request)

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        response = client.get(url)
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError:
        logging.getLogger("sportello.channel.x").warning("poll failed", exc_info=True)


def test_httpx_request_lines_are_not_logged_by_default(log_stream: io.StringIO) -> None:
    register(TOKEN)
    _get(f"https://api.telegram.org/bot{TOKEN}/getUpdates")
    out = log_stream.getvalue()
    assert "HTTP Request" not in out
    assert "poll failed" in out and "401 Unauthorized" in out  # raise_for_status's message
    assert not leaks(out, TOKEN)


@pytest.mark.parametrize(("verbosity", "environ"), [(2, {}), (0, {"SPORTELLO_HTTP_LOG": "1"})])
def test_httpx_request_lines_when_asked_and_redacted(
    log_stream: io.StringIO, verbosity: int, environ: dict[str, str]
) -> None:
    from sportello.core.logs import http_log_wanted, secure_logging

    assert not http_log_wanted(1, {}) and not http_log_wanted(0, {"SPORTELLO_HTTP_LOG": "0"})
    register(TOKEN)
    secure_logging(verbosity, environ=environ)
    _get(f"https://api.telegram.org/bot{TOKEN}/getUpdates")
    out = log_stream.getvalue()
    assert f"HTTP Request: GET https://api.telegram.org/bot{MASK}/getUpdates" in out
    assert not leaks(out, TOKEN)


# ------------------------------------------------------------------ the CLI


def test_cli_messages_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    from sportello import cli, cli_actions

    register(TOKEN)
    cli._err(f"sportello: channel telegram: 401 for /bot{quote(TOKEN)}/getMe")
    cli._say(f"config.yaml:3: token {TOKEN} is not a reference")
    cli_actions._err(f"refused: {TOKEN.upper()}")
    cli_actions._out(f"TABLE {TOKEN}")
    cli_actions._out_json(json.dumps([{"error": TOKEN, "n": 481}], ensure_ascii=False, indent=2))
    captured = capsys.readouterr()
    assert not leaks(captured.out + captured.err, TOKEN)
    assert captured.err.count(MASK) == 2 and captured.out.count(MASK) == 3
    assert json.loads(captured.out.split("\n", 2)[2]) == [{"error": MASK, "n": 481}]


def test_once_table_and_json_are_redacted_but_not_their_numbers() -> None:
    from sportello.core import report
    from sportello.core.board import Board, ChannelRow
    from sportello.core.metrics import ChannelMetrics
    from sportello.core.records import ChannelRecord, Health
    from sportello.core.settings import Channel

    register(TOKEN)
    register(PIN)
    now = 1_790_000_000.0
    channel = Channel(
        id="telegram",
        label="Telegram",
        adapter="telegram",
        expectation=timedelta(hours=1),
        hours=None,
        poll_interval=timedelta(seconds=30),
        timeout=timedelta(seconds=10),
    )
    error = f"401 for /bot{quote(TOKEN, safe='')}/getMe (pin {PIN})"
    record = ChannelRecord(
        id="telegram",
        label="Telegram",
        adapter="telegram",
        kind="chat",
        health=Health.DEGRADED,
        last_error=error,
        failing_since=now - 60,
        last_poll_at=now - 10,
        last_ok_at=now - 120,
        on_hold=None,
        longest_hold_s=None,
    )
    metrics = ChannelMetrics(481, 1800.0, 3600.0, -1800.0, 600.0, 1200.0, None)
    board = Board(now=now, channels=(ChannelRow(channel, record, metrics),), queue=(), waits=())
    table = report.table(board)
    rows = json.loads(report.as_json(board))
    assert not leaks(table, TOKEN) and not leaks(json.dumps(rows), TOKEN)
    assert f"/bot{MASK}/getMe (pin {MASK})" in table
    assert rows[0]["error"] == f"401 for /bot{MASK}/getMe (pin {MASK})"
    assert rows[0]["waiting"] == 481 and " 481 " in table, "a count is not a PIN"
