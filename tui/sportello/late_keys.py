"""Keys typed ahead of the screen: each goes where the focus is when it is handled.

Textual sends each key read from the terminal to the widget focused at that
moment, and checks the screen's bindings only once the key has bubbled back up
to the app. Keys typed quickly arrive in one read (over SSH, always), so all of
them are sent before the first is handled. :class:`LateKeys` does two things:

- a key whose bindings are about to be checked after the screen or the focus
  changed (by a key read before it) is sent again, as a new key, to where the
  focus is now;
- while a screen is opening something to type in (:meth:`LateKeys.keep_typed`:
  the reply composer), the letters typed meanwhile are kept for it
  (:meth:`LateKeys.take_typed`). In a quick "rciao", ``r`` starts opening the
  composer, and ``c`` then met the queue's bindings: it closed the conversation.
"""

from __future__ import annotations

import time

from textual import events
from textual.app import App
from textual.dom import DOMNode

__all__ = ["KEEP_TYPED_S", "LateKeys"]

KEEP_TYPED_S = 3.0  # letters are kept for what opens at most this long
_SENT_TO = "_sportello_sent_to"  # attribute of a key: (screen, focus) when it was read


class LateKeys(App[int]):
    """Mix into the app (before :class:`~textual.app.App`)."""

    _typed: list[str] | None = None
    _typed_until = 0.0

    def keep_typed(self, for_s: float = KEEP_TYPED_S) -> None:
        """From now on keep the letters typed, until :meth:`take_typed` (or ``for_s``);
        letters already kept stay (the dashboard starts, the screen it opens goes on)."""
        if self._typed is None or time.monotonic() > self._typed_until:
            self._typed = []
        self._typed_until = time.monotonic() + for_s

    def take_typed(self) -> str:
        """The letters kept since :meth:`keep_typed`; keeping them stops."""
        typed, self._typed = self._typed, None
        return "".join(typed or ())

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            setattr(event, _SENT_TO, self._focus_now())
        await super().on_event(event)

    async def _on_key(self, event: events.Key) -> None:
        # Textual calls the _on_key of every class of the app, this one first; App's
        # checks the bindings, unless this one prevents it.
        if self._typed is not None:
            if time.monotonic() > self._typed_until:
                self._typed = None  # what was to open did not: keys are keys again
            elif event.is_printable and event.character:
                self._typed.append(event.character)
                event.prevent_default()
                return
        sent_to = getattr(event, _SENT_TO, None)
        if sent_to is not None and sent_to != self._focus_now():
            event.prevent_default()
            again = events.Key(event.key, event.character)
            again.set_sender(self)
            (self.focused or self.screen).post_message(again)  # read as if typed now

    def _focus_now(self) -> tuple[DOMNode, DOMNode | None]:
        return self.screen, self.focused
