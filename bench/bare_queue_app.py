"""A bare Textual app that makes the change a ↓ makes on sportello's screen, with stock widgets.

Run as ``python -m bench.bare_queue_app``. A ``DataTable`` of 15 conversations (the
shipped config's queue: channel, customer, subject, wait, gap, 80 columns) with its
row cursor, and under it a ``Static`` preview of five lines that follows the cursor,
as sportello's does. ``bench/bytes.py`` measures its bytes per ↓ beside sportello's
(``nav_key_bytes_bare_queue``): the bare app of ``bench/bare_app.py`` changes one
line per key, which no screen whose preview follows the cursor can match.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

READY_TEXT = "bare queue app"
CHANNELS = ("Email", "Chat", "Facebook", "Telegram")
NAMES = ("Amelia Clark", "Lorenzo Romano", "Sara Galli", "Giovanni Martini", "Anna Barbieri")
SUBJECTS = ("Item arrived damaged", "Taglia sbagliata", "Reso di un articolo", "Fattura errata")
MESSAGES = (
    "Photos attached, you can see the damage clearly.",
    "Buongiorno, ho ricevuto la taglia sbagliata: posso cambiarla in negozio?",
    "Vorrei restituire un articolo, come devo fare per il reso?",
)


def bare_queue_ready(screen_text: str) -> bool:
    return READY_TEXT in screen_text and "Quit" in screen_text


def _row(i: int) -> tuple[str, str, str, str, str]:
    wait_m = 30 + 37 * i
    return (
        CHANNELS[i % len(CHANNELS)],
        NAMES[i % len(NAMES)],
        SUBJECTS[i % len(SUBJECTS)],
        f"{wait_m // 60}h{wait_m % 60:02d}m",
        f"+{wait_m // 2}m",
    )


def preview_text(i: int) -> str:
    channel, name, subject, wait, gap = _row(i)
    return (
        f"{channel} · {name} · waiting for {wait} · gap {gap}\n{subject}\n"
        f"{name.lower().replace(' ', '.')}.{100 + i}\nCustomer · yesterday 07:{i:02d}\n"
        f"{MESSAGES[i % len(MESSAGES)]}"
    )


class BareQueueApp(App[None]):
    TITLE = "bench"
    CSS = "DataTable { height: 1fr; } #preview { height: 6; }"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Static(READY_TEXT)
        yield DataTable(cursor_type="row", zebra_stripes=False)
        yield Static(preview_text(0), id="preview")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Channel", "Customer", "Subject", "Wait", "Gap")
        table.add_rows(_row(i) for i in range(15))
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.query_one("#preview", Static).update(preview_text(event.cursor_row))


def main() -> None:
    BareQueueApp().run()


if __name__ == "__main__":
    main()
