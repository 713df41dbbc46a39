"""Every key of the dashboard, declared once.

The screens build their bindings from this table, the help screen and the command
palette list it, and ``keys:`` in config.yaml remaps it by id::

    keys:
      dashboard.sort: s
      app.refresh: f5,ctrl+r
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from difflib import get_close_matches


@dataclass(frozen=True, slots=True)
class KeySpec:
    id: str
    keys: str  # Textual key names, comma-separated
    action: str
    description: str  # short, for the footer
    help: str  # one line for the help screen and the command palette
    scope: str  # "app", "dashboard", "queue", "channels", "conversation"
    show: bool = True  # in the footer


KEYS: tuple[KeySpec, ...] = (
    KeySpec("app.quit", "q", "quit", "quit", "Quit sportello", "app"),
    KeySpec("app.help", "question_mark", "help", "keys", "Show every key of this screen", "app"),
    KeySpec(
        "app.refresh", "f5,ctrl+r", "refresh", "refresh", "Poll every channel now", "app", False
    ),
    KeySpec("app.pause", "p", "toggle_pause", "pause", "Pause or resume live updates", "app"),
    KeySpec(
        "dashboard.filter", "slash", "filter", "filter", "Filter the queue by text", "dashboard"
    ),
    KeySpec(
        "dashboard.channel",
        "f",
        "cycle_channel",
        "channel",
        "Show one channel's queue, then the next",
        "dashboard",
    ),
    KeySpec(
        "dashboard.sort", "o", "cycle_sort", "sort", "Change the order of the queue", "dashboard"
    ),
    KeySpec(
        "dashboard.reveal",
        "v",
        "toggle_reveal",
        "reveal",
        "Reveal or mask customers' e-mail addresses and phone numbers",
        "dashboard",
        False,
    ),
    KeySpec(
        "dashboard.clear",
        "escape",
        "clear_filters",
        "clear",
        "Clear the text and channel filters",
        "dashboard",
        False,
    ),
    KeySpec("queue.open", "enter", "open", "open", "Open the selected conversation", "queue"),
    KeySpec("queue.down", "down,j", "cursor_down", "down", "Next conversation", "queue", False),
    KeySpec("queue.up", "up,k", "cursor_up", "up", "Previous conversation", "queue", False),
    KeySpec("queue.page_down", "pagedown", "page_down", "page down", "Next page", "queue", False),
    KeySpec("queue.page_up", "pageup", "page_up", "page up", "Previous page", "queue", False),
    KeySpec("queue.first", "home,g", "first", "first", "First conversation", "queue", False),
    KeySpec("queue.last", "end,G", "last", "last", "Last conversation", "queue", False),
    KeySpec("channels.down", "down,j", "cursor_down", "down", "Next channel", "channels", False),
    KeySpec("channels.up", "up,k", "cursor_up", "up", "Previous channel", "channels", False),
    KeySpec(
        "channels.select",
        "enter",
        "select_cursor",
        "show",
        "Show only this channel's queue",
        "channels",
        False,
    ),
    KeySpec(
        "conversation.back", "escape,q", "back", "back", "Back to the dashboard", "conversation"
    ),
)

BY_ID: dict[str, KeySpec] = {spec.id: spec for spec in KEYS}


def in_scope(scope: str) -> tuple[KeySpec, ...]:
    return tuple(spec for spec in KEYS if spec.scope == scope)


def check_keymap(keys: Mapping[str, str]) -> list[str]:
    """Problems with a ``keys:`` section: unknown ids (with a suggestion), empty keys."""
    problems = []
    for key_id, value in keys.items():
        if key_id not in BY_ID:
            close = get_close_matches(key_id, BY_ID, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"keys: unknown key id {key_id!r}{hint}")
        elif not value.strip():
            problems.append(f"keys: {key_id} has no key")
    return problems
