"""The conversation screen: pushed with its messages, scrolls, Escape comes back."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from textual.app import App, ComposeResult
from textual.widgets import Label

from sportello.core.records import MessageRecord
from sportello.screens.conversation import ConversationBody, ConversationScreen
from sportello.widgets.key_bar import KeyBar
from sportello.widgets.preview import ConversationHeader

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=ROME).timestamp()

HEADER = ConversationHeader(
    channel_label="Email",
    customer_name="Luca B.",
    customer_email="luca@example.com",
    customer_phone=None,
    subject="Fattura errata [b]x[/b]",
    wait_s=5 * 3600.0,
    gap_s=3600.0,
)


def messages(count: int) -> list[MessageRecord]:
    out = []
    for i in range(count):
        author = "customer" if i % 2 == 0 else "business"
        text = f"message number {i}\n" + "riga di testo\n" * 3
        out.append(MessageRecord(author, None, NOW - (count - i) * 600, text))
    return list(reversed(out))  # given newest first: the screen sorts them


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield Label("dashboard")


def visible(app: App[None]) -> str:
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


async def test_push_scroll_and_escape_back() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = ConversationScreen(HEADER, messages(40), reveal=False, tz=ROME, now=NOW)
        await app.push_screen(screen)
        await pilot.pause()
        await pilot.pause()
        assert app.screen is screen
        body = screen.body
        assert app.focused is body
        # Opens on the newest message, oldest first above it.
        text = visible(app)
        assert "message number 39" in text
        assert "message number 0" not in text
        assert "Email · Luca B. · waiting for 5h00m · gap +1h00m" in text
        assert "Fattura errata [b]x[/b]" in text
        assert "40 messages" in text
        assert body.scroll_y > 0
        await pilot.press("g")
        await pilot.pause()
        assert body.scroll_y == 0
        assert "message number 0" in visible(app)
        await pilot.press("j", "j")
        await pilot.pause()
        assert body.scroll_y == 2
        await pilot.press("k")
        await pilot.pause()
        assert body.scroll_y == 1
        await pilot.press("pagedown")
        await pilot.pause()
        assert body.scroll_y > 10
        await pilot.press("G")
        await pilot.pause()
        assert body.scroll_y == body.max_scroll_y
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ConversationScreen)
        assert "dashboard" in visible(app)


async def test_q_also_comes_back_and_footer_offers_no_reply() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = ConversationScreen(HEADER, messages(3), reveal=False, tz=ROME, now=NOW)
        await app.push_screen(screen)
        await pilot.pause()
        keys = screen.query_one(KeyBar).render().plain
        assert "back" in keys and "reply" not in keys
        ids = {b.id for _, b, _, _ in screen.active_bindings.values()}
        assert "conversation.back" in ids
        assert not any(
            "reply" in (b.description or "") for _, b, _, _ in screen.active_bindings.values()
        )
        await pilot.press("q")
        await pilot.pause()
        assert app.screen is not screen


async def test_hostile_and_huge_messages() -> None:
    app = Host()
    hostile = "\x1b]52;c;SGVsbG8=\x07\x1b[2J[@click=app.quit]x[/] \u202eevil"
    huge = "B" * 1_000_000
    async with app.run_test(size=(80, 24)) as pilot:
        screen = ConversationScreen(
            HEADER,
            [
                MessageRecord("customer", None, NOW - 60, hostile),
                MessageRecord("customer", None, NOW - 30, huge),
            ],
            reveal=False,
            tz=ROME,
            now=NOW,
        )
        await app.push_screen(screen)
        await pilot.pause()
        plain = "\n".join(part.plain for part in screen.parts)
        assert "\x1b" not in plain and "\x07" not in plain and "\u202e" not in plain
        assert "[@click=app.quit]x[/]" in plain
        assert len(plain) < 30_000
        await pilot.press("g")
        await pilot.pause()
        text = visible(app)
        assert "[@click=app.quit]x[/]" in text
        assert "\x1b" not in text
        await pilot.press("escape")
        assert app.is_running


async def test_empty_conversation_says_so() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(ConversationScreen(HEADER, [], reveal=False, tz=ROME, now=NOW))
        await pilot.pause()
        assert "No messages stored" in visible(app)
        assert isinstance(app.screen.focused, ConversationBody)
