"""E-mail addresses and phone numbers masked on screen unless revealed."""

from __future__ import annotations

import pytest

from sportello.core.masking import customer_label, mask_email, mask_in_text, mask_phone


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("maria.rossi@example.it", "m•••@e•••.it"),
        ("luca@mail.example.co.uk", "l•••@m•••.uk"),
        ("  x@y.com ", "x•••@y•••.com"),
        ("a@localhost", "a•••@l•••"),
        ("@example.it", "•••@e•••.it"),
        ("not-an-address", "n•••"),
        ("", "•••"),
    ],
)
def test_mask_email(address: str, masked: str) -> None:
    assert mask_email(address) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+39 347 123 4567", "+39 ••• ••• 4567"),
        ("+39 02 1234 5678", "+39 ••• ••• 5678"),
        ("0039 347 1234567", "0039 ••• 4567"),
        ("347 1234567", "••• 4567"),
        ("3471234567", "••• 4567"),
        ("+393471234567", "+••• 4567"),
        ("+1 (555) 123-4567", "+1 ••• ••• 4567"),
        ("12345", "••• 345"),
        ("1234", "•••"),
        ("no digits", "•••"),
    ],
)
def test_mask_phone(number: str, masked: str) -> None:
    assert mask_phone(number) == masked


def test_mask_phone_never_shows_the_middle_digits() -> None:
    masked = mask_phone("+39 347 123 4567")
    assert "347" not in masked and "123" not in masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "Scrivimi a maria.rossi@example.it o al 347 1234567.",
            "Scrivimi a m•••@e•••.it o al ••• 4567.",
        ),
        ("tel +39 02 1234 5678, grazie", "tel +39 ••• ••• 5678, grazie"),
        ("ordine n. 2024000123", "ordine n. ••• 0123"),
        # Cut short by inert()'s ellipsis: still masked.
        ("scrivete a maria.rossi@exam…", "scrivete a m•••@e•••…"),
        ("chiamami al 347 123…", "chiamami al •••…"),
        ("ordine 12…", "ordine 12…"),
        ("ciao @mario_rossi", "ciao @mario_rossi"),
        # Left alone: short numbers, dates, prices, times.
        ("Ordine 12345 del 12/03/2024", "Ordine 12345 del 12/03/2024"),
        ("data 2024-03-12 ore 10:30", "data 2024-03-12 ore 10:30"),
        ("prezzo 1.234.567,00 euro", "prezzo 1.234.567,00 euro"),
        ("CAP 20121 Milano", "CAP 20121 Milano"),
        ("Ordine non arrivato", "Ordine non arrivato"),
    ],
)
def test_mask_in_text(text: str, masked: str) -> None:
    assert mask_in_text(text) == masked


def test_customer_label_prefers_the_name() -> None:
    assert customer_label("Maria R.", "maria@example.it", "+39 347 123 4567") == "Maria R."
    assert customer_label("Maria R.", None, None, reveal=True) == "Maria R."


def test_customer_label_masks_email_then_phone() -> None:
    assert customer_label(None, "maria@example.it", "+39 347 123 4567") == "m•••@e•••.it"
    assert customer_label("  ", None, "+39 347 123 4567") == "+39 ••• ••• 4567"
    assert customer_label(None, None, None) == "unknown"


def test_customer_label_reveal_shows_everything() -> None:
    assert customer_label(None, "maria@example.it", None, reveal=True) == "maria@example.it"
    assert customer_label(None, None, "+39 347 123 4567", reveal=True) == "+39 347 123 4567"


def test_a_name_that_is_an_address_is_masked() -> None:
    assert customer_label("maria@example.it", None, None) == "m•••@e•••.it"
    assert customer_label("maria@example.it", None, None, reveal=True) == "maria@example.it"
