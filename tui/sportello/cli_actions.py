"""The triage commands: ``queue``, ``reply``, ``close``, ``assign``, ``snooze``, ``outbox``.

::

    sportello queue [--json] [--reveal]          who is waiting, longest wait first
    sportello reply ID --text TEXT | --file PATH answer a customer (--file - reads stdin)
    sportello close ID                           close a conversation
    sportello assign ID PERSON                   give it to someone of team:
    sportello snooze ID UNTIL                    1h, 30m, 14:30, tomorrow, opening, reply…
    sportello outbox [--json] [--all]            replies and actions on their way
    sportello outbox retry KEY                   send a failed or unknown one again
    sportello outbox discard KEY                 give one up (or take it back before it goes)

Every action goes through the :class:`~sportello.core.desk.Desk`, as the dashboard's
keys do: it is committed to the outbox with its key, and the collector (the
dashboard or ``sportello collect``, never this command) delivers it once its
undo window has passed. The action's key goes to stdout, the rest to stderr.

Exit codes: 0 done (the action is committed), 1 refused (read-only, a channel
that cannot do it, an unknown conversation or person, an empty reply…): a
sentence on stderr, and nothing committed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

from sportello.core import outbox, triage_report
from sportello.core.board_read import read_board
from sportello.core.desk import Desk, DeskError
from sportello.core.ingest import TEXT_MAX
from sportello.core.outbox import Action, Kind, State
from sportello.core.records import QueueItem
from sportello.core.report import poll_ages
from sportello.core.settings import Config
from sportello.core.snooze_until import FORMS, parse_until
from sportello.core.store import Store
from sportello.core.store_contract import StoreBackend, StoreError
from sportello_sdk.redaction import redact, redact_data, registered

__all__ = ["COMMANDS", "EXIT_OK", "EXIT_REFUSED", "add_commands", "clock", "run"]

EXIT_OK = 0
EXIT_REFUSED = 1
COMMANDS = frozenset({"queue", "reply", "close", "assign", "snooze", "outbox"})
RETRYABLE = frozenset({State.FAILED, State.UNKNOWN, State.ELSEWHERE})
READ_LIMIT = TEXT_MAX * 4 + 4  # bytes of a reply file: TEXT_MAX characters of UTF-8 at most

SNOOZE_FORMS = """\
UNTIL, in the business's time zone:
  1h, 30m, 1h30m     that long from now
  14:30              the next 14:30 (today if still to come, else tomorrow)
  2026-03-02 09:00   that day and time
  tomorrow           tomorrow at 09:00
  opening            when the conversation's channel next opens
  reply              until the customer writes again

The conversation comes back into the queue then, or as soon as the customer writes."""

# The desk's clock (tests set their own).
clock: Callable[[], float] = time.time


class Refusal(Exception):
    """The command will not do what was asked; the message says why."""


def add_commands(commands: Any) -> None:
    """Add the triage commands to the ``sportello`` parser's subcommands."""
    queue = commands.add_parser("queue", help="list the customers waiting, longest wait first")
    queue.add_argument("--json", action="store_true", dest="json_list", help="JSON")
    queue.add_argument(
        "--reveal", action="store_true", help="show e-mail addresses and phone numbers in full"
    )

    reply = commands.add_parser(
        "reply", help="answer a waiting customer (sent after the channel's undo window)"
    )
    reply.add_argument("id", metavar="ID", help="the conversation (ID in sportello queue)")
    text = reply.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="the reply")
    text.add_argument("--file", type=Path, metavar="PATH", help="the reply from a file (- = stdin)")
    reply.add_argument(
        "--again",
        action="store_true",
        help="send it even though another reply to this customer is on its way or sent",
    )

    close = commands.add_parser("close", help="close a conversation: nothing left to answer")
    close.add_argument("id", metavar="ID", help="the conversation (ID in sportello queue)")

    assign = commands.add_parser("assign", help="give a conversation to someone of team:")
    assign.add_argument("id", metavar="ID", help="the conversation (ID in sportello queue)")
    assign.add_argument("person", metavar="PERSON", help="a name from team: in config.yaml")

    snooze = commands.add_parser(
        "snooze",
        help="put a conversation aside until a time, or until the customer writes",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=SNOOZE_FORMS,
    )
    snooze.add_argument("id", metavar="ID", help="the conversation (ID in sportello queue)")
    snooze.add_argument("until", metavar="UNTIL", nargs="+", help=f"until when: {FORMS}")

    box = commands.add_parser(
        "outbox",
        help="the replies and actions on their way",
        usage="sportello outbox [--json] [--all]\n"
        "       sportello outbox retry KEY\n"
        "       sportello outbox discard KEY",
    )
    box.add_argument("--json", action="store_true", dest="json_list", help="JSON")
    box.add_argument("--all", action="store_true", help="also those sent, undone or given up")
    steps = box.add_subparsers(dest="outbox_command", metavar="ACTION")
    retry = steps.add_parser("retry", help="send a failed, unknown or held action again")
    retry.add_argument("key", metavar="KEY", help="its key, or the start of it")
    discard = steps.add_parser(
        "discard", help="give an action up (before it is sent: take it back)"
    )
    discard.add_argument("key", metavar="KEY", help="its key, or the start of it")


def run(args: argparse.Namespace, config: Config) -> int:
    """Run one triage command; its exit code."""
    command = _COMMANDS[args.command]
    try:
        return asyncio.run(command(args, config))
    except (Refusal, DeskError) as exc:
        _err(str(exc))
        return EXIT_REFUSED


def _err(message: str) -> None:
    print(redact(f"sportello: {message}"), file=sys.stderr)


def _out(table: str) -> None:
    """A table on stdout, redacted like every message."""
    print(redact(table))


def _out_json(text: str) -> None:
    """JSON on stdout, its texts redacted one by one (it stays JSON, numbers stay)."""
    if registered():
        text = json.dumps(redact_data(json.loads(text)), ensure_ascii=False, indent=2)
    print(text)


def _wants_json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False) or getattr(args, "json_list", False))


def someone_collects(store: StoreBackend) -> bool:
    """Whether a collector (a dashboard, ``sportello collect``) holds the store's lead.

    Only looks: the lead is let go at once when nobody held it.
    """
    try:
        if store.try_lead():
            store.release_lead()
            return False
    except StoreError:
        return True  # cannot tell: say nothing
    return True


NOBODY_SENDS = (
    "nobody is sending for this store right now: it goes out once the dashboard "
    "or sportello collect runs"
)


# ---------------------------------------------------------------------- the queue


async def cmd_queue(args: argparse.Namespace, config: Config) -> int:
    now = clock()
    tz = config.business.timezone
    async with await Store.open(config.store_path) as store:
        board = await read_board(store, config, now)
        since = {item.conversation_id: item.waiting_since for item in board.queue}
        actions = await _actions_since(store, since)
        collecting = someone_collects(store)
    lines = triage_report.queue_lines(board, triage_report.latest_actions(actions, since))
    reveal = args.reveal or not config.dashboard.mask_personal_data
    if not collecting:
        _err(f"nobody polls the channels right now; showing what is stored, {poll_ages(board)}")
    if _wants_json(args):
        _out_json(triage_report.queue_json(lines, now, tz, reveal))
    elif not lines:
        _err("nobody is waiting")
    else:
        _out(triage_report.queue_table(lines, now, tz, reveal))
    return EXIT_OK


async def _actions_since(store: StoreBackend, since: dict[int, float]) -> list[Action]:
    if not since:
        return []
    found = {a.key: a for a in await store.actions(states=outbox.ACTIVE)}
    for action in await store.actions(since=min(since.values())):
        found[action.key] = action
    return list(found.values())


# ---------------------------------------------------------------------- actions


def _desk(config: Config, store: StoreBackend) -> Desk:
    return Desk(config, lambda: store, clock=clock)


def _writable(desk: Desk, kind: Kind) -> None:
    """Refuse at once when this sportello only watches (read_only, --read-only)."""
    reason = desk.refusal(kind, None) if desk.read_only else None
    if reason is not None:
        raise Refusal(reason)


async def _waiting(desk: Desk, store: StoreBackend, raw: str) -> QueueItem:
    """The waiting conversation ``raw`` names; :class:`Refusal` saying why not."""
    try:
        conversation_id = int(raw.strip())
    except ValueError:
        raise Refusal(
            f"{raw[:40]!r} is not a conversation number (the ID column of sportello queue)"
        ) from None
    item = await desk.conversation(conversation_id)
    if item is not None:
        return item
    state = await store.conversation_state(conversation_id)
    if state is None:
        raise Refusal(f"there is no conversation {conversation_id} (sportello queue lists them)")
    if state.closed:
        why = "it is closed"
    elif state.snoozed_until is not None and state.snoozed_until > desk.clock():
        why = "it is snoozed"
    else:
        why = "nobody is waiting for an answer on it"
    raise Refusal(f"conversation {conversation_id} is not waiting: {why}")


async def _act(
    args: argparse.Namespace,
    config: Config,
    kind: Kind,
    make: Callable[[Desk, StoreBackend, QueueItem], Awaitable[Action]],
    before: Callable[[], None] | None = None,
    after: Callable[[Action], None] | None = None,
) -> int:
    async with await Store.open(config.store_path) as store:
        desk = _desk(config, store)
        _writable(desk, kind)
        if before is not None:
            before()
        item = await _waiting(desk, store, args.id)
        reason = desk.refusal(kind, item.channel_id)
        if reason is not None:
            raise Refusal(reason)
        action = await make(desk, store, item)
        collecting = someone_collects(store)
    print(action.key)
    _err(_committed(action, config))
    if after is not None:
        after(action)
    if not collecting:
        _err(NOBODY_SENDS)
    return EXIT_OK


def _committed(action: Action, config: Config) -> str:
    """``sending in 10s — undo: sportello outbox discard KEY``."""
    now = clock()
    text = triage_report.words(action, now, config.business.timezone)
    if action.due_at > now:
        return f"{text} — undo: sportello outbox discard {action.key}"
    return f"{text} (no undo window on this channel)"


async def cmd_reply(args: argparse.Namespace, config: Config) -> int:
    text: str | None = None

    def read() -> None:
        nonlocal text
        text = args.text if args.text is not None else _read_reply(args.file)
        text = text.rstrip()
        if not text.strip():
            raise Refusal("an empty reply is not sent")
        if len(text) > TEXT_MAX:
            raise Refusal(f"the reply is {len(text)} characters long; at most {TEXT_MAX}")

    async def make(desk: Desk, store: StoreBackend, item: QueueItem) -> Action:
        collision = await desk.collision(item, opened_at=desk.clock())
        if collision.second_answer is not None and not args.again:
            earlier = collision.second_answer
            state = triage_report.words(earlier, desk.clock(), config.business.timezone)
            raise Refusal(
                f"a reply to this customer is already on its way or sent ({state}, "
                f"{triage_report.short_key(earlier.key)}); add --again to send a second one"
            )
        for draft in collision.writing:
            who = triage_report.team_name(draft.author, config.team) or draft.author
            _err(f"note: {who} has a reply to this customer in writing")
        assert text is not None
        return await desk.reply(item, text)

    return await _act(args, config, Kind.REPLY, make, before=read)


def _read_reply(path: Path) -> str:
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(READ_LIMIT + 1)
        else:
            with path.open("rb") as stream:
                data = stream.read(READ_LIMIT + 1)
    except OSError as exc:
        raise Refusal(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    where = "the standard input" if str(path) == "-" else str(path)
    if len(data) > READ_LIMIT:
        raise Refusal(f"{where} is too long for a reply (at most {TEXT_MAX} characters)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refusal(f"{where} is not UTF-8 text; save it as UTF-8") from None


async def cmd_close(args: argparse.Namespace, config: Config) -> int:
    async def make(desk: Desk, store: StoreBackend, item: QueueItem) -> Action:
        return await desk.close(item)

    return await _act(args, config, Kind.CLOSE, make)


async def cmd_assign(args: argparse.Namespace, config: Config) -> int:
    def known() -> None:
        if not config.team:
            raise Refusal("no team: list the people in config.yaml (team:)")

    async def make(desk: Desk, store: StoreBackend, item: QueueItem) -> Action:
        return await desk.assign(item, args.person.strip())

    return await _act(args, config, Kind.ASSIGN, make, before=known)


async def cmd_snooze(args: argparse.Namespace, config: Config) -> int:
    async def make(desk: Desk, store: StoreBackend, item: QueueItem) -> Action:
        try:
            channel = config.channel(item.channel_id)
        except KeyError:
            channel = None
        try:
            until = parse_until(
                " ".join(args.until),
                now=desk.clock(),
                tz=config.business.timezone,
                channel=channel,
            )
        except ValueError as exc:
            raise Refusal(str(exc)) from None
        return await desk.snooze(item, until)

    def when(action: Action) -> None:
        until = action.snooze_until()
        if until is not None and not math.isinf(until):
            moment = datetime.fromtimestamp(until, config.business.timezone)
            _err(f"back in the queue on {moment:%a %Y-%m-%d at %H:%M}, or when the customer writes")

    return await _act(args, config, Kind.SNOOZE, make, after=when)


# ---------------------------------------------------------------------- the outbox


async def cmd_outbox(args: argparse.Namespace, config: Config) -> int:
    step = getattr(args, "outbox_command", None)
    if step is not None:
        return await _outbox_step(args, config, step)
    now = clock()
    tz = config.business.timezone
    async with await Store.open(config.store_path) as store:
        actions = await _desk(config, store).outbox(active_only=not args.all)
        labels = {record.id: record.label for record in await store.channels()}
    labels.update({channel.id: channel.label for channel in config.channels})
    if _wants_json(args):
        _out_json(triage_report.outbox_json(actions, now, tz, config.team))
        return EXIT_OK
    if not actions:
        _err("no actions yet" if args.all else "nothing on its way (--all: every recent action)")
        return EXIT_OK
    _out(triage_report.outbox_table(actions, now, tz, config.team, labels))
    if any(action.state in RETRYABLE for action in actions):
        _err("send again: sportello outbox retry KEY · give up: sportello outbox discard KEY")
    return EXIT_OK


async def _outbox_step(args: argparse.Namespace, config: Config, step: str) -> int:
    async with await Store.open(config.store_path) as store:
        desk = _desk(config, store)
        _writable(desk, Kind.REPLY)
        action = await (desk.retry(args.key) if step == "retry" else desk.discard(args.key))
        collecting = someone_collects(store)
    print(action.key)
    if step == "retry":
        _err(f"{triage_report.words(action, clock(), config.business.timezone)} again")
        if not collecting:
            _err(NOBODY_SENDS)
    elif action.kind is Kind.REPLY:
        _err("discarded: this reply will not be sent")
    else:
        _err(f"discarded: this {action.kind} will not be done")
    return EXIT_OK


_COMMANDS: dict[str, Callable[[argparse.Namespace, Config], Coroutine[Any, Any, int]]] = {
    "queue": cmd_queue,
    "reply": cmd_reply,
    "close": cmd_close,
    "assign": cmd_assign,
    "snooze": cmd_snooze,
    "outbox": cmd_outbox,
}
