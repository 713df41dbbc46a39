"""Mask customers' e-mail addresses and phone numbers on screen.

The dashboard is read at a shop's till, over a shoulder, on a shared screen:
e-mail addresses and phone numbers are masked by default and a key reveals
them. Names are shown: they are what the owner recognises a customer by.

    mask_email("maria.rossi@example.it")  ->  "m•••@e•••.it"
    mask_phone("+39 347 123 4567")        ->  "+39 ••• ••• 4567"

Masking is for the eye, not for security: what is masked is still in the
store. Pure and Textual-free; the functions do not sanitise (see ``inert``).
"""

from __future__ import annotations

import re

from sportello.core.glyphs import glyphs
from sportello.core.inert import ELLIPSIS

__all__ = ["DOTS", "customer_label", "mask_email", "mask_in_text", "mask_phone"]

DOTS = "•••"
"""What stands for the hidden part (``***`` where the terminal cannot show it)."""


def _dots() -> str:
    return glyphs().masked


UNKNOWN = "unknown"

_DIGITS = re.compile(r"\d+")
_GROUPS = re.compile(r"\+?\d+")

# An e-mail address inside free text; the domain may lack its dot when the
# text was cut short ("maria.rossi@exam…").
_EMAIL_IN_TEXT = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})*", re.ASCII | re.IGNORECASE
)
# A phone number inside free text: digits in groups separated by one space,
# dash, dot or slash, or with the area code in parentheses. Checked further
# by ``_looks_like_phone`` (how many digits, international prefix).
_PHONE_IN_TEXT = re.compile(
    r"(?<![\w+/.-])(?:\+|00)?\(?\d{1,5}\)?(?:[ ./-]?\(?\d{1,8}\)?){1,6}(?![\w/-])",
    re.ASCII,
)


def mask_email(address: str) -> str:
    """``maria.rossi@example.it`` -> ``m•••@e•••.it``: first letters and the TLD."""
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if not at:
        return address[:1] + _dots() if address else _dots()
    masked_local = local[:1] + _dots() if local else _dots()
    host, dot, tld = domain.rpartition(".")
    if not dot or not host:
        return f"{masked_local}@{domain[:1]}{_dots()}"
    return f"{masked_local}@{host[:1]}{_dots()}.{tld}"


def mask_phone(number: str) -> str:
    """``+39 347 123 4567`` -> ``+39 ••• ••• 4567``.

    Keeps the country code when it is written apart (``+39 …``, ``0039 …``)
    and the last four digits (three of a short number); each group between
    is one ``•••``. A number of fewer than five digits is masked whole.
    """
    groups = _GROUPS.findall(number)
    digits = "".join(_DIGITS.findall(number))
    if len(digits) < 5:
        return _dots()
    tail = digits[-4:] if len(digits) >= 8 else digits[-3:]
    first = groups[0]
    if first.startswith("+") and len(groups) == 1:
        return f"+{_dots()} {tail}"  # "+393471234567": where the country code ends is unknown
    parts: list[str] = []
    if len(groups) > 1 and first.startswith(("+", "00")) and len(first.lstrip("+")) <= 5:
        parts.append(groups.pop(0))
    parts.extend([_dots()] * max(1, min(3, len(groups) - 1)))
    parts.append(tail)
    return " ".join(parts)


def _looks_like_phone(candidate: str) -> bool:
    digits = sum(c.isdigit() for c in candidate)
    if candidate.startswith(("+", "00")):
        return 8 <= digits <= 15
    return 9 <= digits <= 13  # a date has eight digits at most


def _mask_phone_match(match: re.Match[str]) -> str:
    candidate = match.group(0)
    if _looks_like_phone(candidate):
        return mask_phone(candidate)
    if match.string.startswith(ELLIPSIS, match.end()) and sum(map(str.isdigit, candidate)) >= 5:
        return _dots()  # a number cut short by truncation: hide what is left of it
    return candidate


def mask_in_text(text: str) -> str:
    """Mask the e-mail addresses and phone numbers written inside free text.

    Conservative: an e-mail address needs ``@`` and a dotted domain; a phone
    number needs an international prefix and 8-15 digits, or else 9-13
    digits, so that dates, postcodes, prices and short order numbers are
    left alone. Order codes of nine digits or more are masked too: the
    reveal key shows them. An address or number cut short by ``inert``'s "…"
    is masked as well.
    """
    if "@" in text:
        text = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), text)
    return _PHONE_IN_TEXT.sub(_mask_phone_match, text)


def customer_label(
    name: str | None,
    email: str | None,
    phone: str | None,
    reveal: bool = False,
    *,
    handle: str | None = None,
) -> str:
    """How the queue names a customer.

    The name when known (an address or number inside it is masked unless
    ``reveal``); else the e-mail address, else the phone number, masked unless
    ``reveal``; else the handle (``@maria_r`` on Telegram: public, not masked,
    but an address or number inside it is); else ``"unknown"``. Not sanitised:
    pass the result to ``inert``.
    """
    if name and name.strip():
        return name if reveal else mask_in_text(name)
    if email and email.strip():
        return email if reveal else mask_email(email)
    if phone and phone.strip():
        return phone if reveal else mask_phone(phone)
    if handle and handle.strip():
        return handle if reveal else mask_in_text(handle)
    return UNKNOWN
