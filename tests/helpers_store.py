"""Builders for the store's tests, and the other processes of its concurrency tests.

Run as a script, this file is the *other* process::

    python tests/helpers_store.py read  DB SECONDS MIN_GENERATIONS
    python tests/helpers_store.py write DB COUNT
    python tests/helpers_store.py crash DB

and prints one JSON object on stdout (``crash`` prints nothing and fails).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sportello.core.records import Health, PollOutcome
from sportello.core.settings import Channel
from sportello.core.store import Store
from sportello_sdk.models import Author, ChannelState, Conversation, Customer, Message

T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC
GENERATION_SIZE = 200  # conversations the concurrent writer replaces in each transaction


def at(seconds: float) -> datetime:
    """The instant ``seconds`` after T0, as adapters give it (aware, UTC)."""
    return datetime.fromtimestamp(T0 + seconds, UTC)


def channel(channel_id: str, *, label: str | None = None, adapter: str = "demo") -> Channel:
    return Channel(
        id=channel_id,
        label=label or channel_id.title(),
        adapter=adapter,
        expectation=timedelta(hours=1),
        hours=None,
        poll_interval=timedelta(seconds=30),
        timeout=timedelta(seconds=10),
    )


def message(
    text: str,
    sent: float,
    *,
    author: Author = Author.CUSTOMER,
    external_id: str | None = None,
    author_name: str | None = None,
) -> Message:
    return Message(
        author=author,
        sent_at=at(sent),
        text=text,
        external_id=external_id,
        author_name=author_name,
    )


def conversation(
    external_id: str,
    *,
    first: float = 0.0,
    waiting: float | None = 0.0,
    first_response: float | None = None,
    subject: str = "Ordine non arrivato",
    name: str | None = "Maria Rossi",
    email: str | None = "maria@example.com",
    phone: str | None = None,
    messages: Sequence[Message] = (),
    assignee: str | None = None,
) -> Conversation:
    return Conversation(
        external_id=external_id,
        customer=Customer(name=name, email=email, phone=phone),
        subject=subject,
        first_customer_message_at=at(first),
        waiting_since=None if waiting is None else at(waiting),
        first_response_at=None if first_response is None else at(first_response),
        messages=tuple(messages),
        assignee=assignee,
    )


def state(*conversations: Conversation, complete: bool = True, **kw: Any) -> ChannelState:
    return ChannelState(conversations=tuple(conversations), complete=complete, **kw)


async def open_store(path: Path, channel_ids: Iterable[str] = ("email", "chat")) -> Store:
    store = await Store.open(path)
    await store.sync_channels([channel(c) for c in channel_ids], {})
    return store


def generation(number: int) -> ChannelState:
    """The concurrent writer's ``number``-th queue: every conversation says ``gen N``."""
    return state(
        *(
            conversation(f"g{i}", first=number, waiting=number, subject=f"gen {number}")
            for i in range(GENERATION_SIZE)
        )
    )


# ---------------------------------------------------------------------- other processes


async def _read(db: Path, seconds: float, min_generations: int) -> dict[str, Any]:
    """Read the queue over and over while another process writes generations."""
    errors: list[str] = []
    torn = 0
    backwards = 0
    reads = 0
    seen: set[int] = set()
    last = -1
    versions: set[str] = set()
    deadline = time.monotonic() + seconds
    async with await Store.open(db) as store:
        while time.monotonic() < deadline and (len(seen) < min_generations or reads < 20):
            try:
                items = await store.waiting("email")
                history = await store.snapshots("email", 0.0)
                versions.add(repr(await store.revisions()))
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            reads += 1
            subjects = {item.subject for item in items}
            if len(items) != GENERATION_SIZE or len(subjects) != 1:
                torn += 1
                continue
            number = int(subjects.pop().split()[1])
            # The snapshot is appended in the same transaction as the queue, and
            # this second read cannot see an older database than the first.
            if not history or history[-1].taken_at < T0 + number:
                torn += 1
            if number < last:
                backwards += 1
            last = number
            seen.add(number)
    return {
        "reads": reads,
        "generations": len(seen),
        "versions": len(versions),
        "torn": torn,
        "backwards": backwards,
        "errors": errors[:5],
        "error_count": len(errors),
    }


async def _write(db: Path, count: int) -> dict[str, Any]:
    """Record ``count`` polls of the "chat" channel, each its own transaction."""
    errors: list[str] = []
    async with await Store.open(db) as store:
        for i in range(count):
            outcome = PollOutcome("chat", T0 + i, T0 + i + 0.5, True, None, i)
            try:
                await store.record_poll(outcome, Health.OK)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
    return {"errors": errors[:5], "error_count": len(errors)}


async def _crash(db: Path) -> None:
    async with await Store.open(db) as store:
        await store.channels()
        raise RuntimeError("boom inside the store's block")


def main(argv: list[str]) -> int:
    mode, db = argv[0], Path(argv[1])
    if mode == "read":
        result = asyncio.run(_read(db, float(argv[2]), int(argv[3])))
    elif mode == "write":
        result = asyncio.run(_write(db, int(argv[2])))
    elif mode == "crash":
        asyncio.run(_crash(db))
        return 0
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
