"""Every key of the dashboard, declared once.

The screens build their bindings from this table, the help screen and the command
palette list it, and ``keys:`` in config.yaml remaps it by id::

    keys:
      dashboard.sort: s
      app.refresh: f5,ctrl+r
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from itertools import combinations


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
    KeySpec(
        "app.pause", "p", "toggle_pause", "pause", "Pause or resume live updates", "app", False
    ),
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
        False,
    ),
    KeySpec(
        "dashboard.sort",
        "o",
        "cycle_sort",
        "sort",
        "Change the order of the queue",
        "dashboard",
        False,
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
    KeySpec(
        "conversation.down", "down,j", "read_down", "down", "Scroll down", "conversation", False
    ),
    KeySpec("conversation.up", "up,k", "read_up", "up", "Scroll up", "conversation", False),
    KeySpec(
        "conversation.page_down",
        "pagedown,space",
        "read_page_down",
        "page down",
        "Scroll a page down",
        "conversation",
        False,
    ),
    KeySpec(
        "conversation.page_up",
        "pageup",
        "read_page_up",
        "page up",
        "Scroll a page up",
        "conversation",
        False,
    ),
    KeySpec("conversation.top", "home,g", "read_top", "first", "The first message", "conversation"),
    KeySpec(
        "conversation.bottom", "end,G", "read_bottom", "last", "The newest message", "conversation"
    ),
    KeySpec("filter.cancel", "escape", "cancel", "clear filter", "Clear the filter", "filter"),
    KeySpec("filter.accept", "enter", "accept", "keep filter", "Keep the filter", "filter"),
    KeySpec(
        "filter.down",
        "down",
        "accept",
        "to the queue",
        "Keep the filter, back to the queue",
        "filter",
        False,
    ),
    KeySpec("help.close", "escape,q,question_mark", "dismiss", "close", "Close this list", "help"),
    # Triage: on the queue (the selected conversation) and on the conversation screen.
    KeySpec("triage.reply", "r", "reply", "reply", "Reply to the conversation", "triage"),
    KeySpec(
        "triage.assign", "a", "assign", "assign", "Assign the conversation to someone", "triage"
    ),
    KeySpec(
        "triage.snooze",
        "s",
        "snooze",
        "snooze",
        "Snooze the conversation: 1 hour, next opening, tomorrow morning",
        "triage",
    ),
    KeySpec("triage.close", "c", "close", "close", "Close the conversation", "triage"),
    KeySpec("triage.undo", "u", "undo", "undo", "Undo the last action while it is held", "triage"),
    KeySpec(
        "triage.retry",
        "R",
        "retry",
        "retry",
        "Send a failed or unknown action again",
        "triage",
        False,
    ),
    KeySpec(
        "triage.discard",
        "D",
        "discard",
        "discard",
        "Give up a failed or unknown action",
        "triage",
        False,
    ),
    KeySpec("composer.send", "ctrl+j,ctrl+s", "send", "send", "Send the reply", "composer"),
    KeySpec(
        "composer.keep",
        "escape",
        "keep",
        "keep draft",
        "Close the reply, keeping the draft",
        "composer",
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


# The scopes whose bindings are active together: a scope with its parents. A
# screen's or widget's binding shadows its parent's on purpose (``q`` is "back"
# on the conversation screen); siblings (queue, channels) are never active at once.
SCOPE_PARENTS: dict[str, tuple[str, ...]] = {
    "queue": ("dashboard", "triage", "app"),
    "channels": ("dashboard", "triage", "app"),
    "dashboard": ("triage", "app"),
    "conversation": ("triage", "app"),
    "composer": ("conversation", "triage", "app"),
    "triage": ("app",),
    "app": (),
}

# Textual's names for single characters that are not letters or digits.
_CHARACTER_NAMES = {"solidus": "slash", "reverse_solidus": "backslash", "low_line": "underscore"}
_CHARACTER_NAMES |= {"commercial_at": "at", "hyphen_minus": "minus", "plus_sign": "plus"}


@dataclass(frozen=True, slots=True)
class KeyConflict:
    """Two bindings active at the same time that share ``key``."""

    first: str  # binding ids, in KEYS order
    second: str
    key: str

    def __str__(self) -> str:
        return f"{self.key!r} is both {self.first} and {self.second}"


def scope_parents(scope: str) -> tuple[str, ...]:
    """The scopes active whenever ``scope`` is; a scope not in SCOPE_PARENTS has ``app``."""
    if scope == "app":
        return ()
    return SCOPE_PARENTS.get(scope, ("app",))


def active_together(first: str, second: str) -> bool:
    return first == second or first in scope_parents(second) or second in scope_parents(first)


def normalise_key(key: str) -> str:
    """One Textual key name as Textual matches it: ``?`` is ``question_mark``.

    Case matters only for a single letter (``G`` is not ``g``).
    """
    key = key.strip()
    if len(key) != 1:
        return key.lower()
    if key.isalnum():
        return key
    try:
        name = unicodedata.name(key).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return key
    return _CHARACTER_NAMES.get(name, name)


def split_keys(keys: str) -> list[str]:
    """The normalised keys of a comma-separated list (empty entries dropped)."""
    return [normalise_key(key) for key in keys.split(",") if key.strip()]


def key_conflicts(keys: Mapping[str, str]) -> list[KeyConflict]:
    """Keys that two bindings active together would share after ``keys:`` is applied.

    Unknown ids in ``keys`` are ignored (:func:`check_keymap` reports them).
    Only conflicts that the default table does not already have are returned:
    those are deliberate shadowing (``q`` means "back" on the conversation screen).
    """
    remapped = {spec.id: keys.get(spec.id, spec.keys) for spec in KEYS}
    defaults = set(_conflicts({spec.id: spec.keys for spec in KEYS}))
    return [conflict for conflict in _conflicts(remapped) if conflict not in defaults]


def _conflicts(keys: Mapping[str, str]) -> Iterator[KeyConflict]:
    parsed = {spec.id: split_keys(keys[spec.id]) for spec in KEYS}
    for first, second in combinations(KEYS, 2):
        if not active_together(first.scope, second.scope):
            continue
        shared = set(parsed[first.id]) & set(parsed[second.id])
        for key in sorted(shared):
            yield KeyConflict(first.id, second.id, key)
