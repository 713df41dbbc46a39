"""Problems found in a config file, and the helpers that check one field at a time.

:class:`Context` collects every problem of one file; :class:`Section` is one
mapping of it (``business:``, a channel…) with typed getters that report a
problem and carry on, so that a file's problems are all found in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sportello.core.yaml_lines import LineMap, did_you_mean
from sportello_sdk.base import Adapter
from sportello_sdk.options import OptionError, format_duration, kind_of, parse_duration

AdapterLoader = Callable[[str], type[Adapter]]
MIN_INTERVAL = timedelta(seconds=1)
MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a config file. ``str()`` is the line shown to the user::

    config.yaml:23: channel 'email' · expectation: expected a duration such as 5m, …
    """

    file: Path | None
    line: int | None
    where: str  # "channel 'email' · expectation", "business · hours.mon", or ""
    message: str

    def __str__(self) -> str:
        place = "" if self.file is None else str(self.file)
        if self.line is not None:
            place = f"{place}:{self.line}" if place else f"line {self.line}"
        text = f"{self.where}: {self.message}" if self.where else self.message
        return inert(f"{place}: {text}" if place else text)


def inert(text: str) -> str:
    """``text`` with control and format characters (escape sequences, bidi) made visible."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


class ConfigError(Exception):
    """The config cannot be used. ``str()`` gives every problem, one per line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


@dataclass
class Context:
    """What checking one file needs and finds."""

    path: Path
    adapter_loader: AdapterLoader
    problems: list[Problem] = field(default_factory=list)
    # (channel id, option) → line of each secret reference, for check_config's messages
    secret_lines: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def base(self) -> Path:
        """The config file's folder: relative paths in it are relative to this."""
        return self.path.expanduser().absolute().parent

    def add(self, line: int | None, where: str, message: str) -> None:
        self.problems.append(Problem(self.path, line, where, message))


@dataclass
class Section:
    """One mapping being checked, and the words that place its problems."""

    context: Context
    mapping: LineMap
    prefix: str  # "business", "channel 'email'", "" at the top level

    def where(self, key: str) -> str:
        return f"{self.prefix} · {key}" if self.prefix else key

    def problem(self, key: str, message: str, line: int | None = None) -> None:
        line = self.mapping.line_of(key) if line is None else line
        self.context.add(line, self.where(key), message)

    def only(self, allowed: Sequence[str]) -> None:
        """Report every key not in ``allowed``, with a did-you-mean."""
        for key in self.mapping:
            if key not in allowed:
                hint = did_you_mean(key, allowed) or f"; expected {', '.join(allowed)}"
                self.problem(key, f"unknown key {key[:40]!r}{hint}")

    def text(self, key: str, default: str | None = None) -> str | None:
        """The stripped text at ``key``; required when there is no default."""
        value = self.mapping.get(key, MISSING)
        if value is MISSING:
            if default is None:
                self.problem(key, "missing (required)", self.mapping.line)
            return default
        if not isinstance(value, str) or not value.strip():
            got = "nothing" if isinstance(value, str) else kind_of(value)
            self.problem(key, f"expected text, got {got}")
            return None
        return value.strip()

    def boolean(self, key: str, default: bool) -> bool:
        value = self.mapping.get(key, default)
        if not isinstance(value, bool):
            self.problem(key, f"expected true or false, got {kind_of(value)}")
            return default
        return value

    def integer(self, key: str, default: int, minimum: int) -> int:
        value = self.mapping.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"expected a whole number, got {kind_of(value)}")
            return default
        if value < minimum:
            self.problem(key, f"must be at least {minimum}")
            return default
        return value

    def duration(
        self,
        key: str,
        default: timedelta,
        minimum: timedelta = MIN_INTERVAL,
        maximum: timedelta | None = None,
    ) -> timedelta:
        value = self.mapping.get(key, MISSING)
        if value is MISSING:
            return default
        try:
            parsed = parse_duration(value)
        except OptionError as exc:
            self.problem(key, str(exc))
            return default
        if parsed < minimum:
            self.problem(key, f"must be at least {minimum.total_seconds():g}s")
            return default
        if maximum is not None and parsed > maximum:
            self.problem(
                key, f"must be at most {format_duration(maximum)}, got {format_duration(parsed)}"
            )
            return default
        return parsed

    def sub(self, key: str, prefix: str, required: bool = False) -> Section | None:
        """The mapping at ``key`` as a section; empty when absent and not required."""
        value = self.mapping.get(key, MISSING)
        if value is MISSING:
            if required:
                self.problem(key, "missing (required)", self.mapping.line)
                return None
            return Section(self.context, LineMap(self.mapping.line), prefix)
        if not isinstance(value, LineMap):
            self.problem(key, f"expected a mapping, got {kind_of(value)}")
            return None
        return Section(self.context, value, prefix)


def show(value: object) -> str:
    """A value the user wrote, short and inert (``repr`` escapes control characters)."""
    if isinstance(value, str):
        return repr(value.strip()[:40])
    return kind_of(value)
