"""Declared adapter options.

One declaration drives config validation, ``sportello adapters`` and the README's
channel reference. ``Option.coerce`` turns a value read from YAML into the declared
type or raises ``OptionError`` with a message that names no secret. It is
idempotent (``coerce(coerce(x)) == coerce(x)``), so one pipeline validates:
config.yaml's checker coerces every option (for its file:line messages), and an
adapter that calls :func:`resolve_options` on those ready values gets them back
unchanged, with the defaults of the options left out.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any


class OptionError(ValueError):
    """A value does not fit its option. The message is safe to show."""


class BareNumber(OptionError):
    """A duration written without its unit (``expectation: 5``)."""


class OptionType(enum.StrEnum):
    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DURATION = "duration"  # "90s", "5m", "4h", "1h30m", "2d": always with a unit
    STR_LIST = "list[str]"


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)")
_DURATION_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_BARE_NUMBER = re.compile(r"\d+(?:\.\d+)?")
DURATION_EXAMPLES = "5m, 4h or 1h30m"


def _bare_number(number: str) -> BareNumber:
    example = "0m or 0s" if float(number) == 0 else f"{DURATION_EXAMPLES} (s, m, h or d)"
    return BareNumber(f"{number} has no unit: write {example}")


def parse_duration(value: object) -> timedelta:
    """Read ``5m``, ``4h``, ``1h30m``, ``2d``, ``45s``.

    A bare number (``5``, ``"5"``, even ``0``) is refused: five what? A config that
    meant five minutes must not be read as five seconds.
    """
    if isinstance(value, bool):
        raise OptionError(f"expected a duration such as 5m or 4h, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise OptionError("a duration cannot be negative")
        raise _bare_number(f"{value:g}")
    if not isinstance(value, str):
        got = kind_of(value)
        raise OptionError(f"expected a duration such as {DURATION_EXAMPLES}, got {got}")
    text = value.strip().lower().replace(" ", "")
    if _BARE_NUMBER.fullmatch(text):
        raise _bare_number(text)
    pos = 0
    total = 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if not text or pos != len(text):
        got = repr(value[:40])
        raise OptionError(f"expected a duration such as {DURATION_EXAMPLES}, got {got}")
    return timedelta(seconds=total)


def format_duration(delta: timedelta | float | None) -> str:
    """Short human form, two units from an hour on; ``—`` when unknown.

    The rule: below a minute seconds (``45s``); below an hour whole minutes
    (``12m``); below a day hours and minutes (``2h05m``, ``4h00m``); from a day
    on days and hours (``1d00h``, ``12d03h``); from 100 days on days alone
    (``123d``). Every figure is cut down, never rounded up, so a wait, its
    expectation and its gap never disagree by more than the last unit shown:
    ``1d00h`` next to ``+23h18m`` (expectation ``1h00m``), never ``1d`` next to
    ``+23h18m``. At most 6 characters below 100 days (7 with a sign), the width
    of the narrowest wait and gap columns.
    """
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds() if isinstance(delta, timedelta) else delta)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days >= 100:
        return f"{sign}{days}d"
    if days:
        return f"{sign}{days}d{hours:02d}h"
    if hours:
        return f"{sign}{hours}h{minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m"
    return f"{sign}{secs}s"


@dataclass(frozen=True, slots=True)
class Option:
    """One option an adapter accepts under its channel in config.yaml.

    ``minimum`` and ``maximum`` bound numbers (durations in seconds) and are
    checked by :meth:`coerce`, like ``choices``.
    """

    name: str
    type: OptionType = OptionType.STR
    required: bool = False
    secret: bool = False  # only a reference (${env:…}, ${keyring:…}, ${file:…}) is accepted
    default: Any = None
    description: str = ""
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None

    def coerce(self, value: object) -> Any:
        """Convert a YAML value (or an already coerced one) to this option's type.

        Raises ``OptionError``. Idempotent: the result is accepted and returned
        unchanged, so a value checked by config.yaml's loader passes an adapter's
        own check as it is.
        """
        converted: Any
        if self.secret and self.type is OptionType.STR:
            from sportello_sdk.secret import Secret

            if isinstance(value, Secret):
                return value
            if not isinstance(value, str):
                raise OptionError(f"expected text, got {kind_of(value)}")
            return Secret(value)
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
            if isinstance(value, timedelta):
                if value < timedelta(0):
                    raise OptionError("a duration cannot be negative")
                converted = value
            else:
                converted = parse_duration(value)
        else:
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise OptionError(f"expected a list of texts, got {kind_of(value)}")
            converted = tuple(value)
        if self.choices is not None and converted not in self.choices:
            raise OptionError(f"must be one of {', '.join(self.choices)}")
        self._check_range(converted)
        return converted

    def _check_range(self, converted: Any) -> None:
        if self.minimum is None and self.maximum is None:
            return
        is_duration = isinstance(converted, timedelta)
        number = converted.total_seconds() if is_duration else converted
        if not isinstance(number, int | float) or isinstance(number, bool):
            return
        low, high = self.minimum, self.maximum
        if (low is None or number >= low) and (high is None or number <= high):
            return

        def show(bound: float) -> str:
            return format_duration(bound) if is_duration else f"{bound:g}"

        if low is not None and high is not None:
            raise OptionError(f"must be between {show(low)} and {show(high)}, got {show(number)}")
        if low is not None:
            raise OptionError(f"must be at least {show(low)}, got {show(number)}")
        assert high is not None
        raise OptionError(f"must be at most {show(high)}, got {show(number)}")

    def describe(self) -> dict[str, Any]:
        """The declaration as plain data, for ``sportello adapters --json``.

        Every option has the same keys; ``minimum``, ``maximum`` and ``choices``
        are ``null`` when not declared (durations' bounds in seconds).
        """
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
            "minimum": self.minimum,
            "maximum": self.maximum,
            "choices": list(self.choices) if self.choices is not None else None,
        }

    def range_text(self) -> str:
        """``0 to 1``, ``at least 0``, ``one of a, b``; empty when unbounded."""
        parts = []
        if self.choices is not None:
            parts.append(f"one of {', '.join(self.choices)}")
        duration = self.type is OptionType.DURATION

        def show(bound: float) -> str:
            return format_duration(bound) if duration else f"{bound:g}"

        if self.minimum is not None and self.maximum is not None:
            parts.append(f"{show(self.minimum)} to {show(self.maximum)}")
        elif self.minimum is not None:
            parts.append(f"at least {show(self.minimum)}")
        elif self.maximum is not None:
            parts.append(f"at most {show(self.maximum)}")
        return "; ".join(parts)


def resolve_options(
    declared: Sequence[Option], given: Mapping[str, Any], *, adapter: str = ""
) -> dict[str, Any]:
    """Every declared option: the given value coerced, or its default.

    Raises ``OptionError`` whose message starts with ``option NAME:`` for an
    unknown, missing or invalid option. Coercion is idempotent, so values that
    config.yaml's loader has already coerced come back as they are.
    """
    whose = f"the {adapter} adapter" if adapter else "this adapter"
    known = [option.name for option in declared]
    for name in given:
        if name not in known:
            takes = f"it takes {', '.join(sorted(known))}" if known else "it takes no options"
            raise OptionError(f"option {str(name)[:40]!r}: unknown to {whose} ({takes})")
    values: dict[str, Any] = {}
    for option in declared:
        value = given.get(option.name)
        if value is None:
            if option.required:
                raise OptionError(f"option {option.name}: required by {whose}")
            values[option.name] = option.default
            continue
        try:
            values[option.name] = option.coerce(value)
        except OptionError as exc:
            raise OptionError(f"option {option.name}: {exc}") from None
    return values


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
