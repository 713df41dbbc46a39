"""The plain tables and the JSON of ``sportello queue`` and ``sportello outbox``.

Pure: what to print, from the board (:mod:`sportello.core.board`), the queue rows built
as the dashboard builds them (:mod:`sportello.core.queue_view`) and the outbox's actions.
Customer text is made inert and masked as on the dashboard (unless ``reveal``);
so is every text read from the store. In the JSON an unknown value is ``null``,
never 0 or an empty text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sportello.core import outbox
from sportello.core.board import Board
from sportello.core.inert import inert
from sportello.core.masking import UNKNOWN
from sportello.core.outbox import Action
from sportello.core.queue_view import NO_SUBJECT, QueueRow, SortOrder, build_board_rows
from sportello.core.report import gap_text
from sportello.core.settings import Person, team_name
from sportello_sdk.options import format_duration

__all__ = [
    "OUTBOX_COLUMNS",
    "QUEUE_COLUMNS",
    "QueueLine",
    "latest_actions",
    "outbox_json",
    "outbox_table",
    "queue_json",
    "queue_lines",
    "queue_table",
    "short_key",
    "team_name",
    "words",
]

QUEUE_COLUMNS = ("ID", "CHANNEL", "CUSTOMER", "SUBJECT", "SINCE", "WAIT", "GAP", "ACTION")
OUTBOX_COLUMNS = ("KEY", "STATE", "KIND", "CHANNEL", "ID", "WHO", "MADE", "")
SHORT_KEY = 11  # "sp-" and 8 hex digits: unique enough to type back
TABLE_SUBJECT = 40
TABLE_CUSTOMER = 24
TABLE_TEXT = 120  # describe() of an action, with a channel's error in it
# The dashboard's keys in describe()'s words: not the command's (its footers name
# sportello outbox retry and discard instead).
KEY_HINTS = (" (u to undo)", " — r to retry", ": R resend, D discard", ": R send anyway, D discard")


@dataclass(frozen=True, slots=True)
class QueueLine:
    """One waiting conversation as ``sportello queue`` lists it."""

    row: QueueRow
    action: Action | None  # its latest action, if it has one


def latest_actions(actions: Iterable[Action], since: Mapping[int, float]) -> dict[int, Action]:
    """Per waiting conversation (``since``: id → waiting since), its latest action:
    one still active, or one made during this wait."""
    latest: dict[int, Action] = {}
    for action in actions:
        started = since.get(action.conversation_id)
        if started is None:
            continue
        if action.state not in outbox.ACTIVE and action.made_at < started:
            continue
        known = latest.get(action.conversation_id)
        if known is None or (action.made_at, action.key) >= (known.made_at, known.key):
            latest[action.conversation_id] = action
    return latest


def queue_lines(board: Board, actions: Mapping[int, Action]) -> list[QueueLine]:
    """The board's queue, longest wait first (the dashboard's "longest wait first")."""
    rows = build_board_rows(board).orders[SortOrder.WAIT].rows
    return [QueueLine(row, actions.get(row.conversation_id)) for row in rows]


def words(action: Action, now: float, tz: ZoneInfo) -> str:
    """:func:`outbox.describe` without the dashboard's keys, inert."""
    text = outbox.describe(action, now, tz)
    for hint in KEY_HINTS:
        text = text.replace(hint, "")
    return inert(text, TABLE_TEXT)


def short_key(key: str) -> str:
    return key[:SHORT_KEY]


# ---------------------------------------------------------------------- the queue


def _customer(row: QueueRow, reveal: bool) -> str | None:
    text = row.customer_text(reveal)
    return None if text == UNKNOWN else text


def _subject(row: QueueRow, reveal: bool) -> str | None:
    text = row.subject_text(reveal)
    return None if text == NO_SUBJECT else text


def queue_json(lines: Sequence[QueueLine], now: float, tz: ZoneInfo, reveal: bool) -> str:
    items: list[dict[str, Any]] = []
    for line in lines:
        row, action = line.row, line.action
        item = row.item
        items.append(
            {
                "id": item.conversation_id,
                "channel": item.channel_id,
                "channel_label": row.channel_label,
                "customer": _customer(row, reveal),
                "subject": _subject(row, reveal),
                "waiting_since": _iso(item.waiting_since, tz),
                "wait_s": round(row.wait_s),
                "expect_s": round(row.expect_s),
                "gap_s": round(row.gap_s),
                "action": None if action is None else _action_json(action, now, tz),
            }
        )
    return json.dumps(items, ensure_ascii=False, indent=2)


def _action_json(action: Action, now: float, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "key": action.key,
        "kind": str(action.kind),
        "state": str(action.state),
        "describe": words(action, now, tz),
    }


def queue_table(lines: Sequence[QueueLine], now: float, tz: ZoneInfo, reveal: bool) -> str:
    rows: list[tuple[str, ...]] = []
    for line in lines:
        row = line.row
        rows.append(
            (
                str(row.conversation_id),
                row.channel_label,
                inert(_customer(row, reveal) or UNKNOWN, TABLE_CUSTOMER),
                inert(row.subject_text(reveal), TABLE_SUBJECT),
                _when(row.item.waiting_since, now, tz),
                format_duration(row.wait_s),
                gap_text(row.gap_s),
                "" if line.action is None else words(line.action, now, tz),
            )
        )
    return _table(QUEUE_COLUMNS, rows, right={0, 5, 6})


# ---------------------------------------------------------------------- the outbox


def outbox_json(actions: Sequence[Action], now: float, tz: ZoneInfo, team: Sequence[Person]) -> str:
    items = [
        {
            "key": action.key,
            "state": str(action.state),
            "kind": str(action.kind),
            "channel": action.channel_id,
            "conversation_id": action.conversation_id,
            "who": team_name(action.made_by, team),
            "made_by": inert(action.made_by, 100),
            "made_at": _iso(action.made_at, tz),
            "describe": words(action, now, tz),
            "error": None if action.error is None else inert(action.error, outbox.ERROR_MAX),
        }
        for action in actions
    ]
    return json.dumps(items, ensure_ascii=False, indent=2)


def outbox_table(
    actions: Sequence[Action],
    now: float,
    tz: ZoneInfo,
    team: Sequence[Person],
    labels: Mapping[str, str],
) -> str:
    rows = [
        (
            short_key(action.key),
            str(action.state),
            str(action.kind),
            inert(labels.get(action.channel_id, action.channel_id), 40),
            str(action.conversation_id),
            team_name(action.made_by, team) or inert(action.made_by, 40),
            _when(action.made_at, now, tz),
            words(action, now, tz),
        )
        for action in actions
    ]
    return _table(OUTBOX_COLUMNS, rows, right={4})


# ---------------------------------------------------------------------- helpers


def _iso(at: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(at, tz).isoformat(timespec="seconds")


def _when(at: float, now: float, tz: ZoneInfo) -> str:
    """``09:12`` today, ``Mon 09:12`` within the week, else ``2026-01-05 09:12``."""
    moment = datetime.fromtimestamp(at, tz)
    today = datetime.fromtimestamp(now, tz).date()
    if moment.date() == today:
        return moment.strftime("%H:%M")
    if today - timedelta(days=6) <= moment.date() < today:
        return moment.strftime("%a %H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    """Aligned columns, two spaces apart; the last one as long as it is."""
    every = [tuple(header), *(tuple(row) for row in rows)]
    widths = [max(len(row[i]) for row in every) for i in range(len(header) - 1)]
    lines = []
    for row in every:
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row[:-1])
        ]
        cells.append(row[-1])
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
