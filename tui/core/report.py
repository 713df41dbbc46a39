"""The plain table and the JSON of ``sportello --once``."""

from __future__ import annotations

import json
from typing import Any

from adapters.options import format_duration
from tui.core.board import Board, ChannelRow, opens_label

COLUMNS = ("CHANNEL", "WAITING", "OLDEST", "EXPECT", "GAP", "FRT p50", "STATE")


def gap_text(gap_s: float | None) -> str:
    """``ok`` when nobody is behind, else ``+1h10m``."""
    if gap_s is None or gap_s <= 0:
        return "ok"
    return "+" + format_duration(gap_s)


def _state_text(row: ChannelRow, now: float) -> str:
    text = str(row.health)
    if row.error:
        text += f": {row.error}"
    opens = opens_label(row, now)
    if opens is not None:
        text += f" (closed, opens {opens})"
    return text


def row_cells(row: ChannelRow, now: float) -> tuple[str, ...]:
    m = row.metrics
    return (
        row.channel.label,
        str(m.waiting),
        format_duration(m.oldest_wait_s) if m.waiting else "—",
        format_duration(m.expect_s),
        gap_text(m.gap_s),
        format_duration(m.frt_p50_s),
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


def as_json(board: Board) -> str:
    items: list[dict[str, Any]] = []
    for row in board.channels:
        m = row.metrics
        items.append(
            {
                "channel": row.channel.id,
                "label": row.channel.label,
                "waiting": m.waiting,
                "oldest_wait_s": _seconds(m.oldest_wait_s),
                "expect_s": _seconds(m.expect_s),
                "gap_s": _seconds(m.gap_s),
                "frt_p50_s": _seconds(m.frt_p50_s),
                "state": str(row.health),
                "error": row.error,
            }
        )
    return json.dumps(items, ensure_ascii=False, indent=2)
