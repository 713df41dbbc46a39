"""Keys typed in one burst (one read over SSH) go where the user meant them."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.pilot import Pilot

from sportello.app import SportelloApp
from sportello.screens.conversation import ConversationScreen
from tests.dashboard_fixtures import demo_app, until_loaded

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


async def test_a_reply_typed_in_one_burst_goes_in_the_composer(tmp_path: Path) -> None:
    """ "rciao": r opens the composer while "ciao" is already read; the c must not
    close the conversation (it did), and every letter must reach the reply."""
    app = demo_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until_loaded(pilot)
        burst(app, "rciao grazie")
        await settle(pilot)
        for _ in range(40):
            if isinstance(app.screen, ConversationScreen) and app.screen.composer is not None:
                break
            await pilot.pause(0.05)
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
        for _ in range(40):
            actions = await app.desk.outbox()
            if actions and actions[0].state is not State.PENDING:
                break
            await pilot.pause(0.05)
        assert [(a.kind.value, a.state) for a in actions] == [("close", State.UNDONE)]
