"""Textual bindings built from the one key table in :mod:`sportello.core.keymap`."""

from __future__ import annotations

from textual.binding import Binding

from sportello.core.keymap import in_scope


def bindings(scope: str) -> list[Binding]:
    """The bindings of one scope, each with its id so that config can remap it."""
    return [
        Binding(spec.keys, spec.action, spec.description, show=spec.show, id=spec.id)
        for spec in in_scope(scope)
    ]
