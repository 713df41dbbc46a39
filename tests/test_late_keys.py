"""Keys typed in one burst (one read over SSH) go where the user meant them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from textual import events
from textual.pilot import Pilot

from sportello.app import SportelloApp
from sportello.screens.conversation import ConversationScreen
from tests.dashboard_fixtures import dashboard, demo_app, until_loaded

NAMES = {"/": "slash", " ": "space"}


def burst(app: SportelloApp, text: str) -> None:
    """``text`` as one read of the terminal: every key sent before any is handled."""
    driver = app._driver
    assert driver is not None
    for char in text:
        event = events.Key(NAMES.get(char, char), char)
        event.set_sender(app)
        driver.send_message(event)  # as pilot.press does, with no wait between


async def settle(pilot: Pilot[int]) -> None:
    for _ in range(20):
        await pilot.pause()


async def until(pilot: Pilot[int], done: Callable[[], Awaitable[bool]]) -> None:
    """Wait (up to 2 s) for what the burst started to be done."""
    for _ in range(40):
        if await done():
            return
        await pilot.pause(0.05)


async def test_letters_typed_after_slash_in_one_burst_go_to_the_filter(tmp_path: Path) -> None:
    """ "/chat" must filter by "chat": the letters had been sent to the queue before
    the "/" moved the focus, and "c" closed and "a" assigned the selected conversation."""
    from sportello.screens.dashboard import QueueFilter

    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        screen = dashboard(pilot)
        before = len(app.screen_stack)
        burst(app, "/chat")
        await settle(pilot)
        box = screen.query_one("#filter", QueueFilter)
        assert (box.value, screen.view.filter_text, box.has_focus) == ("chat", "chat", True)
        assert len(app.screen_stack) == before  # no assign list opened
        assert await app.desk.outbox() == []  # nothing closed
        await pilot.press("slash", "x")  # in the filter, "/" is a letter like any other
        assert screen.view.filter_text == "chat/x"


async def test_a_reply_typed_in_one_burst_goes_in_the_composer(tmp_path: Path) -> None:
    """ "rciao": r opens the composer while "ciao" is already read; the c must not
    close the conversation (it did), and every letter must reach the reply."""
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        burst(app, "rciao grazie")
        await settle(pilot)

        async def composing() -> bool:
            return isinstance(app.screen, ConversationScreen) and app.screen.composer is not None

        await until(pilot, composing)
        screen = app.screen
        assert isinstance(screen, ConversationScreen) and screen.composer is not None
        assert screen.composer.text == "ciao grazie"
        assert await app.desk.outbox() == []  # nothing closed, assigned or snoozed
        await pilot.press("x")  # once the composer is there, keys are typed as usual
        assert screen.composer.text == "ciao graziex"


async def test_letters_are_kept_only_for_a_while(tmp_path: Path) -> None:
    """What was to open did not: after the time, keys are the screen's keys again."""
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        app.keep_typed(for_s=0.0)
        await pilot.press("question_mark")  # the help screen opens: the key was not kept
        assert app.screen.__class__.__name__ == "HelpScreen"
        assert app.take_typed() == ""


async def test_close_then_undo_in_one_burst_leaves_the_conversation_open(tmp_path: Path) -> None:
    """The actions' writes are made in the order of their keys: the undo's write ran
    before the close's, found nothing to undo, and the conversation was closed."""
    from sportello.core.outbox import State

    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        burst(app, "cu")
        await settle(pilot)

        async def settled() -> bool:
            actions = await app.desk.outbox()
            return bool(actions) and actions[0].state is not State.PENDING

        await until(pilot, settled)
        actions = await app.desk.outbox()
        assert [(a.kind.value, a.state) for a in actions] == [("close", State.UNDONE)]
