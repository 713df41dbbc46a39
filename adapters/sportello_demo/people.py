"""The shop's customers: fictitious people, and what each kind of channel knows of them.

Names come from :mod:`sportello_demo.data`; every e-mail domain is an example
domain and every phone number is fictitious (Italian mobiles in a ``555`` block,
British ones in Ofcom's drama range ``07700 900xxx``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from sportello_demo import data
from sportello_demo.randomness import Rand, stable_key
from sportello_sdk import Customer

__all__ = ["Person", "ascii_lower", "customer_of", "people", "phone_number"]


@dataclass(frozen=True, slots=True)
class Person:
    first: str
    last: str
    lang: str
    email: str
    phone: str
    telegram: str
    facebook: str

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


def ascii_lower(text: str) -> str:
    """``text`` in lower-case ASCII letters and digits (for addresses and handles)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def phone_number(lang: str, n: int) -> str:
    if lang == "it":
        return f"+39 3{20 + n % 80} 555 {n // 80 % 10000:04d}"
    return f"+44 7700 900{n % 1000:03d}"


def _make_person(rng: Rand, lang: str) -> Person:
    first = rng.choice(data.FIRST_NAMES[lang])
    last = rng.choice(data.LAST_NAMES[lang])
    a, b = ascii_lower(first), ascii_lower(last)
    digits = rng.below(90) + 10
    local = rng.choice((f"{a}.{b}", f"{a[0]}{b}", f"{a}{b}{digits}", f"{a}.{b}{digits}"))
    return Person(
        first=first,
        last=last,
        lang=lang,
        email=f"{local}@{rng.choice(data.EMAIL_DOMAINS[lang])}",
        phone=phone_number(lang, rng.below(800_000)),
        telegram=f"@{a}_{b}{digits}",
        facebook=f"{a}.{b}.{rng.below(900) + 100}",
    )


@lru_cache(maxsize=16)
def people(seed: int) -> tuple[Person, ...]:
    """The shop's customers for one seed, shared by every channel."""
    rng = Rand(stable_key("people", seed))
    return tuple(
        _make_person(rng, "it" if rng.chance(data.ITALIAN_SHARE) else "en") for _ in range(400)
    )


def customer_of(profile: str, person: Person, rng: Rand, known: bool) -> Customer:
    """What each kind of channel knows about a person; ``known``: they are in contacts."""
    if profile == "email":
        return Customer(name=person.full, email=person.email)
    if profile == "chat":
        email = person.email if known or rng.chance(0.6) else None
        return Customer(name=person.full if known or rng.chance(0.5) else person.first, email=email)
    if profile == "phone":
        return Customer(name=person.full if known or rng.chance(0.4) else None, phone=person.phone)
    if profile == "facebook":
        return Customer(name=person.full, handle=person.facebook)
    name = person.full if known or rng.chance(0.5) else person.first
    return Customer(name=name, handle=person.telegram)
