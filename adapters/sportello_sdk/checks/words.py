"""A value in words for the checks' messages: its type, never its content (it may
be a secret); ids shown, cut short."""

from __future__ import annotations

from typing import Any

__all__ = ["MISSING", "kind_of", "quoted_id", "shown"]

MISSING: Any = object()
"""What an attribute that is not there reads as."""


def kind_of(value: object) -> str:
    """A value's type in words, never its content (it may be a secret)."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, str):
        return "a str"
    name = type(value).__name__
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def shown(value: object) -> str:
    """A declaration's value, shown: declarations hold no secrets, but stay short."""
    if value is MISSING:
        return "nothing"
    if isinstance(value, str):
        return f"the str {value[:40]!r}"
    return kind_of(value)


def quoted_id(value: object) -> str:
    """An id as shown: quoted, its first 60 characters; else its type."""
    return repr(value[:60]) if isinstance(value, str) else kind_of(value)
