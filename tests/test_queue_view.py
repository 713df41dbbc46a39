"""The queue as data: rows, sort orders and their ties, filters, lookups."""

from __future__ import annotations

import math
import random
import unicodedata
from collections.abc import Callable
from datetime import timedelta

import pytest

from sportello.core.board import Board, ChannelRow
from sportello.core.folding import search_text
from sportello.core.metrics import ChannelMetrics
from sportello.core.queue_view import (
    NO_SUBJECT,
    PreparedRows,
    QueueRow,
    QueueView,
    SortOrder,
    build_board_rows,
    build_rows,
    prepare_rows,
)
from sportello.core.records import QueueItem
from sportello.core.settings import Channel

NOW = 1_790_000_000.0
LABELS = {"mail": "Email", "chat": "chat", "fb": "Facebook"}
EXPECT = {"mail": 4 * 3600.0, "chat": 300.0, "fb": 3600.0}


def item(
    cid: int,
    channel: str = "mail",
    since: float = NOW - 3600,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    subject: str = "Ordine",
    messages: tuple[str, ...] = (),
) -> QueueItem:
    return QueueItem.of(
        cid, channel, f"x{cid}", name, email, phone, subject, since, search_text(messages)
    )


def rows_of(*items: QueueItem, now: float = NOW) -> PreparedRows:
    return build_rows(items, LABELS, [now - i.waiting_since for i in items], EXPECT)


def ids(rows: object) -> list[int]:
    assert isinstance(rows, (list, tuple))
    return [r.item.conversation_id for r in rows]


# -- build_rows ----------------------------------------------------------------


def test_build_rows_computes_gap_and_label() -> None:
    (row,) = rows_of(item(1, "fb", since=NOW - 5400))
    assert row.channel_label == "Facebook"
    assert row.wait_s == 5400
    assert row.expect_s == 3600
    assert row.gap_s == 1800
    assert row.conversation_id == 1 and row.channel_id == "fb"


def test_build_rows_unknown_channel_and_nan_wait() -> None:
    rows = build_rows(
        [item(1, "gone"), item(2, "mail")], {"mail": "Email"}, [120.0, math.nan], {"mail": 60.0}
    )
    by_id = {r.conversation_id: r for r in rows}
    assert by_id[1].channel_label == "gone"  # shown by its id
    assert by_id[1].gap_s == 120.0  # no expectation: the gap is the wait
    assert by_id[2].wait_s == 0.0 and by_id[2].gap_s == -60.0


def test_build_rows_checks_lengths() -> None:
    with pytest.raises(ValueError, match="1 items but 2 waits"):
        build_rows([item(1)], LABELS, [1.0, 2.0], EXPECT)


def test_build_rows_sanitises_text() -> None:
    hostile = "\x1b]52;c;ZXZpbA==\x07Ordine\x1b[2J\nnon\u202earrivato " + "x" * 5000
    (row,) = rows_of(item(1, subject=hostile))
    assert "\x1b" not in row.subject and "\u202e" not in row.subject and "\n" not in row.subject
    assert row.subject.startswith("Ordine nonarrivato xxx")  # U+202E removed, not a space
    assert len(row.subject) <= 200
    (empty,) = rows_of(item(2, subject="\x1b[31m"))
    assert empty.subject == NO_SUBJECT
    labelled = build_rows([item(3, "evil")], {"evil": "\x1b[5mShop\x07"}, [1.0], {})
    assert labelled[0].channel_label == "Shop"


def test_build_rows_are_worst_gap_first_and_prepared() -> None:
    rows = rows_of(item(1, since=NOW - 60), item(2, "chat", since=NOW - 3600), item(3))
    assert isinstance(rows, PreparedRows)
    assert ids(rows) == [2, 3, 1]  # gaps: +55m, -3h, -3h59m
    assert prepare_rows(rows) is rows


def test_haystack_has_what_the_owner_may_search() -> None:
    (row,) = rows_of(
        item(1, "fb", name="Maria Rossi", email="Maria.R@Example.it", phone="+39 347 123 4567")
    )
    for needle in ("facebook", "maria rossi", "maria.r@example.it", "+39 347", "393471234567"):
        assert needle in row.haystack


def test_the_messages_are_searched_where_the_item_keeps_them_not_copied() -> None:
    """Issue 14 (memory): the start of the last messages is a few hundred characters
    a row; the row's haystack does not copy it, the filter reads the item's."""
    message = "il pacco è arrivato rotto, vorrei un rimborso " * 4
    (row,) = rows_of(item(1, "mail", name="Luca", messages=(message,)))
    assert row.item.search_text and row.item.search_text not in row.haystack
    assert "rimborso" not in row.haystack
    assert row.holds("rimborso") and row.holds("luca") and not row.holds("spedizione")
    view = QueueView()
    view.set_rows(rows_of(item(1, "mail", messages=(message,)), item(2, "mail", name="Rimborso")))
    view.set_filter("rimborso")
    assert sorted(ids(view.visible)) == [1, 2]  # in the messages, in the name


def test_row_text_is_masked_unless_revealed() -> None:
    (row,) = rows_of(item(1, email="maria@example.it", subject="call 347 1234567"))
    assert row.customer_text() == "m•••@e•••.it"
    assert row.customer_text(reveal=True) == "maria@example.it"
    assert row.subject_text() == "call ••• 4567"
    assert row.subject_text(reveal=True) == "call 347 1234567"
    (nobody,) = rows_of(item(2))
    assert nobody.customer_text() == "unknown"
    (sneaky,) = rows_of(item(3, name="\x1b[31mmaria\x1b[0m@example.it\x07"))
    assert sneaky.customer_text() == "m•••@e•••.it"
    assert sneaky.customer_text(reveal=True) == "maria@example.it"


def test_build_board_rows_uses_the_board_channels() -> None:
    def channel(cid: str, label: str, expect_s: float) -> ChannelRow:
        settings = Channel(
            id=cid,
            label=label,
            adapter="demo",
            expectation=timedelta(seconds=expect_s),
            hours=None,
            poll_interval=timedelta(seconds=30),
            timeout=timedelta(seconds=10),
        )
        return ChannelRow(settings, None, ChannelMetrics(0, 0.0, expect_s, None, None, None))

    board = Board(
        now=NOW,
        channels=(channel("mail", "Posta", 600.0),),
        queue=(item(1, "mail"),),
        waits=(1000.0,),
    )
    (row,) = build_board_rows(board)
    assert row.channel_label == "Posta"
    assert row.gap_s == 400.0


# -- sort orders -----------------------------------------------------------------

TIES = [
    # id, channel, waiting since: ties on gap within a channel and across channels
    item(5, "mail", since=NOW - 5 * 3600),  # gap 1h
    item(3, "fb", since=NOW - 2 * 3600),  # gap 1h, newer
    item(4, "fb", since=NOW - 2 * 3600),  # same gap and same since: by id
    item(1, "chat", since=NOW - 60),  # gap -4m
    item(2, "chat", since=NOW - 60),
    item(6, "mail", since=NOW - 60),  # gap far below 0
]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (SortOrder.GAP, [5, 3, 4, 1, 2, 6]),  # worst gap, then oldest, then id
        (SortOrder.WAIT, [5, 3, 4, 1, 2, 6]),  # longest wait; ties oldest, then id
        (SortOrder.CHANNEL, [1, 2, 5, 6, 3, 4]),  # chat, Email, Facebook (case-blind)
        (SortOrder.NEWEST, [6, 2, 1, 4, 3, 5]),  # most recent first; ties newest id first
    ],
)
def test_sort_orders_and_ties(order: SortOrder, expected: list[int]) -> None:
    view = QueueView(rows_of(*TIES), sort=order)
    assert ids(view.visible) == expected


def test_wait_differs_from_gap() -> None:
    rows = rows_of(item(1, "mail", since=NOW - 3 * 3600), item(2, "chat", since=NOW - 3600))
    assert ids(QueueView(rows).visible) == [2, 1]  # chat is 55m behind, mail is not
    assert ids(QueueView(rows, sort=SortOrder.WAIT).visible) == [1, 2]


def test_sort_order_labels_and_cycle() -> None:
    assert SortOrder.GAP.label == "worst gap first"
    seen = [SortOrder.GAP]
    while (following := seen[-1].next()) is not SortOrder.GAP:
        seen.append(following)
    assert seen == list(SortOrder)


def test_plain_rows_are_sorted_too() -> None:
    plain = list(rows_of(*TIES))
    plain.reverse()
    view = QueueView(plain)
    assert ids(view.visible) == [5, 3, 4, 1, 2, 6]


# -- filters -----------------------------------------------------------------------


def test_filter_matches_every_word_case_blind() -> None:
    rows = rows_of(
        item(1, "mail", name="Maria Rossi", subject="Ordine non arrivato"),
        item(2, "fb", name="Luca Bianchi", subject="Fattura errata"),
        item(3, "chat", email="maria@example.it", subject="Reso"),
    )
    view = QueueView(rows)
    view.set_filter("MARIA")
    assert sorted(ids(view.visible)) == [1, 3]
    view.set_filter("maria ordine")
    assert ids(view.visible) == [1]
    view.set_filter("facebook")
    assert ids(view.visible) == [2]
    view.set_filter("nobody")
    assert view.visible == []
    view.set_filter("")
    assert len(view.visible) == 3


def test_filter_is_blind_to_accents_and_case_both_ways() -> None:
    rows = rows_of(
        item(1, name="Niccolò Ferri", subject="Disponibilità taglia M?"),
        item(2, name="Anna Citta", subject="articolo danneggiato"),
        item(3, name="Jürgen Groß", subject="Lieferung nach CITTÀ, Hauptstraße 1"),
        item(4, subject="ﬁnestra rotta"),  # a compatibility ligature
    )
    view = QueueView(rows)
    for typed, expected in [
        ("disponibilita", [1]),  # accented row, plain words
        ("niccolo", [1]),
        ("città", [2, 3]),  # accented words, plain row (2) and upper-case accented row (3)
        ("ÀRTICOLO", [2]),
        ("strasse", [3]),  # casefolding: ß is ss
        ("jurgen gross", [3]),
        ("finestra", [4]),
        ("DISPONIBILITÀ TAGLIA", [1]),
    ]:
        view.set_filter(typed)
        assert sorted(ids(view.visible)) == expected, typed
        view.set_filter("")


def test_filter_searches_the_start_of_the_last_messages() -> None:
    rows = rows_of(
        item(1, subject="Ordine 1042", messages=("Buongiorno", "Il pacco è arrivato ROTTO")),
        item(2, subject="Ordine 1043", messages=("Posso pagare alla consegna?",)),
        item(
            3,
            subject="Reso",
            messages=("Vecchia domanda sul reso", "Grazie", "Ancora nulla", "Sollecito"),
        ),
        item(4, subject="Fattura", messages=("Salve, " + "ancora " * 60 + "nascosto",)),
    )
    view = QueueView(rows)
    for typed, expected in [
        ("rotto", [1]),  # only in a message
        ("pacco ordine", [1]),  # words in a message and in the subject
        ("arrivato", [1]),  # the accent of "è" is no part of the word anyway
        ("consegna", [2]),
        ("sollecito grazie", [3]),  # the last three messages
        ("vecchia", []),  # only in a fourth-last message: not searched
        ("nascosto", []),  # past the start of a long message: not searched
        ("salve", [4]),
    ]:
        view.set_filter(typed)
        assert sorted(ids(view.visible)) == expected, typed
        view.set_filter("")


def test_search_text_is_folded_bounded_and_of_the_last_messages() -> None:
    text = search_text(["Primo", "Perché?\n\n  Non è   ARRIVATO", "Straße", "x" * 1000])
    assert text.split("\n") == ["perche? non e arrivato", "strasse", "x" * 160]
    assert search_text([]) == ""


def test_channel_filter_and_text_together() -> None:
    rows = rows_of(
        item(1, "mail", subject="Ordine"),
        item(2, "fb", subject="Ordine"),
        item(3, "fb", subject="Reso"),
    )
    view = QueueView(rows)
    view.set_channel("fb")
    assert sorted(ids(view.visible)) == [2, 3]
    view.set_filter("ordine")
    assert ids(view.visible) == [2]
    view.set_channel("mail")
    assert ids(view.visible) == [1]
    view.set_channel(None)
    assert sorted(ids(view.visible)) == [1, 2]
    assert view.state == ("ordine", None, SortOrder.GAP)


def test_set_rows_keeps_filters_and_order() -> None:
    view = QueueView(rows_of(item(1, subject="Ordine")), sort=SortOrder.NEWEST)
    view.set_filter("ordine")
    view.set_rows(
        rows_of(
            item(2, since=NOW - 300, subject="Ordine"),
            item(3, since=NOW - 200, subject="Reso"),
            item(4, since=NOW - 100, subject="Ordine bis"),
        )
    )
    assert ids(view.visible) == [4, 2]
    view.set_filter("")
    assert ids(view.visible) == [4, 3, 2]


def test_white_space_only_change_keeps_the_result() -> None:
    view = QueueView(rows_of(item(1, subject="Ordine"), item(2, subject="Reso")))
    view.set_filter("ordine")
    generation = view.generation
    view.set_filter("ordine ")
    assert view.generation == generation
    assert view.filter_text == "ordine "
    view.set_filter("ordine z")
    assert view.visible == []


def _reference(rows: list[QueueRow], order: SortOrder, text: str, channel: str | None) -> list[int]:
    keys: dict[SortOrder, Callable[[QueueRow], tuple[object, ...]]] = {
        SortOrder.GAP: lambda r: (-r.gap_s, r.item.waiting_since, r.conversation_id),
        SortOrder.WAIT: lambda r: (-r.wait_s, r.item.waiting_since, r.conversation_id),
        SortOrder.CHANNEL: lambda r: (
            r.channel_label.casefold(),
            -r.gap_s,
            r.item.waiting_since,
            r.conversation_id,
        ),
        SortOrder.NEWEST: lambda r: (-r.item.waiting_since, -r.conversation_id),
    }
    words = _reference_fold(text).split()

    def haystack(r: QueueRow) -> str:
        i = r.item
        fields = (r.channel_label, i.customer_name or "", i.customer_email or "", i.subject)
        return "\n".join(map(_reference_fold, fields)) + "\n" + i.search_text

    return [
        r.conversation_id
        for r in sorted(rows, key=keys[order])
        if (channel is None or r.channel_id == channel) and all(w in haystack(r) for w in words)
    ]


def _reference_fold(text: str) -> str:
    """Casefolded, NFKD, no combining marks: written the slow, obvious way."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _random_rows(rnd: random.Random, count: int) -> PreparedRows:
    names = ["Maria Rossi", "Luca Bianchi", "Niccolò Verdi", "SARA RUSSÒ", None]
    subjects = ["Ordine non arrivato", "Fattura errata", "Reso prodotto", "Cambio taglia", "Orari"]
    messages = ["", "Disponibilità?", "È arrivato rotto", "Città sbagliata", "Fattura già pagata"]
    items = [
        item(
            cid,
            rnd.choice(list(LABELS)),
            since=NOW - rnd.choice([60, 600, 3600, 7200]) * rnd.randint(1, 4),
            name=rnd.choice(names),
            email=rnd.choice([None, f"cliente{cid}@example.it"]),
            subject=f"{rnd.choice(subjects)} {rnd.randint(1, 99)}",
            messages=tuple(rnd.sample(messages, rnd.randint(0, 2))),
        )
        for cid in rnd.sample(range(1, 10 * count), count)
    ]
    return build_rows(items, LABELS, [NOW - i.waiting_since for i in items], EXPECT)


def test_incremental_filtering_matches_brute_force() -> None:
    """Typing, Backspace, channel and sort changes in any order: always the reference."""
    rnd = random.Random(20240611)
    rows = _random_rows(rnd, 600)
    view = QueueView(rows)
    text = ""
    alphabet = "ordinetafrsuàò 1"
    for step in range(600):
        action = rnd.random()
        if action < 0.55:
            text += rnd.choice(alphabet)
        elif action < 0.75:
            text = text[:-1]
        elif action < 0.82:
            text = rnd.choice(["", "ord", "maria", "fattura 1", "cliente1", "citta", "RUSSO"])
        elif action < 0.9:
            view.set_channel(rnd.choice([None, None, *LABELS]))
        else:
            view.set_sort(rnd.choice(list(SortOrder)))
        if len(text) > 8:
            text = ""
        if step % 97 == 96:
            rows = _random_rows(rnd, 600)  # a new poll in the middle of it all
            view.set_rows(rows)
        view.set_filter(text)
        expected = _reference(list(rows), view.sort, text, view.channel)
        assert ids(view.visible) == expected, (step, text, view.channel, view.sort)


def test_rows_replaced_mid_typing_matches_brute_force() -> None:
    rnd = random.Random(7)
    view = QueueView(_random_rows(rnd, 300))
    for text in ["o", "or", "ord", "or", "ma", "mar"]:
        view.set_filter(text)
        rows = _random_rows(rnd, 300)
        view.set_rows(rows)
        assert ids(view.visible) == _reference(list(rows), view.sort, text, None)


# -- lookups --------------------------------------------------------------------------


def test_index_of_and_index_of_row() -> None:
    rows = rows_of(*TIES)
    view = QueueView(rows)
    assert view.index_of(5) == 0 and view.index_of(6) == 5
    assert view.index_of(999) is None
    assert view.index_of(6, near=0) == 5 and view.index_of(5, near=5) == 0
    assert view.index_of(999, near=3) is None
    row = view.visible[2]
    assert view.index_of_row(row) == 2
    twin = QueueRow(*row)  # equal, but not the same object
    assert view.index_of_row(twin) is None
    view.set_channel("fb")
    assert view.index_of(3) == 0 and view.index_of(5) is None


def test_index_of_near_a_hint_in_many_rows() -> None:
    rnd = random.Random(3)
    view = QueueView(_random_rows(rnd, 3000))
    for index in (0, 1, 499, 500, 1500, 2999):
        conversation_id = view.visible[index].conversation_id
        for near in (None, 0, index, 2999, 10_000):
            assert view.index_of(conversation_id, near=near) == index


def test_reveal_is_view_state() -> None:
    view = QueueView(rows_of(item(1)))
    generation = view.generation
    view.set_reveal(True)
    assert view.reveal and view.generation > generation
    view.set_reveal(True)
    assert view.generation == generation + 1


def test_empty_view() -> None:
    view = QueueView()
    assert view.visible == [] and view.rows == []
    view.set_filter("x")
    view.set_sort(SortOrder.WAIT)
    view.set_channel("mail")
    assert view.visible == [] and view.index_of(1) is None


def test_a_filter_every_row_matches_copies_nothing_and_channels_still_narrow() -> None:
    """The first letter typed matches almost everyone: no copy of 100,000 rows for it;
    a channel filter after a text filter still finds its channel ids."""
    prepared = rows_of(
        item(1, "mail", subject="Ordine"),
        item(2, "chat", subject="Ordine rotto"),
        item(3, "chat", subject="Reso"),
    )
    view = QueueView(prepared)
    everyone = view.visible
    view.set_filter("o")  # in every haystack
    assert view.visible is everyone
    view.set_filter("ordine")
    assert sorted(ids(view.visible)) == [1, 2]
    view.set_channel("chat")
    assert ids(view.visible) == [2]
    view.set_filter("")
    assert sorted(ids(view.visible)) == [2, 3]
