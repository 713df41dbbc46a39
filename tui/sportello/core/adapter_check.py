"""``sportello check-adapter NAME``: one fetch of one configured channel, through
every check, in plain words.

``NAME`` is a channel's id, or an adapter's name when exactly one channel uses it.
The channel's options and secrets are resolved as the collector resolves them, and
one fetch runs as the collector runs it: through a
:class:`~sportello_sdk.host.ChannelHost` (the channel's own thread, its
timeout, a heartbeat that notices a blocked loop). It is handed an empty memory,
as on a channel's first poll, so a running collector's cursor is not moved; nothing
is stored and no action is sent. What the fetch returns goes through the contract
kit's checks (:func:`sportello_sdk.testing.check_fetched`: what the collector would
drop or repair, times in UTC and not in the future, the memory, text that will be
cut).

Exit codes: 0 nothing wrong, 1 problems (the fetch failed, or what it returned
breaks the contract), 2 the config or the name is wrong. No secret is ever shown:
every line goes through the redaction, and the resolved values are blanked too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sportello.core import secrets
from sportello.core.config import AdapterLoader, ConfigError, load_config
from sportello.core.settings import Channel, Config
from sportello_sdk import registry
from sportello_sdk.base import Adapter, ChannelContext, Clock, Session, channel_logger, utc_now
from sportello_sdk.checks.conversations import SKEW_S
from sportello_sdk.checks.declaration import option_problems
from sportello_sdk.errors import AdapterError
from sportello_sdk.host import AdapterFault, ChannelHost
from sportello_sdk.models import ChannelState
from sportello_sdk.redaction import MASK, redact
from sportello_sdk.secret import Secret
from sportello_sdk.testing import ContractReport, check_fetched

__all__ = ["EXIT_CONFIG", "EXIT_OK", "EXIT_PROBLEMS", "AdapterCheck", "check_adapter"]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_CONFIG = 2
SKEW = timedelta(seconds=SKEW_S)  # a real channel's clock is not ours: as the collector


@dataclass
class AdapterCheck:
    """What to print, and the exit code."""

    code: int
    lines: list[str] = field(default_factory=list)


def check_adapter(
    path: Path,
    name: str,
    *,
    env: Mapping[str, str] | None = None,
    clock: Clock = utc_now,
    loader: AdapterLoader | None = None,
) -> AdapterCheck:
    """Fetch once from the channel ``name`` of the config at ``path``, check it all."""
    load = loader or registry.load
    try:
        config = load_config(path, adapter_loader=load)
    except ConfigError as exc:
        return AdapterCheck(EXIT_CONFIG, [str(exc)])
    channel = _pick(config, name, path)
    if isinstance(channel, AdapterCheck):
        return channel
    adapter = load(channel.adapter)  # load_config loaded it: cached
    try:
        options = secrets.resolve_options(channel, adapter, env)
        typed = adapter.declared_options(options)
    except secrets.SecretError as exc:
        return AdapterCheck(EXIT_CONFIG, [f"{path}:{channel.line}: {exc}"])
    except AdapterError as exc:
        return AdapterCheck(EXIT_CONFIG, [f"{path}:{channel.line}: channel {channel.id!r}: {exc}"])
    revealed = [value.reveal() for value in typed.values() if isinstance(value, Secret)]
    result = asyncio.run(_fetch_and_check(channel, adapter, typed, clock))
    result.lines = [_blank(redact(line), revealed) for line in result.lines]
    return result


def _blank(line: str, revealed: list[str]) -> str:
    for value in revealed:
        if value:
            line = line.replace(value, MASK)
    return line


def _pick(config: Config, name: str, path: Path) -> Channel | AdapterCheck:
    """The channel ``name`` means: its id, or the one channel using that adapter."""
    for channel in config.channels:
        if channel.id == name:
            return channel
    key = registry.normalize(name)
    using = [c for c in config.channels if registry.normalize(c.adapter) == key]
    if len(using) == 1:
        return using[0]
    if using:
        ids = ", ".join(c.id for c in using)
        return AdapterCheck(
            EXIT_CONFIG,
            [f"adapter {name!r} is used by {len(using)} channels ({ids}): name one of them"],
        )
    ids = ", ".join(c.id for c in config.channels) or "none"
    return AdapterCheck(
        EXIT_CONFIG,
        [f"{path} has no enabled channel or adapter {name!r} (its channels: {ids})"],
    )


async def _fetch_and_check(
    channel: Channel, adapter: type[Adapter], options: Mapping[str, object], clock: Clock
) -> AdapterCheck:
    from sportello_sdk.http import ChannelHttp

    origin = _origin(channel.adapter)
    lines = [f"channel {channel.id!r} · adapter {channel.adapter}{origin}"]
    report = ContractReport(adapter.name)
    for problem in option_problems(adapter.options):
        report.problem("its declaration", problem)
    timeout_s = channel.timeout.total_seconds()
    context = ChannelContext(
        channel_id=channel.id,
        options=options,
        clock=clock,
        timeout_s=timeout_s,
        log=channel_logger(channel.id),
        http=ChannelHttp(channel.id),
    )
    host = ChannelHost(channel.id, adapter, context)

    async def fetch(session: Session) -> ChannelState:
        return await session.fetch({})

    started = time.monotonic()
    try:
        state: object = await host.call(fetch, timeout_s=timeout_s)
    except (AdapterError, AdapterFault) as exc:
        kind = type(exc).__name__ if isinstance(exc, AdapterError) else "the adapter misbehaved"
        report.problem("fetch", f"failed ({kind}): {exc}")
        state = None
    took = time.monotonic() - started
    for notice in host.notices:
        report.problem("fetch", notice)
    if state is not None:
        now = context.now()
        kept = check_fetched(report, "fetch", state, now, skew=SKEW)
        lines.append(f"fetched in {took:.2f} s: {_summary(state, kept)}")
    if not await host.close():
        report.problem("closing", "did not stop when asked: its thread is left behind")
    lines += _findings(report)
    return AdapterCheck(EXIT_PROBLEMS if report.problems else EXIT_OK, lines)


def _origin(name: str) -> str:
    for entry in registry.available():
        if entry.key == registry.normalize(name):
            return f" ({entry.origin()})"
    return ""


def _summary(state: object, kept: ChannelState | None) -> str:
    if not isinstance(state, ChannelState) or not isinstance(state.conversations, tuple | list):
        return "nothing usable"
    total = len(state.conversations)
    waiting = sum(1 for c in state.conversations if getattr(c, "waiting_since", None) is not None)
    whole = "the whole queue" if state.complete is True else "part of the queue (complete: false)"
    text = f"{total} conversation{'s' * (total != 1)} ({waiting} waiting), {whole}"
    if kept is not None and len(kept.conversations) != total:
        text += f"; {len(kept.conversations)} would be stored"
    return text


def _findings(report: ContractReport) -> list[str]:
    lines: list[str] = []
    if report.problems:
        lines.append("what is wrong:")
        lines += [f"  ✗ {finding}" for finding in report.problems]
    if report.notes:
        lines.append("worth knowing:")
        lines += [f"  · {finding}" for finding in report.notes]
    count = len(report.problems)
    lines.append("✓ nothing wrong" if not count else f"{count} problem{'s' * (count != 1)}")
    return lines
