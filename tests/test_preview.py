"""The preview: hostile customer text stays inert and bounded, masking, times."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget

from sportello.core.queue_view import QueueRow
from sportello.core.records import MessageRecord
from sportello.screens import dashboard as dashboard_module
from sportello.screens.dashboard import PREVIEW_REPEAT_S, DashboardScreen
from sportello.widgets.cells import customer_block, format_clock
from sportello.widgets.preview import (
    PREVIEW_BODY_LIMIT,
    ConversationHeader,
    Preview,
    PreviewLines,
    header_text,
)
from sportello.widgets.queue_table import QueueTable
from tests.dashboard_fixtures import dashboard, demo_app, until_loaded

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=ROME).timestamp()

OSC52 = "\x1b]52;c;SGVsbG8=\x07"
CLEAR = "\x1b[2J"
CLICK = "[@click=app.quit]x[/]"
BOLD = "[b]bold[/b]"
RLO = "\u202eevil"
HOSTILE = f"{OSC52}{CLEAR}{CLICK} {BOLD} {RLO}"


def header(**kw: object) -> ConversationHeader:
    values: dict[str, object] = {
        "channel_label": "Facebook",
        "customer_name": "Maria R.",
        "customer_email": "maria.rossi@example.it",
        "customer_phone": None,
        "subject": "Ordine non arrivato",
        "wait_s": 9 * 3600.0,
        "gap_s": 8 * 3600.0,
    }
    values.update(kw)
    return ConversationHeader(**values)  # type: ignore[arg-type]


def message(text: str, author: str = "customer", minutes_ago: float = 5) -> MessageRecord:
    return MessageRecord(author, None, NOW - minutes_ago * 60, text)


class PreviewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Preview(id="preview")


def screen_text(widget: Widget) -> str:
    """What the widget's parts draw, line by line (segments' text)."""
    lines: list[str] = []
    for static in widget.query("Static, PreviewLines"):
        if not static.display:
            continue
        if isinstance(static, PreviewLines):
            lines += static.plain_lines()
            continue
        region = Region(0, 0, static.size.width, static.size.height)
        for strip in static.render_lines(region):
            lines.append("".join(segment.text for segment in strip))
    return "\n".join(lines)


async def test_hostile_text_is_shown_literally_and_bounded() -> None:
    app = PreviewApp()
    async with app.run_test(size=(80, 24)) as pilot:
        preview = app.query_one(Preview)
        huge = "A" * 1_000_000
        preview.show_conversation(
            header(subject=HOSTILE, customer_name=HOSTILE),
            [message(HOSTILE, minutes_ago=10), message(huge, minutes_ago=1)],
            reveal=False,
            tz=ROME,
            now=NOW,
        )
        await pilot.pause()
        assert preview.header is not None
        shown = preview.header.plain + "\n" + preview.body.plain
        for text in (shown, screen_text(preview)):
            assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
        assert CLICK in shown and BOLD in shown and "evil" in shown
        assert len(preview.body.plain) < 2 * PREVIEW_BODY_LIMIT
        assert preview.body.plain.endswith("…")
        # The markup was not interpreted: the text shows on screen as written.
        drawn = screen_text(preview)
        assert CLICK in drawn and BOLD in drawn
        await pilot.press("x")  # the app is still running and responsive
        assert app.is_running


async def test_markup_in_the_body_is_literal_on_screen() -> None:
    app = PreviewApp()
    async with app.run_test(size=(80, 24)) as pilot:
        preview = app.query_one(Preview)
        preview.show_conversation(
            header(), [message(f"{CLICK} and {BOLD}")], reveal=False, tz=ROME, now=NOW
        )
        await pilot.pause()
        drawn = screen_text(preview)
        assert CLICK in drawn
        assert BOLD in drawn
        assert "Customer · 14:55" in drawn


async def test_addresses_are_masked_unless_revealed() -> None:
    app = PreviewApp()
    async with app.run_test(size=(80, 24)) as pilot:
        preview = app.query_one(Preview)
        body = "Scrivetemi a luca.bianchi@example.com o al +39 347 123 4567"
        subject = "Richiamatemi al 347 555 1234"
        preview.show_conversation(
            header(customer_name=None, subject=subject),
            [message(body)],
            reveal=False,
            tz=ROME,
            now=NOW,
        )
        await pilot.pause()
        assert preview.header is not None
        shown = preview.header.plain + preview.body.plain
        assert "555" not in shown
        assert "maria.rossi@example.it" not in shown
        assert "m•••@e•••.it" in shown
        assert "luca.bianchi@example.com" not in shown
        assert "347 123" not in shown
        preview.show_conversation(
            header(customer_name=None), [message(body)], reveal=True, tz=ROME, now=NOW
        )
        await pilot.pause()
        assert preview.header is not None
        shown = preview.header.plain + preview.body.plain
        assert "maria.rossi@example.it" in shown
        assert "luca.bianchi@example.com" in shown


async def test_header_line_and_placeholders() -> None:
    app = PreviewApp()
    async with app.run_test(size=(80, 24)) as pilot:
        preview = app.query_one(Preview)
        preview.show_placeholder("No conversation selected")
        await pilot.pause()
        assert preview.header is None
        assert "No conversation selected" in screen_text(preview)
        preview.show_conversation(header(), [], reveal=False, tz=ROME, now=NOW)
        await pilot.pause()
        drawn = screen_text(preview)
        assert "Facebook · Maria R. · waiting for 9h00m · gap +8h00m" in drawn
        assert "Ordine non arrivato" in drawn
        assert "No messages stored" in drawn
        preview.show_text(Text("Email · imap\nState: ✓ ok"))
        await pilot.pause()
        drawn = screen_text(preview)
        assert "State: ✓ ok" in drawn
        assert "Facebook" not in drawn  # the conversation's header is gone


async def test_preview_never_takes_the_focus() -> None:
    app = PreviewApp()
    async with app.run_test(size=(80, 24)) as pilot:
        preview = app.query_one(Preview)
        preview.show_conversation(
            header(), [message("ciao\n" * 50)], reveal=False, tz=ROME, now=NOW
        )
        await pilot.pause()
        await pilot.press("tab")
        assert app.focused is None
        assert not any(w.can_focus for w in preview.query("*"))


async def test_opens_on_the_newest_message() -> None:
    app = PreviewApp()
    async with app.run_test(size=(80, 10)) as pilot:
        preview = app.query_one(Preview)
        old = "\n".join(f"old line {i}" for i in range(30))
        preview.show_conversation(
            header(),
            [message(old, minutes_ago=60), message("the newest one", minutes_ago=1)],
            reveal=False,
            tz=ROME,
            now=NOW,
        )
        await pilot.pause()
        await pilot.pause()
        drawn = screen_text_visible(app)
        assert "the newest one" in drawn
        assert "old line 0" not in drawn


def screen_text_visible(app: App[None]) -> str:
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def test_clock_times_in_the_business_time_zone() -> None:
    today = datetime(2026, 11, 24, 9, 5, tzinfo=ROME).timestamp()
    yesterday = datetime(2026, 11, 23, 22, 30, tzinfo=ROME).timestamp()
    earlier = datetime(2026, 11, 2, 8, 0, tzinfo=ROME).timestamp()
    last_year = datetime(2025, 12, 31, 8, 0, tzinfo=ROME).timestamp()
    assert format_clock(today, NOW, ROME) == "09:05"
    assert format_clock(yesterday, NOW, ROME) == "yesterday 22:30"
    assert format_clock(earlier, NOW, ROME) == "2 Nov 08:00"
    assert format_clock(last_year, NOW, ROME) == "31 Dec 2025"


def test_cut_never_leaves_part_of_an_address() -> None:
    text = "x" * 90 + " maria.rossi@example.it " + "y" * 1000
    masked = customer_block(text, 100, reveal=False)
    assert "maria" not in masked and "rossi" not in masked
    assert len(masked) <= 100


def test_non_ascii_names_survive() -> None:
    text = header_text(header(customer_name="Zoë Łukasiewicz 王小明"), reveal=False).plain
    assert "Zoë Łukasiewicz 王小明" in text


def test_a_wait_of_open_hours_says_the_real_time_too() -> None:
    plain = header_text(header(wait_s=2 * 3600.0, gap_s=3600.0, wrote_s=27 * 3600.0), False).plain
    assert "wrote 1d03h ago · 2h00m of open time · gap +1h00m" in plain


def test_a_wait_that_has_not_started_says_when_it_will() -> None:
    text = header_text(
        header(wait_s=0.0, gap_s=-3600.0, wrote_s=45 * 60.0, counts_from="Wed 09:00"), False
    )
    assert "wrote 45m ago · closed · counts from Wed 09:00" in text.plain
    assert "0s" not in text.plain


def test_revealing_shows_the_contact_details_even_when_the_name_is_known() -> None:
    known = header(customer_phone="+39 333 123 4567")
    masked = header_text(known, reveal=False).plain
    shown = header_text(known, reveal=True).plain
    assert "maria.rossi@example.it" not in masked and "333 123" not in masked
    assert "m•••@e•••.it" in masked.splitlines()[2], "masked, but there"
    assert "maria.rossi@example.it" in shown and "+39 333 123 4567" in shown


def test_a_customer_known_only_by_a_handle_is_named_by_it() -> None:
    text = header_text(
        header(customer_name=None, customer_email=None, customer_handle="@maria_r"), False
    )
    assert text.plain.startswith("Facebook · @maria_r ·")


async def test_the_header_ticks_without_reloading_the_messages() -> None:
    app = PreviewApp()
    async with app.run_test(size=(80, 24)) as pilot:
        preview = app.query_one(Preview)
        preview.show_conversation(header(), [message("ciao")], reveal=False, tz=ROME, now=NOW)
        await pilot.pause()
        body = preview.body
        preview.update_header(header(wait_s=9 * 3600.0 + 300, gap_s=8 * 3600.0 + 300), False)
        await pilot.pause()
        assert "waiting for 9h05m · gap +8h05m" in screen_text(preview)
        assert preview.body is body


# -- landing with the cursor (issue 14) ------------------------------------------


def _count_renders(monkeypatch: pytest.MonkeyPatch, preview: Preview) -> list[int]:
    """The scroll offset the body is painted at, one entry per paint."""
    body = preview.query_one("#preview-body", PreviewLines)
    offsets: list[int] = []
    render_lines = body.render_lines

    def recording(crop: Region) -> list[Strip]:
        offsets.append(body.scroll_offset.y)
        return render_lines(crop)

    monkeypatch.setattr(body, "render_lines", recording)
    return offsets


def _long_conversation(preview: Preview) -> None:
    old = "\n".join(f"old line {i}" for i in range(30))
    preview.show_conversation(
        header(customer_name="Luca B."),
        [message(old, minutes_ago=60), message("the newest one", minutes_ago=1)],
        reveal=False,
        tz=ROME,
        now=NOW,
    )


async def _settle(pilot: Pilot[None] | Pilot[int]) -> None:
    for _ in range(3):
        await pilot.pause()
    await pilot.pause(0.1)


async def test_the_first_paint_is_already_at_the_newest_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = PreviewApp()
    async with app.run_test(size=(80, 10)) as pilot:
        preview = app.query_one(Preview)
        preview.show_conversation(header(), [message("ciao")], reveal=False, tz=ROME, now=NOW)
        await _settle(pilot)
        crops = _count_renders(monkeypatch, preview)
        _long_conversation(preview)
        await _settle(pilot)
        drawn = screen_text_visible(app)
        assert "the newest one" in drawn and "old line 0" not in drawn
        scroll = preview.query_one(PreviewLines)
        assert scroll.scroll_y > 0
        assert crops, "the new conversation was drawn"
        assert set(crops) == {int(scroll.scroll_y)}, "no later jump"


async def test_a_landing_is_drawn_once_and_the_same_text_not_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = PreviewApp()
    async with app.run_test(size=(80, 10)) as pilot:
        preview = app.query_one(Preview)
        preview.show_conversation(header(), [message("ciao")], reveal=False, tz=ROME, now=NOW)
        await _settle(pilot)
        crops = _count_renders(monkeypatch, preview)
        _long_conversation(preview)
        await _settle(pilot)
        assert len(crops) == 1, crops
        crops.clear()
        _long_conversation(preview)  # a board brought the same messages again
        await _settle(pilot)
        assert crops == [], "nothing changed on screen: no paint"


def _reads(monkeypatch: pytest.MonkeyPatch, screen: DashboardScreen) -> list[int]:
    """The conversations whose messages the dashboard reads, in order."""
    reads: list[int] = []
    messages = screen.desk.messages

    async def recording(conversation_id: int, limit: int = 50) -> list[MessageRecord]:
        reads.append(conversation_id)
        return await messages(conversation_id, limit)

    monkeypatch.setattr(screen.desk, "messages", recording)
    return reads


def _presented(monkeypatch: pytest.MonkeyPatch, screen: DashboardScreen) -> list[int]:
    """The conversations the preview is given to show, in order."""
    shown: list[int] = []
    present = screen._present

    def recording(row: QueueRow, messages: list[MessageRecord]) -> None:
        shown.append(row.conversation_id)
        present(row, messages)

    monkeypatch.setattr(screen, "_present", recording)
    return shown


def _shows(screen: DashboardScreen, row: QueueRow | None) -> bool:
    """The preview shows the row's conversation, in its text and on screen."""
    assert row is not None
    expected = header_text(screen._header(row), screen.reveal).plain
    preview = screen.query_one("#preview", Preview)
    if preview.header is None or preview.header.plain != expected:
        return False
    first = expected.splitlines()[0][:40]
    return first in screen_text_visible(screen.app)


async def test_a_single_key_shows_the_new_conversation_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        screen = dashboard(pilot)
        queue = screen.query_one("#queue", QueueTable)
        await pilot.pause(2 * PREVIEW_REPEAT_S)  # the cursor is at rest
        timers = screen.set_timer  # a debounce would wait for ever: none is waited for
        monkeypatch.setattr(screen, "set_timer", lambda _s, *a, **kw: timers(3600, *a, **kw))
        await pilot.press("down")
        # No sleep: the read started with the key; wait for it, not for a timer.
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert _shows(screen, queue.selected_row)


async def test_a_repeating_key_lands_on_the_last_row_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1_000.0]
    monkeypatch.setattr(dashboard_module, "monotonic", lambda: clock[0])
    rest_s = 0.5  # a slow test machine's keys come slower than a key repeats
    monkeypatch.setattr(dashboard_module, "PREVIEW_REPEAT_S", rest_s)
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        screen = dashboard(pilot)
        queue = screen.query_one("#queue", QueueTable)
        assert len(queue.view.visible) >= 9
        reads = _reads(monkeypatch, screen)
        clock[0] += 10.0  # the cursor has rested: the first key is read at once
        await pilot.press("down")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        first = queue.selected_row
        assert first is not None and _shows(screen, first)
        shown = _presented(monkeypatch, screen)
        for _ in range(6):  # then the key repeats: 20 ms apart
            clock[0] += 0.02
            await pilot.press("down")
        last = queue.selected_row
        assert last is not None and last is not first
        assert shown == [], "rows passed over are not shown"
        assert _shows(screen, first)
        await pilot.pause(2 * rest_s)  # the key is released: it lands
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert _shows(screen, last)
        assert shown == [last.conversation_id]
        start = queue.view.visible.index(first)
        passed = {r.conversation_id for r in queue.view.visible[start + 2 : start + 5]}
        assert not passed & set(reads), "nor read (but for the neighbours of the two)"


async def test_the_next_row_was_read_ahead_and_shows_with_the_cursor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        screen = dashboard(pilot)
        queue = screen.query_one("#queue", QueueTable)
        await pilot.pause(2 * PREVIEW_REPEAT_S)
        await pilot.press("down")
        await pilot.pause()
        await app.workers.wait_for_complete()  # shown, and its neighbours read
        await pilot.pause(2 * PREVIEW_REPEAT_S)
        reads = _reads(monkeypatch, screen)
        await pilot.press("down")  # no pause for a read: the frame of the cursor
        below = queue.selected_row
        assert below is not None and _shows(screen, below)
        await pilot.press("up")
        above = queue.selected_row
        assert above is not None and _shows(screen, above)
        assert below.conversation_id not in reads and above.conversation_id not in reads


def _frames(monkeypatch: pytest.MonkeyPatch, screen: DashboardScreen) -> list[bool]:
    """For each frame the screen draws from now on: does the preview show the
    conversation under the cursor in it?"""
    frames: list[bool] = []
    refresh = screen._compositor_refresh
    queue = screen.query_one("#queue", QueueTable)
    preview = screen.query_one("#preview", Preview)

    def recording() -> None:
        row = queue.selected_row
        shown = preview.header.plain if preview.header is not None else None
        frames.append(row is not None and shown == header_text(screen._header(row), False).plain)
        refresh()

    monkeypatch.setattr(screen, "_compositor_refresh", recording)
    return frames


@pytest.mark.parametrize("key", ["down", "up", "pagedown", "pageup"])
async def test_the_preview_is_in_the_frame_that_moves_the_cursor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        screen = dashboard(pilot)
        screen.reveal = False
        queue = screen.query_one("#queue", QueueTable)
        assert len(queue.view.visible) > queue.page_size + 2
        await pilot.press("pagedown" if key in ("up", "pageup") else "down")
        await pilot.pause(2 * PREVIEW_REPEAT_S)
        await app.workers.wait_for_complete()  # shown, and where a key lands read
        await pilot.pause(2 * PREVIEW_REPEAT_S)
        reads = _reads(monkeypatch, screen)
        frames = _frames(monkeypatch, screen)
        before = queue.selected_row
        await pilot.press(key)
        await pilot.pause(0.2)
        assert queue.selected_row is not before
        assert frames, "the key drew a frame"
        assert all(frames), f"a frame showed the cursor moved but the preview behind: {frames}"
        assert reads[:1] != [queue.selected_row.conversation_id], "it was read ahead"  # type: ignore[union-attr]


async def test_the_preview_follows_the_cursor_while_the_key_is_handled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not in a message handled later: Textual draws the moved cursor before it
    handles one, and the preview would reach the terminal a frame after it."""
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        screen = dashboard(pilot)
        queue = screen.query_one("#queue", QueueTable)
        await pilot.press("down")
        await pilot.pause(2 * PREVIEW_REPEAT_S)
        await app.workers.wait_for_complete()
        await pilot.pause(2 * PREVIEW_REPEAT_S)
        for move in (queue.action_cursor_down, queue.action_cursor_up, queue.action_page_down):
            before = queue.selected_row
            move()  # nothing else runs before the assertion
            row = queue.selected_row
            assert row is not None and row is not before
            preview = screen.query_one("#preview", Preview)
            assert preview.header is not None
            assert preview.header.plain == header_text(screen._header(row), screen.reveal).plain
            await pilot.pause(2 * PREVIEW_REPEAT_S)
            await app.workers.wait_for_complete()


async def test_another_conversation_is_drawn_without_a_layout_of_the_screen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A layout repaints every table's scroll bar: frames more that change nothing."""
    app = PreviewApp()
    async with app.run_test(size=(80, 10)) as pilot:
        preview = app.query_one(Preview)
        preview.show_conversation(header(), [message("ciao")], reveal=False, tz=ROME, now=NOW)
        await _settle(pilot)
        layouts: list[bool] = []
        screen = app.screen
        refresh_layout = screen._refresh_layout

        def recording(*args: object, **kwargs: object) -> None:
            layouts.append(True)
            refresh_layout(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(screen, "_refresh_layout", recording)
        assert preview.header is not None
        lines = preview.header.plain.count("\n")
        _long_conversation(preview)
        assert preview.header.plain.count("\n") == lines  # the header keeps its height
        await _settle(pilot)
        assert "the newest one" in screen_text_visible(app)
        assert layouts == []


async def test_the_scroll_bar_follows_each_conversation_without_a_layout() -> None:
    """A new conversation changes the body's height without a layout: its scroll bar
    is told (sportello.widgets.cells.sync_scrollbar), or its thumb stays stale."""
    app = PreviewApp()
    async with app.run_test(size=(80, 24)) as pilot:
        preview = app.query_one(Preview)
        body = preview.query_one(PreviewLines)
        heights = []
        for texts in (["breve"], [f"riga {i}\n" * 8 for i in range(6)], ["di nuovo breve"]):
            preview.show_conversation(
                header(), [message(text) for text in texts], reveal=False, tz=ROME, now=NOW
            )
            await pilot.pause()
            heights.append(len(body.plain_lines()))
            assert body.vertical_scrollbar.window_virtual_size == body.virtual_size.height
        assert heights[1] > heights[0] == heights[2]
