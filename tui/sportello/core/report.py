"""The plain table and the JSON of ``sportello --once``.

A channel whose queue was never read (:attr:`ChannelRow.queue_known`) has no
waiting count, oldest wait or gap: ``—`` in the table and ``null`` in the JSON,
as on the dashboard, never 0. The oldest wait is unknown too when nobody waits.

Every text in both (a label, a state, an error) passes the SDK's redaction; the
numbers do not, so a short secret (a PIN) never blanks a count.
"""

from __future__ import annotations

import json
from typing import Any

from sportello.core.board import Board, ChannelRow, dropped_note, opens_label
from sportello.core.records import Health
from sportello_sdk.options import format_duration
from sportello_sdk.redaction import redact

COLUMNS = ("CHANNEL", "WAITING", "OLDEST", "EXPECT", "GAP", "FRT p50", "STATE")
UNKNOWN = "—"
OFF_HOURS = "off-hrs"
"""The FRT shown when it is under a minute of open time only because the answers
were given while the channel was closed (their real-time median is longer)."""
CLOSED = "closed"
"""OLDEST of a closed channel whose waits have not started counting."""


def gap_text(gap_s: float | None) -> str:
    """``ok`` when nobody is behind, else ``+1h10m``."""
    if gap_s is None or gap_s <= 0:
        return "ok"
    return "+" + format_duration(gap_s)


def all_clear(board: Board) -> bool:
    """Every channel is ok and its queue known: the only state that exits 0."""
    return all(row.health is Health.OK and row.queue_known for row in board.channels)


def _state_text(row: ChannelRow, now: float) -> str:
    text = str(row.health)
    if row.error:
        text += f": {row.error}"
    opens = opens_label(row, now)
    if opens is not None:
        text += f" (closed, opens {opens})"
    note = dropped_note(row.dropped) if row.health is Health.OK else None
    if note is not None and row.dropped is not None:  # what the sense checks refused
        reasons = row.dropped.reasons
        more = row.dropped.count + row.dropped.fixed - 1
        text += f" · {note}" + (f": {reasons[0]}" if reasons else "")
        text += f" (and {more} more)" if reasons and more > 0 else ""
    return redact(text)


def row_cells(row: ChannelRow, now: float) -> tuple[str, ...]:
    m = row.metrics
    if not row.queue_known:
        waiting = oldest = gap = UNKNOWN
    elif row.waits_not_started:  # wrote after closing: nothing counted yet, not "0s ok"
        waiting, oldest, gap = str(m.waiting), CLOSED, ""
    else:
        waiting = str(m.waiting)
        oldest = format_duration(m.oldest_wait_s) if m.waiting else UNKNOWN
        gap = gap_text(m.gap_s)
    frt = OFF_HOURS if row.answered_off_hours else format_duration(m.frt_p50_s)
    return (
        redact(row.channel.label),
        waiting,
        oldest,
        format_duration(m.expect_s),
        gap,
        frt,
        _state_text(row, now),
    )


def table(board: Board) -> str:
    """A plain, aligned table, one row per channel; numbers right-aligned."""
    rows = [COLUMNS, *(row_cells(r, board.now) for r in board.channels)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS) - 1)]
    lines = []
    for cells in rows:
        parts = []
        for i, cell in enumerate(cells[:-1]):
            parts.append(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]))
        parts.append(cells[-1])
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def _seconds(value: float | None) -> int | None:
    return None if value is None else round(value)


def row_json(row: ChannelRow) -> dict[str, Any]:
    m = row.metrics
    known = row.queue_known
    return {
        "channel": row.channel.id,
        "label": redact(row.channel.label),
        "waiting": m.waiting if known else None,
        "oldest_wait_s": _seconds(m.oldest_wait_s) if known and m.waiting else None,
        "expect_s": _seconds(m.expect_s),
        "gap_s": _seconds(m.gap_s) if known else None,
        "frt_p50_s": _seconds(m.frt_p50_s),
        "state": str(row.health),
        "error": None if row.error is None else redact(row.error),
        "dropped": _dropped_json(row),
    }


def _dropped_json(row: ChannelRow) -> dict[str, Any] | None:
    """What the last good poll's sense checks refused: count, fixed, the first reasons."""
    report = row.dropped
    if report is None:
        return None
    reasons = [redact(reason) for reason in report.reasons]
    return {"count": report.count, "fixed": report.fixed, "reasons": reasons}


def as_json(board: Board) -> str:
    items = [row_json(row) for row in board.channels]
    return json.dumps(items, ensure_ascii=False, indent=2)


def poll_ages(board: Board) -> str:
    """How old the stored figures are: ``last poll 2m ago`` or ``last polls 5s to 2m ago``."""
    polls = [row.record.last_poll_at for row in board.channels if row.record is not None]
    known = [at for at in polls if at is not None]
    if not known:
        return "no channel polled yet"
    newest = format_duration(max(0.0, board.now - max(known)))
    oldest = format_duration(max(0.0, board.now - min(known)))
    never = len(board.channels) - len(known)
    text = f"last poll {newest} ago" if newest == oldest else f"last polls {newest} to {oldest} ago"
    if never:
        text += f"; {never} channel(s) never polled"
    return text
