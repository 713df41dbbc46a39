"""The preview: the selected conversation's last messages, or a channel's details.

Customer text is hostile: every piece of it goes through ``inert``/``inert_block``
(and ``mask_in_text`` unless revealed) and is shown as ``Text``, never as markup.
The rendering functions are shared with the conversation screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.css.styles import RenderStyles, RulesMap
from textual.geometry import Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widgets import Static

from sportello.core.glyphs import glyphs
from sportello.core.inert import inert
from sportello.core.masking import customer_label, mask_email, mask_phone
from sportello.core.records import MessageRecord
from sportello.core.report import gap_text
from sportello.widgets.cells import (
    ascii_scrollbar,
    customer_block,
    customer_line,
    format_clock,
    sync_scrollbar,
)
from sportello_sdk.options import format_duration

__all__ = [
    "FULL_BODY_LIMIT",
    "PREVIEW_BODY_LIMIT",
    "PREVIEW_MESSAGES",
    "ConversationHeader",
    "Preview",
    "PreviewLines",
    "header_text",
    "lines_before_last",
    "message_text",
]

PREVIEW_MESSAGES = 20
"""The preview shows at most this many of the messages it is given (the last ones)."""
PREVIEW_BODY_LIMIT = 4_000
"""Characters of one message body in the preview."""
FULL_BODY_LIMIT = 20_000
"""Characters of one message body on the conversation screen."""

_HEADER_LINES = 3  # the header's max-height
_CUSTOMER = Style(bold=True, color="cyan")
_BUSINESS = Style(bold=True, color="green")
_META = Style(dim=True)
_BEHIND = Style(bold=True, color="yellow")
_ON_TIME = Style(color="green")


@dataclass(frozen=True, slots=True)
class ConversationHeader:
    """What the preview and the conversation screen say above the messages.

    Raw values: the widgets make them inert and mask them. ``wait_s`` counts open
    hours only; ``wrote_s`` is the real time since the customer started waiting,
    shown beside it when the two differ, so that a wait of open hours never
    reads as "just arrived". ``counts_from`` is set while the wait has not
    started counting (the channel is closed): when it will ("Wed 09:00").
    """

    channel_label: str
    customer_name: str | None
    customer_email: str | None
    customer_phone: str | None
    subject: str
    wait_s: float | None  # None: not waiting
    gap_s: float | None
    wrote_s: float | None = None
    counts_from: str | None = None
    customer_handle: str | None = None
    waiting: bool = True  # False: answered or closed since it was opened


_OPEN_TIME_SLACK_S = 60.0  # a wait this close to the real time is just "waiting for"


def timing_text(header: ConversationHeader) -> Text:
    """``waiting for 2h05m · gap +1h05m``, or, when open hours make a difference,
    ``wrote 1d03h ago · 2h00m of open time · gap +1h``, or ``wrote 45m ago ·
    closed · counts from Wed 09:00``."""
    text = Text(end="")
    dot = glyphs().text(" · ")
    if not header.waiting:
        text.append("no longer waiting (answered or closed)", style=_META)
        return text
    wrote = header.wrote_s
    if header.counts_from is not None:
        if wrote is not None:
            text.append(f"wrote {format_duration(wrote)} ago{dot}")
        text.append(f"closed{dot}counts from {header.counts_from}", style=_META)
        return text
    if header.wait_s is not None:
        if wrote is not None and wrote - header.wait_s > _OPEN_TIME_SLACK_S:
            text.append(f"wrote {format_duration(wrote)} ago{dot}")
            text.append(f"{format_duration(header.wait_s)} of open time")
        else:
            text.append(f"waiting for {format_duration(header.wait_s)}")
    if header.gap_s is not None:
        if text.plain:
            text.append(dot)
        behind = header.gap_s > 0
        text.append(f"gap {gap_text(header.gap_s)}", style=_BEHIND if behind else _ON_TIME)
    return text


def contact_text(header: ConversationHeader, reveal: bool) -> str | None:
    """The customer's contact details not already in the name shown, masked unless
    ``reveal``: ``m•••@example.it · +39 ••• ••• 67``; ``None`` when there are none."""
    label_from = customer_label(
        header.customer_name,
        header.customer_email,
        header.customer_phone,
        True,
        handle=header.customer_handle,
    )
    details = []
    for value, mask in (
        (header.customer_email, mask_email),
        (header.customer_phone, mask_phone),
        (header.customer_handle, None),  # a public handle: nothing to hide
    ):
        if not value or not value.strip() or value == label_from:
            continue
        shown = inert(value, 80)
        details.append(shown if reveal or mask is None else mask(shown))
    return glyphs().text(" · ").join(details) if details else None


def header_text(header: ConversationHeader, reveal: bool) -> Text:
    """``Facebook · Maria R. · waiting for 9h00m · gap +8h00m``, the subject, and the
    contact details (masked unless ``reveal``) when there are any."""
    customer = inert(
        customer_label(
            header.customer_name,
            header.customer_email,
            header.customer_phone,
            reveal,
            handle=header.customer_handle,
        ),
        60,
    )
    text = Text(end="", no_wrap=True, overflow="ellipsis")
    dot = glyphs().text(" · ")
    text.append(inert(header.channel_label, 40), style="bold")
    text.append(dot)
    text.append(customer)
    timing = timing_text(header)
    if timing.plain:
        text.append(dot)
        text.append_text(timing)
    subject = customer_line(header.subject, 200, reveal) or "(no subject)"
    text.append("\n")
    text.append(subject, style="bold")
    contact = contact_text(header, reveal)
    if contact is not None:
        text.append("\n")
        text.append(contact, style=_META)
    return text


def _author(message: MessageRecord, reveal: bool) -> tuple[str, Style]:
    if message.author == "customer":
        return "Customer", _CUSTOMER
    if message.author == "business":
        name = customer_line(message.author_name, 40, reveal) if message.author_name else ""
        return name or "Business", _BUSINESS
    return inert(message.author, 20).capitalize() or "Unknown", _META


def message_text(
    message: MessageRecord, *, reveal: bool, tz: ZoneInfo, now: float, limit: int
) -> Text:
    """``Customer · 14:02`` then the body, inert, masked unless ``reveal``, bounded."""
    author, style = _author(message, reveal)
    text = Text(end="")
    text.append(author, style=style)
    text.append(glyphs().text(" · ") + format_clock(message.sent_at, now, tz), style=_META)
    body = customer_block(message.text, limit, reveal)
    text.append("\n")
    text.append(body if body else "(empty message)", style="" if body else _META)
    return text


def messages_text(parts: Sequence[Text]) -> Text:
    """The messages one after another, a blank line between two."""
    return Text("\n\n", end="").join(parts)


def _rules(styles: RenderStyles) -> RulesMap:
    return {
        "text_wrap": styles.text_wrap,
        "text_overflow": styles.text_overflow,
        "line_pad": styles.line_pad,
    }


def lines_before_last(parts: Sequence[Text], styles: RenderStyles, width: int) -> int:
    """How many lines come before the last part once wrapped at ``width``.

    Scrolling there shows the start of the newest message (or the end of the
    conversation when the newest message is short).
    """
    rules = _rules(styles)
    lines = 0
    for part in parts[:-1]:
        lines += Content.from_rich_text(part).get_height(rules, max(width, 1)) + 1
    return lines


def _same(a: Text, b: Text) -> bool:
    return a.plain == b.plain and a.spans == b.spans


def _header_lines(header: Text | None) -> int:
    """Lines the header takes (0: hidden)."""
    return 0 if header is None else min(header.plain.count("\n") + 1, _HEADER_LINES)


class PreviewLines(ScrollView, can_focus=False):
    """The messages (or a channel's details), drawn a line at a time.

    Its size is the layout's and never the text's: showing another conversation
    changes what it draws, its scroll height and offset, not the layout of the
    screen, so it costs one frame (a layout would repaint every table's scroll
    bar, frames more that change nothing). The scroll bar is always there, so the
    width the text wraps at does not depend on the text. The offset is set in the
    same step as the text: the first paint is already at the newest message.
    """

    DEFAULT_CSS = """
    PreviewLines {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
        padding: 0 0 0 1;  /* the scroll bar is the right margin */
    }
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, virtual_size: Size) -> None:
        sync_scrollbar(self, virtual_size)  # no layout tells the scroll bar

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._parts: list[Text] = []
        self._to_last = False
        self._laid: tuple[int, list[Strip], int] | None = None  # width, lines, before last

    def on_mount(self) -> None:
        ascii_scrollbar(self)

    def show(self, parts: Sequence[Text], *, to_last: bool) -> None:
        """Show ``parts`` one after another, a blank line between two, scrolled to
        the start of the last one (``to_last``: the newest message, or the end when
        it is short) or to the top."""
        self._parts = list(parts)
        self._to_last = to_last
        self._laid = None
        self._place()
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._place()

    def _place(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:
            return  # laid out later: on_resize places it
        lines, before = self._lines(width)
        self.virtual_size = Size(width, len(lines))
        height = self.scrollable_content_region.height
        y = max(min(before, len(lines) - height), 0) if self._to_last else 0
        self.scroll_to(y=y, animate=False, force=True, immediate=True)

    def _lines(self, width: int) -> tuple[list[Strip], int]:
        """The lines at ``width``, and how many come before the last part."""
        if self._laid is not None and self._laid[0] == width:
            return self._laid[1], self._laid[2]
        lines: list[Strip] = []
        before = 0
        style = self.visual_style
        blank = Strip.blank(width, style.rich_style)
        for index, part in enumerate(self._parts):
            if index:
                lines.append(blank)
                before = len(lines)
            visual = visualize(self, part, markup=False)
            lines.extend(Visual.to_strips(self, visual, width, None, style, pad=True))
        self._laid = (width, lines, before)
        return lines, before

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._laid = None

    def plain_lines(self) -> list[str]:
        """Every line as laid out now, scrolled to or not, as plain text."""
        lines, _ = self._lines(self.scrollable_content_region.width)
        return [strip.text for strip in lines]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        lines, _ = self._lines(width)
        index = self.scroll_offset.y + y
        if 0 <= index < len(lines):
            return lines[index]
        return Strip.blank(width, self.visual_style.rich_style)


class Preview(Vertical, can_focus=False):
    """The selected conversation: a header, then its last messages.

    ``show_conversation``, ``show_text`` and ``show_placeholder`` replace what is
    shown in one step (both parts are updated before the next frame), without a
    layout unless the header's height changes.
    """

    DEFAULT_CSS = """
    Preview {
        height: 1fr;
        & > #preview-header {
            height: auto;
            max-height: 3;  /* _HEADER_LINES */
            text-wrap: nowrap;
            text-overflow: ellipsis;
            padding: 0 1;
        }
    }
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.header: Text | None = None
        """The header shown, ``None`` when the preview shows no conversation."""
        self.body = Text(end="")
        """What the body shows (for tests and for the screen's own checks)."""

    def compose(self) -> ComposeResult:
        header = Static(id="preview-header")
        header.display = False
        yield header
        yield PreviewLines(id="preview-body")

    @property
    def _header(self) -> Static:
        return self.query_one("#preview-header", Static)

    @property
    def _body(self) -> PreviewLines:
        return self.query_one("#preview-body", PreviewLines)

    def show_conversation(
        self,
        header: ConversationHeader,
        messages: Sequence[MessageRecord],
        reveal: bool,
        tz: ZoneInfo,
        now: float,
    ) -> None:
        """Show a conversation's header and its last messages (oldest first)."""
        parts = [
            message_text(m, reveal=reveal, tz=tz, now=now, limit=PREVIEW_BODY_LIMIT)
            for m in list(messages)[-PREVIEW_MESSAGES:]
        ]
        if not parts:
            parts = [Text("No messages stored for this conversation yet.", style=_META)]
        head, body = header_text(header, reveal), messages_text(parts)
        if self.header is not None and _same(head, self.header) and _same(body, self.body):
            return  # nothing would change on screen: no frame
        self._set(head, body, parts, to_last=True)

    def update_header(self, header: ConversationHeader, reveal: bool) -> None:
        """Redraw the header of the conversation shown (the wait has grown); the
        messages stay as they are. Nothing is drawn when the text is the same."""
        if self.header is None:
            return
        text = header_text(header, reveal)
        if _same(text, self.header):
            return
        self._set_header(text)

    def show_text(self, text: Text) -> None:
        """Show any text (a channel's description) instead of a conversation."""
        self._set(None, text, [text], to_last=False)

    def show_placeholder(self, message: str) -> None:
        """Say why there is nothing to show: "No conversation selected", "Loading…"."""
        self.show_text(Text(glyphs().text(message), style=Style(dim=True, italic=True), end=""))

    def _set(self, header: Text | None, body: Text, parts: list[Text], *, to_last: bool) -> None:
        self._set_header(header)
        self.body = body
        self._body.show(parts, to_last=to_last)

    def _set_header(self, header: Text | None) -> None:
        """A layout only when the header's height changes."""
        before, self.header = self.header, header
        widget = self._header
        if header is None:
            widget.display = False
            return
        widget.update(header, layout=_header_lines(header) != _header_lines(before))
        widget.display = True
