"""Declared adapter options.

One declaration drives config validation, ``sportello adapters`` and the README's
channel reference. ``Option.coerce`` turns a value read from YAML into the declared
type or raises ``OptionError`` with a message that names no secret.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any


class OptionError(ValueError):
    """A value does not fit its option. The message is safe to show."""


class OptionType(enum.StrEnum):
    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DURATION = "duration"  # "90s", "5m", "4h", "1h30m", "2d" or a number of seconds
    STR_LIST = "list[str]"


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)")
_DURATION_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(value: object) -> timedelta:
    """Read ``5m``, ``4h``, ``1h30m``, ``2d``, ``45s`` or a number of seconds."""
    if isinstance(value, bool):
        raise OptionError(f"expected a duration such as 5m or 4h, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise OptionError("a duration cannot be negative")
        return timedelta(seconds=float(value))
    if not isinstance(value, str):
        raise OptionError(f"expected a duration such as 5m or 4h, got {type(value).__name__}")
    text = value.strip().lower().replace(" ", "")
    pos = 0
    total = 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if not text or pos != len(text):
        raise OptionError(f"expected a duration such as 5m, 4h or 1h30m, got {value[:40]!r}")
    return timedelta(seconds=total)


def format_duration(delta: timedelta | float | None) -> str:
    """Short human form: ``45s``, ``12m``, ``5h10m``, ``3d4h``; ``—`` when unknown."""
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds() if isinstance(delta, timedelta) else delta)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d{hours}h" if hours else f"{sign}{days}d"
    if hours:
        return f"{sign}{hours}h{minutes:02d}m" if minutes else f"{sign}{hours}h"
    if minutes:
        return f"{sign}{minutes}m"
    return f"{sign}{secs}s"


@dataclass(frozen=True, slots=True)
class Option:
    """One option an adapter accepts under its channel in config.yaml."""

    name: str
    type: OptionType = OptionType.STR
    required: bool = False
    secret: bool = False  # only a reference (${env:…}, ${keyring:…}, ${file:…}) is accepted
    default: Any = None
    description: str = ""
    choices: tuple[str, ...] | None = None
    minimum: float | None = None

    def coerce(self, value: object) -> Any:
        """Convert a YAML value to this option's type, or raise ``OptionError``."""
        converted: Any
        if self.type is OptionType.STR:
            if not isinstance(value, str):
                raise OptionError(f"expected text, got {kind_of(value)}")
            converted = value
        elif self.type is OptionType.INT:
            if isinstance(value, bool) or not isinstance(value, int):
                raise OptionError(f"expected a whole number, got {kind_of(value)}")
            converted = value
        elif self.type is OptionType.FLOAT:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise OptionError(f"expected a number, got {kind_of(value)}")
            converted = float(value)
        elif self.type is OptionType.BOOL:
            if not isinstance(value, bool):
                raise OptionError(f"expected true or false, got {kind_of(value)}")
            converted = value
        elif self.type is OptionType.DURATION:
            converted = parse_duration(value)
        else:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise OptionError(f"expected a list of texts, got {kind_of(value)}")
            converted = tuple(value)
        if self.choices is not None and converted not in self.choices:
            raise OptionError(f"must be one of {', '.join(self.choices)}")
        if self.minimum is not None:
            number = converted.total_seconds() if isinstance(converted, timedelta) else converted
            if isinstance(number, int | float) and number < self.minimum:
                raise OptionError(f"must be at least {self.minimum:g}")
        return converted

    def describe(self) -> dict[str, Any]:
        """The declaration as plain data, for ``sportello adapters --json``."""
        default = self.default
        if isinstance(default, timedelta):
            default = format_duration(default)
        elif isinstance(default, tuple):
            default = list(default)
        return {
            "name": self.name,
            "type": str(self.type),
            "required": self.required,
            "secret": self.secret,
            "default": default,
            "description": self.description,
        }


def kind_of(value: object) -> str:
    """What a value read from YAML is, in words, for messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
