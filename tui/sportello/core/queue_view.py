"""The unified queue as data: every waiting conversation, filtered and sorted.

No Textual here. :func:`build_rows` (or :func:`build_board_rows`) turns the
store's :class:`QueueItem`s and the waits the board computed into
:class:`QueueRow`s, and sorts them every way the screen can list them: run it
in a worker thread. :class:`QueueView` holds them and derives what the screen
lists, fast enough for 100,000 rows:

- :meth:`QueueView.set_rows` with prepared rows is instant;
- a sort change without a filter is instant (every order is ready);
- a filter keystroke that extends the text (``o`` → ``or``) filters the
  previous result rather than every row, and the filter loops run in C;
- the last few results are kept, so Backspace is instant.
"""

from __future__ import annotations

import enum
import queue
import threading
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from itertools import compress, groupby, repeat
from operator import attrgetter, contains, eq, indexOf, neg, or_, sub
from typing import TYPE_CHECKING, Any, NamedTuple

from sportello.core.folding import fold
from sportello.core.inert import inert
from sportello.core.masking import customer_label, mask_in_text
from sportello.core.records import QueueItem
from sportello.core.sorting import BITE, order_by

if TYPE_CHECKING:
    from sportello.core.board import Board

__all__ = [
    "BoardRows",
    "PreparedRows",
    "QueueRow",
    "QueueView",
    "SortOrder",
    "build_board_rows",
    "build_rows",
    "built_at",
    "prepare_rows",
    "release_in_bites",
    "release_later",
]

SUBJECT_LIMIT = 200
CUSTOMER_LIMIT = 80
NO_SUBJECT = "(no subject)"


class QueueRow(NamedTuple):
    """One waiting conversation, ready to list. Immutable.

    A named tuple rather than a frozen dataclass: 100,000 of them are built on
    every refresh, and a tuple is built several times faster. The texts shown
    are made inert and masked when shown (:meth:`customer_text`,
    :meth:`subject_text`): only the screenful on show pays for it, and the
    reveal key needs no rebuild.
    """

    item: QueueItem
    channel_label: str  # sanitised
    # The wait when the row was made (the board's float then, not a copy): a row kept
    # by a later board is that much older (PreparedRows.built_at, LiveUpdate.advance).
    wait_s: float
    expect_s: float  # one float per channel
    # Folded (sportello.core.folding): channel, name, e-mail, phone (also digits only),
    # handle and subject. The filter searches the item's search text too (the start
    # of the last messages, folded): kept once, on the item, not copied in here.
    haystack: str

    @property
    def conversation_id(self) -> int:
        return self.item.conversation_id

    @property
    def gap_s(self) -> float:
        """Wait minus expectation; positive: behind. Worked out when read rather
        than kept: a float a row (32 bytes) for 100,000 rows, read for a screenful."""
        return self.wait_s - self.expect_s

    @property
    def channel_id(self) -> str:
        return self.item.channel_id

    def holds(self, token: str) -> bool:
        """Whether the filter finds ``token`` (folded) in this row."""
        return token in self.haystack or token in self.item.search_text

    def customer_text(self, reveal: bool = False) -> str:
        """The customer's name, else masked e-mail/phone (all of it when ``reveal``).

        Each field is made inert before it is masked, so that no escape code
        can split an address and let part of it through.
        """
        item = self.item
        return customer_label(
            _inert_or_none(item.customer_name),
            _inert_or_none(item.customer_email),
            _inert_or_none(item.customer_phone),
            reveal,
            handle=_inert_or_none(item.customer_handle),
        )

    @property
    def subject(self) -> str:
        """The subject on one line, inert and bounded; not masked."""
        return inert(self.item.subject, SUBJECT_LIMIT) or NO_SUBJECT

    def subject_text(self, reveal: bool = False) -> str:
        """The subject, with e-mail addresses and phone numbers masked unless ``reveal``."""
        subject = self.subject
        return subject if reveal else mask_in_text(subject)


def _inert_or_none(text: str | None) -> str | None:
    return inert(text, CUSTOMER_LIMIT) if text else text


class SortOrder(enum.Enum):
    """How the queue is ordered; :attr:`label` names it on screen."""

    GAP = "gap"  # worst gap first, then oldest (waiting since)
    WAIT = "wait"  # longest wait first
    CHANNEL = "channel"  # channel label, then worst gap first
    NEWEST = "newest"  # most recently started waiting first

    @property
    def label(self) -> str:
        return _SORT_LABELS[self]

    def next(self) -> SortOrder:
        """The next order, for a key that cycles through them."""
        orders = list(SortOrder)
        return orders[(orders.index(self) + 1) % len(orders)]


_SORT_LABELS = {
    SortOrder.GAP: "worst gap first",
    SortOrder.WAIT: "longest wait first",
    SortOrder.CHANNEL: "by channel",
    SortOrder.NEWEST: "newest first",
}


_ITEM_ID = attrgetter("conversation_id")
_ITEM_SINCE = attrgetter("waiting_since")
_ITEM_CHANNEL = attrgetter("channel_id")
_BY_ID = attrgetter("item.conversation_id")
_BY_WAITING_SINCE = attrgetter("item.waiting_since")
_BY_CHANNEL_ID = attrgetter("item.channel_id")
_BY_WAIT = attrgetter("wait_s")
_BY_GAP = attrgetter("gap_s")
_BY_HAYSTACK = attrgetter("haystack")
_BY_SEARCH_TEXT = attrgetter("item.search_text")
_BY_LABEL = attrgetter("channel_label")


class _Slice:
    """Rows in order, with their haystacks and channel ids in parallel lists.

    Filtering walks the parallel lists rather than the rows: reaching
    ``row.item.channel_id`` through 100,000 rows scattered in memory costs a
    cache miss or two a row; the lists are contiguous and the channel ids are
    a few shared strings. The lists of an order other than GAP are made by the
    first filter in it, not for every order of every board (8 bytes a row
    each; build_rows makes GAP's as it goes). A text filter's result gets its
    channel ids only when a channel filter asks for them (copying a third list
    of 100,000 on every keystroke cost more than the search itself), and a
    filter that keeps every row returns the same slice.
    """

    __slots__ = ("_chans", "_hays", "_texts", "rows")

    def __init__(
        self,
        rows: list[QueueRow],
        hays: list[str] | None = None,
        chans: list[str] | None = None,
        texts: list[str] | None = None,
    ) -> None:
        self.rows = rows
        self._hays = hays
        self._chans = chans
        self._texts = texts

    @property
    def hays(self) -> list[str]:
        if self._hays is None:
            self._hays = list(map(_BY_HAYSTACK, self.rows))
        return self._hays

    @property
    def texts(self) -> list[str]:
        """The items' search texts (the start of their last messages, folded)."""
        if self._texts is None:
            self._texts = list(map(_BY_SEARCH_TEXT, self.rows))
        return self._texts

    @property
    def chans(self) -> list[str]:
        if self._chans is None:
            self._chans = list(map(_BY_CHANNEL_ID, self.rows))
        return self._chans

    def where(self, mask: Iterable[object], *, chans: bool = False) -> _Slice:
        """The rows ``mask`` keeps (``chans``: keep the channel ids too)."""
        keep = list(mask)
        if all(keep):
            return self
        return _Slice(
            list(compress(self.rows, keep)),
            None if self._hays is None else list(compress(self._hays, keep)),
            list(compress(self._chans, keep)) if chans and self._chans is not None else None,
            None if self._texts is None else list(compress(self._texts, keep)),
        )


_EMPTY = _Slice([], [], [], [])


class _Columns(NamedTuple):
    """Fields of rows in parallel lists, in the rows' order."""

    ids: list[int]
    since: list[float]
    waits: list[float]
    gaps: list[float]
    hays: list[str] | None  # None: made when a filter needs them
    chans: list[str]

    @classmethod
    def of(cls, rows: Sequence[QueueRow]) -> _Columns:
        return cls(
            list(map(_BY_ID, rows)),
            list(map(_BY_WAITING_SINCE, rows)),
            list(map(_BY_WAIT, rows)),
            list(map(_BY_GAP, rows)),
            None,
            list(map(_BY_CHANNEL_ID, rows)),
        )


class PreparedRows(list[QueueRow]):
    """Rows with every sort order worked out: what :meth:`QueueView.set_rows` wants.

    A plain list of rows for everyone else (do not change it). Sorting
    100,000 rows four ways takes a few tenths of a second: :func:`build_rows`
    does it where it runs (the board's worker thread), so that the screen's
    ``set_rows`` is instant.

    It holds no reference cycle (nor do its orders), so that the one it
    replaces is freed as soon as it is dropped, without the cyclic collector:
    the screen freezes the collector's view of what start-up left alive
    (``gc.freeze``), and a cycle frozen with it would never be freed. Hence
    the slots (no ``__dict__``) and the GAP order's own list of the rows
    rather than this list itself.
    """

    __slots__ = ("orders", "runs")

    orders: dict[SortOrder, _Slice]
    runs: dict[str, _Run]
    """Per channel, the rows it was made of (from :func:`build_board_rows`): the
    next board reuses those of a channel whose queue has not changed."""

    def __init__(
        self,
        rows: Iterable[QueueRow] = (),
        *,
        _columns: _Columns | None = None,
        _runs: dict[str, _Run] | None = None,
    ) -> None:
        plain = rows if type(rows) is list else list(rows)
        super().__init__(plain)
        self.runs = _runs if _runs is not None else {}
        if _columns is None:
            self.orders = _orders(plain, _Columns.of(plain))
        else:  # from build_rows: already worst gap first
            self.orders = _orders(plain, _columns, gap_sorted=True)

    @property
    def searchable(self) -> bool:
        """Whether the filter can search these rows: False when a board made them
        without haystacks (a big queue before the filter was first used)."""
        return all(run.hays is not None for run in self.runs.values())

    @property
    def built_at(self) -> dict[str, float]:
        """Per channel, when (the board's ``now``) its rows' waits were worked out;
        only channels whose rows a later board reused from an earlier one differ
        from the board's own time. The waits shown are the rows' plus the open
        time since then (``LiveUpdate.advance``)."""
        return {channel_id: run.built_at for channel_id, run in self.runs.items()}


class _Run(NamedTuple):
    """One channel's rows, worst gap first, made from ``items`` at ``built_at``."""

    items: list[QueueItem]
    label: str
    expect_s: float
    built_at: float
    rows: list[QueueRow]
    hays: list[str] | None  # None: made without haystacks (their rows' are empty)


def release_in_bites(rows: Sequence[QueueRow]) -> None:
    """Free rows nobody shows any more, a bite at a time: in a worker thread.

    Dropping the last reference to 100,000 rows frees them and their items in
    one C call, 20-40 ms on a shared machine, on whichever thread drops it: the
    screen's, when a new board replaced them. Emptied here bite by bite, the
    screen's thread gets its turn between bites. Only for rows no one reads
    again: the lists are emptied.
    """
    if not isinstance(rows, PreparedRows):
        return
    lists: list[list[Any]] = [rows]
    for part in rows.orders.values():
        lists.extend(column for column in (part.rows, part._hays, part._chans) if column)
    rows.orders = {}
    for column in lists:
        while column:
            del column[-BITE:]


_released: queue.SimpleQueue[Sequence[QueueRow]] = queue.SimpleQueue()
_releaser: list[threading.Thread] = []


def release_later(rows: Sequence[QueueRow]) -> None:
    """:func:`release_in_bites` on a thread of its own, started once; returns at
    once (starting a thread per board made the screen's thread wait for it)."""
    if not isinstance(rows, PreparedRows) or not rows:
        return
    _released.put(rows)
    if not _releaser:
        _releaser.append(threading.Thread(target=_release_forever, name="free rows", daemon=True))
        _releaser[0].start()


def _release_forever() -> None:
    while True:
        rows = _released.get()
        release_in_bites(rows)
        del rows


def prepare_rows(rows: Sequence[QueueRow]) -> PreparedRows:
    """``rows`` with their sort orders worked out (safe in a worker thread)."""
    return rows if isinstance(rows, PreparedRows) else PreparedRows(rows)


# Separators removed from a phone number for its digits-only form.
_PHONE_SEPARATORS = str.maketrans("", "", " -./()+")
_HAYSTACK_SUBJECT = 400  # characters of a subject that the filter searches
_new_row = partial(tuple.__new__, QueueRow)  # QueueRow(...) without its Python __new__


def build_rows(
    items: Sequence[QueueItem],
    labels: Mapping[str, str],
    waits: Sequence[float],
    expect_s: Mapping[str, float],
) -> PreparedRows:
    """Rows for ``items``, worst gap first; ``waits[i]`` is the wait of ``items[i]``.

    Waits are in seconds (open hours only, as the board computed them). A
    channel missing from ``labels`` is shown by its id; one missing from
    ``expect_s`` expects an answer at once (its gap is its wait). A NaN wait
    counts as 0. Run it in a worker thread: 100,000 items take about 0.6 s
    on a slow machine, sorting every order included.

    The rows are created worst gap first so that they lie in memory in the
    order the filter walks them (twice as fast at 100,000 rows). The cyclic
    garbage collector is left running: its young collections take the new
    rows in small bites, where pausing it made the first collection after
    walk all of them at once, a stall of 100 ms for the screen (its full
    collections wait for a quiet moment: :mod:`sportello.core.gc_policy`).
    The sorts are :func:`~sportello.core.sorting.order_by`'s, in bites too.
    """
    if len(items) != len(waits):
        raise ValueError(f"{len(items)} items but {len(waits)} waits")
    clean_waits = [0.0 if w != w else float(w) for w in waits]
    expects = [expect_s.get(channel_id, 0.0) for channel_id in map(_ITEM_CHANNEL, items)]
    gaps = list(map(sub, clean_waits, expects))
    ids = list(map(_ITEM_ID, items))
    since = list(map(_ITEM_SINCE, items))
    order = order_by(list(map(neg, gaps)), since, ids)
    clean_labels = {
        channel_id: inert(labels.get(channel_id, channel_id), 40)
        for channel_id in set(map(_ITEM_CHANNEL, items))
    }
    rows, hays, chans = _make_rows(items, order, clean_labels, clean_waits, expects)
    columns = _Columns(
        list(map(ids.__getitem__, order)),
        list(map(since.__getitem__, order)),
        list(map(clean_waits.__getitem__, order)),
        list(map(gaps.__getitem__, order)),
        hays,
        chans,
    )
    return PreparedRows(rows, _columns=columns)


def _make_rows(
    items: Sequence[QueueItem],
    order: Iterable[int],
    labels: Mapping[str, str],
    waits: Sequence[float],
    expects: Sequence[float],
    *,
    search: bool = True,
) -> tuple[list[QueueRow], list[str], list[str]]:
    """The rows of ``items`` taken in ``order`` (labels inert), their haystacks and
    channel ids. ``search=False``: every haystack is empty (one shared string)."""
    folded_labels = {channel_id: fold(label) for channel_id, label in labels.items()}
    rows: list[QueueRow] = []
    hays: list[str] = []
    chans: list[str] = []
    for i in order:
        item = items[i]
        channel_id = item.channel_id
        label = labels[channel_id]
        if not search:
            rows.append(_new_row((item, label, waits[i], expects[i], "")))
            chans.append(channel_id)
            continue
        _, name, email, phone, handle, subject = item.fields()
        if len(subject) > _HAYSTACK_SUBJECT:
            subject = subject[:_HAYSTACK_SUBJECT]
        if phone:
            phone = f"{phone} {phone.translate(_PHONE_SEPARATORS)}"
        fields = f"{name}\n{email}\n{phone}\n{handle}\n{subject}"
        # fold() in line for the common case: ASCII text is only lower-cased.
        fields = fields.lower() if fields.isascii() else fold(fields)
        haystack = f"{folded_labels[channel_id]}\n{fields}"
        rows.append(_new_row((item, label, waits[i], expects[i], haystack)))
        hays.append(haystack)
        chans.append(channel_id)
    return rows, hays, chans


def build_board_rows(board: Board, previous: PreparedRows | None = None) -> PreparedRows:
    """The queue rows of a board (``sportello.core.board``), with its channels' labels.

    With ``previous`` (the rows of an earlier board), a channel whose queue is
    the same as then (equal items, label and expectation) keeps its rows as they
    were made: only changed channels' rows are made again, and every row is
    placed by its wait now (its wait then plus the open time since, which
    ``built_at`` tells the screen). The orders are worked out over all rows.
    A board that is not ``searchable`` gets rows without haystacks
    (:attr:`PreparedRows.searchable`); a searchable one never keeps such rows.
    """
    from sportello.core.board import schedule_for  # board imports nothing of this module

    labels = {row.channel.id: inert(row.channel.label, 40) for row in board.channels}
    expect = {row.channel.id: row.channel.expectation.total_seconds() for row in board.channels}
    schedules = {row.channel.id: schedule_for(row.channel) for row in board.channels}
    old = previous.runs if previous is not None else {}
    runs: dict[str, _Run] = {}
    advance: dict[str, float] = {}
    for channel_id, (items, waits) in _by_channel(board.queue, board.waits).items():
        label = labels.get(channel_id) or inert(channel_id, 40)
        expect_s = expect.get(channel_id, 0.0)
        run = old.get(channel_id)
        schedule = schedules.get(channel_id)
        if (
            run is None
            or schedule is None
            or run.label != label
            or run.expect_s != expect_s
            or run.built_at > board.now
            or (board.searchable and run.hays is None)
            or run.items != items
        ):
            run = _make_run(items, waits, label, expect_s, board.now, search=board.searchable)
        elif run.built_at < board.now:
            advance[channel_id] = schedule.open_seconds(run.built_at, board.now)
        runs[channel_id] = run
    return _merged(runs, advance)


class BoardRows:
    """:func:`build_board_rows` that remembers: each board reuses the rows of the
    channels whose queue has not changed since the last complete board. Called
    from one thread at a time (the live worker's)."""

    def __init__(self) -> None:
        self._last: PreparedRows | None = None

    def __call__(self, board: Board) -> PreparedRows:
        rows = build_board_rows(board, self._last)
        if board.complete:
            self._last = rows
        return rows


def built_at(rows: Sequence[QueueRow]) -> dict[str, float]:
    """:attr:`PreparedRows.built_at` of any rows (plain rows: none)."""
    return rows.built_at if isinstance(rows, PreparedRows) else {}


def _by_channel(
    items: Sequence[QueueItem], waits: Sequence[float]
) -> dict[str, tuple[list[QueueItem], list[float]]]:
    """Items and their waits per channel, in their order (the board's queue is
    one channel after another: whole runs are sliced, not walked)."""
    if len(items) != len(waits):
        raise ValueError(f"{len(items)} items but {len(waits)} waits")
    groups: dict[str, tuple[list[QueueItem], list[float]]] = {}
    start = 0
    for channel_id, run in groupby(map(_ITEM_CHANNEL, items)):
        end = start + len(list(run))
        its, ws = groups.setdefault(channel_id, ([], []))
        its.extend(items[start:end])
        ws.extend(waits[start:end])
        start = end
    return groups


def _make_run(
    items: list[QueueItem],
    waits: list[float],
    label: str,
    expect_s: float,
    now: float,
    *,
    search: bool = True,
) -> _Run:
    clean = [0.0 if w != w else float(w) for w in waits]
    order = order_by(
        [expect_s - w for w in clean], list(map(_ITEM_SINCE, items)), list(map(_ITEM_ID, items))
    )
    channel_id = items[0].channel_id
    expects = [expect_s] * len(items)
    rows, hays, _ = _make_rows(items, order, {channel_id: label}, clean, expects, search=search)
    return _Run(items, label, expect_s, now, rows, hays if search else None)


def _merged(runs: dict[str, _Run], advance: Mapping[str, float]) -> PreparedRows:
    """All runs' rows worst gap first, placed by their waits plus ``advance``."""
    rows: list[QueueRow] = []
    hays: list[str] | None = [] if all(run.hays is not None for run in runs.values()) else None
    chans: list[str] = []
    waits: list[float] = []
    gaps: list[float] = []
    for channel_id, run in runs.items():
        ahead = advance.get(channel_id, 0.0)
        run_waits = list(map(_BY_WAIT, run.rows))
        if ahead:
            run_waits = [w + ahead for w in run_waits]
        rows += run.rows
        if hays is not None and run.hays is not None:
            hays += run.hays
        chans += repeat(channel_id, len(run.rows))
        waits += run_waits
        gaps += [w - run.expect_s for w in run_waits]
    ids = list(map(_BY_ID, rows))
    since = list(map(_BY_WAITING_SINCE, rows))
    order = order_by(list(map(neg, gaps)), since, ids)
    columns = _Columns(
        list(map(ids.__getitem__, order)),
        list(map(since.__getitem__, order)),
        list(map(waits.__getitem__, order)),
        list(map(gaps.__getitem__, order)),
        None if hays is None else list(map(hays.__getitem__, order)),
        list(map(chans.__getitem__, order)),
    )
    return PreparedRows(list(map(rows.__getitem__, order)), _columns=columns, _runs=runs)


def _orders(
    rows: list[QueueRow],
    columns: _Columns,
    wanted: Iterable[SortOrder] = SortOrder,
    *,
    gap_sorted: bool = False,
) -> dict[SortOrder, _Slice]:
    """``rows`` in each wanted order; ties always end with the conversation id.

    Sorts of indices on key columns, by :func:`~sportello.core.sorting.order_by`
    (in bites, so that the screen's thread is not held for a whole sort).
    NEWEST is oldest-first reversed: ties, the newest id first. CHANNEL is by
    channel label, then in GAP order. ``gap_sorted``: the rows are already in
    GAP order.
    """
    wanted = set(wanted)
    ids, since, waits, gaps, hays, chans = columns
    count = len(rows)
    slices: dict[SortOrder, _Slice] = {}
    perms: dict[SortOrder, list[int]] = {}
    if SortOrder.NEWEST in wanted:
        perms[SortOrder.NEWEST] = order_by(since, ids)[::-1]
    if SortOrder.WAIT in wanted:
        perms[SortOrder.WAIT] = order_by(list(map(neg, waits)), since, ids)
    if wanted & {SortOrder.GAP, SortOrder.CHANNEL}:
        place: Sequence[int]  # each row's place in GAP order
        if gap_sorted:
            place = range(count)
            slices[SortOrder.GAP] = _Slice(rows, hays, chans)
        else:
            by_gap = perms[SortOrder.GAP] = order_by(list(map(neg, gaps)), since, ids)
            places = [0] * count
            for at, index in enumerate(by_gap):
                places[index] = at
            place = places
        if SortOrder.CHANNEL in wanted:
            ranks = {c: rows[chans.index(c)].channel_label.casefold() for c in set(chans)}
            perms[SortOrder.CHANNEL] = order_by(list(map(ranks.__getitem__, chans)), place)
    for order, perm in perms.items():
        if order in wanted:
            slices[order] = _Slice(list(map(rows.__getitem__, perm)))
    return slices


def _tokens(text: str) -> tuple[str, ...]:
    """The words of a filter text, folded as the haystacks are."""
    return tuple(fold(text).split())


def _matching(source: _Slice, tokens: tuple[str, ...], channel: str | None) -> _Slice:
    """The rows of ``channel`` whose haystack holds every token, in order.

    ``compress`` over ``map``: the loops run in C.
    """
    result = source
    if channel is not None:
        result = result.where(map(eq, result.chans, repeat(channel)), chans=True)
    for token in tokens:  # a word is in the row's fields or in its messages
        in_fields = map(contains, result.hays, repeat(token))
        in_texts = map(contains, result.texts, repeat(token))
        result = result.where(map(or_, in_fields, in_texts))
    return result


_State = tuple[tuple[str, ...], str | None, SortOrder]
_NEAR = 500  # rows either side of a hint that index_of looks at first


class QueueView:
    """The queue's rows and the filtered, sorted list the screen shows.

    :meth:`set_rows` takes the :class:`PreparedRows` that :func:`build_rows`
    made in a worker: every sort order is ready, so interactive changes (a
    filter keystroke, a channel, a sort change) stay within a few tens of
    milliseconds at 100,000 rows. The last few filtered results are kept, so
    Backspace and going back to an earlier sort are instant.

    Not thread-safe: use it on the UI thread (or hand it over whole).
    """

    _RECENT = 8  # filtered results kept

    def __init__(
        self,
        rows: Sequence[QueueRow] = (),
        *,
        sort: SortOrder = SortOrder.GAP,
        filter_text: str = "",
        channel: str | None = None,
        reveal: bool = False,
    ) -> None:
        self._rows = PreparedRows()
        self._order = sort
        self._filter_text = filter_text
        self._tokens = _tokens(filter_text)
        self._channel = channel
        self._reveal = reveal
        self._recent: dict[_State, _Slice] = {}
        self._visible = _EMPTY
        self._generation = 0
        self.set_rows(rows)

    # -- state ---------------------------------------------------------------

    @property
    def rows(self) -> Sequence[QueueRow]:
        """Every row, unfiltered (worst gap first when from :func:`build_rows`)."""
        return self._rows

    @property
    def visible(self) -> Sequence[QueueRow]:
        """The rows that match the filters, in the sort order. Do not mutate."""
        return self._visible.rows

    @property
    def sort(self) -> SortOrder:
        return self._order

    @property
    def filter_text(self) -> str:
        return self._filter_text

    @property
    def channel(self) -> str | None:
        """The channel id the queue is narrowed to, or ``None`` for all."""
        return self._channel

    @property
    def reveal(self) -> bool:
        """Whether e-mail addresses and phone numbers are shown unmasked."""
        return self._reveal

    @property
    def is_filtered(self) -> bool:
        return bool(self._tokens) or self._channel is not None

    @property
    def searchable(self) -> bool:
        """Whether the rows can be searched (see :attr:`PreparedRows.searchable`)."""
        return self._rows.searchable

    @property
    def search_pending(self) -> bool:
        """A filter text is set but the rows cannot be searched yet (made without
        haystacks): every row of the channel filter shows until searchable rows
        come (:meth:`set_rows`), and the text is applied then."""
        return bool(self._tokens) and not self._rows.searchable

    @property
    def state(self) -> tuple[str, str | None, SortOrder]:
        """(filter text, channel, sort): changes when the user narrows or re-sorts."""
        return self._filter_text, self._channel, self._order

    @property
    def generation(self) -> int:
        """Increases whenever :attr:`visible` is recomputed."""
        return self._generation

    def index_of(self, conversation_id: int, near: int | None = None) -> int | None:
        """Where a conversation is in :attr:`visible`, or ``None``.

        A linear scan in C that stops at the match: cheap near the top, tens
        of milliseconds at the end of 100,000 rows. With ``near`` (where it
        was before a refresh) the rows around that index are looked at first.
        """
        rows = self._visible.rows
        if near is not None:
            start = max(near - _NEAR, 0)
            try:
                return start + indexOf(map(_BY_ID, rows[start : near + _NEAR]), conversation_id)
            except ValueError:
                pass
        try:
            return indexOf(map(_BY_ID, rows), conversation_id)
        except ValueError:
            return None

    def index_of_row(self, row: QueueRow) -> int | None:
        """Where this very row object is in :attr:`visible`, or ``None``.

        Compares addresses, not contents: right after a filter or sort change,
        which keep the row objects, this is faster than :meth:`index_of`.
        """
        try:
            return indexOf(map(id, self._visible.rows), id(row))
        except ValueError:
            return None

    # -- changes -------------------------------------------------------------

    def set_rows(self, rows: Sequence[QueueRow]) -> None:
        """Replace every row (a new poll); the filters and the sort order stay.

        Instant with :class:`PreparedRows`; other rows are sorted here first.
        """
        self._rows = prepare_rows(rows)
        self._recent.clear()
        self._refilter(self._full())

    def set_filter(self, text: str) -> None:
        """Keep rows whose channel, customer, subject or last messages contain every
        word of ``text``.

        Case- and accent-insensitive (``citta`` finds ``CITTÀ``, ``strasse``
        finds ``Straße``): the words and the rows are folded alike
        (:func:`sportello.core.folding.fold`). Of the messages, the start of the last
        few is searched (:data:`sportello.core.folding.SEARCH_MESSAGES`). E-mail
        addresses and phone numbers are searched unmasked (a phone's digits
        alone too): the owner may search for what the screen hides, and a match
        reveals nothing (nor does one in a message: the queue lists no message text).
        """
        if text == self._filter_text:
            return
        narrower = text.startswith(self._filter_text)
        self._filter_text = text
        tokens = _tokens(text)
        if tokens == self._tokens:
            return  # only white space changed
        self._tokens = tokens
        self._refilter(self._visible if narrower else self._full())

    def set_channel(self, channel: str | None) -> None:
        """Narrow the queue to one channel id, or ``None`` for every channel."""
        if channel == self._channel:
            return
        narrower = self._channel is None
        self._channel = channel
        self._refilter(self._visible if narrower else self._full())

    def set_sort(self, order: SortOrder) -> None:
        """Re-order the same rows."""
        if order is self._order:
            return
        self._order = order
        visible = self._visible.rows
        few = len(visible) * 10 < len(self._rows)
        if self.is_filtered and few and self._key() not in self._recent:
            # Sorting the few rows shown beats filtering every row again.
            self._remember(_orders(visible, _Columns.of(visible), (order,))[order])
        else:
            self._refilter(self._full())

    def set_reveal(self, reveal: bool) -> None:
        """Show e-mail addresses and phone numbers unmasked (the rows do not change)."""
        if reveal != self._reveal:
            self._reveal = reveal
            self._generation += 1

    # -- internals -----------------------------------------------------------

    def _full(self) -> _Slice:
        return self._rows.orders.get(self._order, _EMPTY)

    def _key(self) -> _State:
        return self._tokens, self._channel, self._order

    def _refilter(self, source: _Slice) -> None:
        if not self.is_filtered:
            self._set_visible(self._full())
            return
        cached = self._recent.get(self._key())
        if cached is not None:
            self._set_visible(cached)
        else:
            tokens = self._tokens if self._rows.searchable else ()
            self._remember(_matching(source, tokens, self._channel))

    def _remember(self, result: _Slice) -> None:
        recent = self._recent
        recent[self._key()] = result
        while len(recent) > self._RECENT:
            del recent[next(iter(recent))]
        self._set_visible(result)

    def _set_visible(self, result: _Slice) -> None:
        self._visible = result
        self._generation += 1
