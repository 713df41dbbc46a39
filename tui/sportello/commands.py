"""The command palette (Ctrl+P): sportello's actions, found by the words on the screen.

Every action of the key table (:mod:`sportello.core.keymap`) that makes sense from the
palette is listed once, by its help text, and found by that text, by the word the
key bar shows for it ("sort", "filter", "refresh") and by a few synonyms ("help",
"order", "search", "poll"…). Of Textual's own commands only the theme is kept:
its "Keys" panel duplicates ``?`` and its screenshot has nowhere to go over SSH.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from sportello.core.keymap import KEYS, KeySpec

__all__ = ["SYNONYMS", "PaletteCommand", "SportelloCommands", "palette_commands"]

# Words people type for an action, besides its help text and its key-bar word.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "app.quit": ("exit", "close", "leave"),
    "app.help": ("help", "keys", "shortcuts", "keyboard"),
    "app.refresh": ("refresh", "poll", "reload", "update", "fetch"),
    "app.pause": ("pause", "resume", "freeze", "stop updates"),
    "dashboard.filter": ("filter", "search", "find"),
    "dashboard.channel": ("channel", "one channel"),
    "dashboard.sort": ("sort", "order", "newest", "oldest"),
    "dashboard.reveal": ("reveal", "unmask", "mask", "show email", "show phone", "privacy"),
    "dashboard.clear": ("clear", "reset", "all channels"),
    "conversation.back": ("back", "dashboard"),
    "triage.reply": ("reply", "answer", "write", "respond"),
    "triage.assign": ("assign", "give to", "hand over", "team"),
    "triage.snooze": ("snooze", "later", "remind", "postpone"),
    "triage.close": ("close", "done", "resolve", "archive"),
    "triage.undo": ("undo", "take back", "cancel"),
    "triage.retry": ("retry", "resend", "send again"),
    "triage.discard": ("discard", "give up", "drop"),
}
THEME_WORDS = ("theme", "colours", "colors", "dark", "light")

# Scopes whose actions the palette offers, by the screen it was opened from;
# the queue's and channel rows' keys move a cursor and have no place there.
_SCOPES = {
    "DashboardScreen": ("app", "triage", "dashboard"),
    "ConversationScreen": ("app", "triage", "conversation"),
}


@dataclass(frozen=True, slots=True)
class PaletteCommand:
    title: str
    help: str
    callback: Callable[[], Any]
    words: tuple[str, ...]  # what it is found by, the title first


def _keys_label(spec: KeySpec, keymap: dict[str, str]) -> str:
    from sportello.screens.help import key_label

    return "key " + key_label(keymap.get(spec.id, spec.keys))


def palette_commands(app: Any, screen: Any) -> Iterator[PaletteCommand]:
    """The commands the palette offers on ``screen``, each once."""
    scopes = _SCOPES.get(type(screen).__name__, ("app",))
    keymap = dict(getattr(getattr(app, "config", None), "keys", {}) or {})
    seen: set[str] = set()
    for spec in KEYS:
        if spec.scope not in scopes or spec.help in seen:
            continue
        target = app if spec.scope == "app" else screen
        action = getattr(target, f"action_{spec.action}", None)
        if action is None or not callable(action):
            continue
        if spec.scope != "app" and not _allowed(screen, spec.action):
            continue  # not on this screen at all (a conversation opened only to read)
        seen.add(spec.help)
        words = (spec.help, spec.description, *SYNONYMS.get(spec.id, ()))
        help_text = _keys_label(spec, keymap)
        refusal = getattr(screen, "refusal", None)
        reason = refusal(spec.action) if callable(refusal) else None
        if reason:  # still listed, and choosing it says why (as the key does)
            help_text = f"unavailable: {reason}"
        yield PaletteCommand(spec.help, help_text, action, words)
    yield PaletteCommand(
        "Change the colours (theme)", "Textual's themes", app.action_change_theme, THEME_WORDS
    )


def _allowed(screen: Any, action: str) -> bool:
    check = getattr(screen, "check_action", None)
    return not callable(check) or check(action, ()) is not False


class SportelloCommands(Provider):
    """Our actions for the command palette; see the module docstring."""

    async def discover(self) -> Hits:
        for command in palette_commands(self.app, self.screen):
            yield DiscoveryHit(command.title, command.callback, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in palette_commands(self.app, self.screen):
            title_score = matcher.match(command.title)
            best = max([title_score, *(matcher.match(word) for word in command.words[1:])])
            if best <= 0:
                continue
            # The title is always what is shown; highlighted where it matched.
            shown = matcher.highlight(command.title) if title_score > 0 else command.title
            yield Hit(best, shown, command.callback, text=command.title, help=command.help)
