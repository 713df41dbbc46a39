"""Hostile customer text through the whole app: stored raw, shown inert and bounded."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sportello.app import SportelloApp
from sportello.core.store import Store
from sportello.screens.conversation import ConversationScreen
from sportello.widgets.queue_table import QueueTable
from sportello_sdk import Author, ChannelState, Conversation, Customer, Message
from tests.dashboard_fixtures import FROZEN, demo_config, frozen_clock

ESCAPES = (
    "\x1b[2J\x1b[31mred\x1b[0m",  # CSI: clear screen, colours
    "\x1b]0;pwned title\x07",  # OSC 0: window title
    "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07",  # OSC 52: write the clipboard
    "\x9b31m\x9d0;c1 title\x9c",  # C1 CSI / OSC
    "\u202eevil\u202c \u2066iso\u2069",  # bidi overrides and isolates
)
MARKUP = "[@click=app.quit]click me[/] [b]bold[/b] [link=http://x]l[/link]"
HUGE = "Ordine " + "A" * 1_000_000


def hostile_state() -> ChannelState:
    at = FROZEN - timedelta(hours=1)
    body = "".join(ESCAPES) + " " + MARKUP
    conversations = (
        Conversation(
            external_id="evil-1",
            customer=Customer(name="\x1b[5mMallory\x07 " + MARKUP, email="mallory@example.com"),
            subject=MARKUP + " " + "".join(ESCAPES),
            first_customer_message_at=at,
            waiting_since=at,
            messages=(Message(Author.CUSTOMER, at, body + "\n" + HUGE),),
        ),
        Conversation(
            external_id="evil-2",
            customer=Customer(name="Big"),
            subject=HUGE,
            first_customer_message_at=at - timedelta(minutes=5),
            waiting_since=at - timedelta(minutes=5),
        ),
    )
    return ChannelState(conversations)


def screen_text(app: SportelloApp) -> str:
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


async def test_hostile_text_is_inert_and_bounded(tmp_path: Path) -> None:
    config = demo_config(tmp_path / "store.db")
    async with await Store.open(config.store_path) as store:
        await store.sync_channels(config.channels, {})
        await store.apply_fetch("email", hostile_state(), FROZEN.timestamp())
    app = SportelloApp(config, clock=frozen_clock, collect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        queue = app.dashboard.query_one("#queue", QueueTable)
        for _ in range(200):
            await asyncio.sleep(0.05)
            if len(queue.view.visible) == 2:
                break
        assert len(queue.view.visible) == 2
        await pilot.press("G")  # the hostile thread (the other one waits longer)
        assert queue.selected_row is not None
        assert queue.selected_row.item.external_id == "evil-1"
        await asyncio.sleep(0.4)  # the preview loads once the cursor rests
        await pilot.pause()
        text = screen_text(app)
        assert "Mallory" in text, "the preview did not show the hostile thread"
        assert "\x1b" not in text and "\x07" not in text
        assert not any("\x80" <= ch <= "\x9f" for ch in text), "C1 control on screen"
        assert not any(ch in text for ch in "\u202e\u202c\u2066\u2069"), "bidi control"
        assert "[@click=app.quit]click me[/]" in text, "markup was interpreted"
        assert "[b]bold[/b]" in text
        assert "A" * 5000 not in text, "a huge text was not bounded"
        # Open the conversation: the whole thread, still inert and bounded.
        await pilot.press("enter")
        await asyncio.sleep(0.3)
        await pilot.pause()
        assert isinstance(app.screen, ConversationScreen)
        text = screen_text(app)
        assert "\x1b" not in text and "\x07" not in text
        assert "[@click=app.quit]" in text
        await pilot.press("escape")
        # Clicking the markup text did not run an action: the app is still here.
        assert app.is_running
    async with await Store.open(config.store_path) as store:
        waiting = {item.external_id: item for item in await store.waiting()}
        stored = await store.messages(waiting["evil-1"].conversation_id)
        assert len(stored[0].text) <= 20_000, "the store keeps hostile text bounded"
