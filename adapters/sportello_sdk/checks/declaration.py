"""An adapter's declaration: what makes a class unusable as an adapter (the
registry skips it), and what else its options get wrong."""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sportello_sdk.base import Adapter
from sportello_sdk.checks.words import MISSING, kind_of, shown
from sportello_sdk.models import Capabilities, ChannelKind
from sportello_sdk.options import Option, OptionError, OptionType, format_duration

__all__ = ["declaration_problems", "option_problems"]


def _attribute(cls: type, name: str) -> Any:
    try:
        return getattr(cls, name, MISSING)
    except BaseException:  # a metaclass property may do anything
        return MISSING


def declaration_problems(cls: object) -> list[str]:
    """What makes ``cls`` unusable as an adapter; empty when it can be used.

    Checked: a subclass of :class:`~sportello_sdk.base.Adapter`; ``name`` a
    non-empty str; ``description`` a str; ``kind`` a ChannelKind;
    ``default_expectation`` a timedelta above zero; ``options`` a tuple (or list)
    of :class:`~sportello_sdk.options.Option` with distinct names and an
    OptionType each; ``capabilities`` a Capabilities; ``connect`` implemented as
    ``@classmethod async def connect(cls, context)``; and ``describe()`` giving
    JSON data.
    """
    if not isinstance(cls, type):
        return [f"is {kind_of(cls)}, not a class"]
    if not issubclass(cls, Adapter):
        hint = ""
        if callable(_attribute(cls, "fetch")):
            hint = " (an adapter of the old contract? see docs/adapters.md)"
        return [f"is not a subclass of sportello_sdk.Adapter{hint}"]
    problems: list[str] = []
    name = _attribute(cls, "name")
    if name is MISSING:
        problems.append("declares no name (name = 'my-desk')")
    elif not isinstance(name, str) or not name.strip():
        what = "an empty str" if isinstance(name, str) else kind_of(name)
        problems.append(f"name must be a non-empty str, got {what}")
    description = _attribute(cls, "description")
    if not isinstance(description, str):
        problems.append(f"description must be a str, got {kind_of(description)}")
    kind = _attribute(cls, "kind")
    if not isinstance(kind, ChannelKind):
        problems.append(f"kind must be a ChannelKind (ChannelKind.EMAIL…), got {shown(kind)}")
    expectation = _attribute(cls, "default_expectation")
    if not isinstance(expectation, timedelta):
        problems.append(
            "default_expectation must be a timedelta (timedelta(hours=1)), "
            f"got {shown(expectation)}"
        )
    elif expectation <= timedelta(0):
        problems.append(
            f"default_expectation must be above zero, got {format_duration(expectation)}"
        )
    problems.extend(_options_problems(_attribute(cls, "options")))
    capabilities = _attribute(cls, "capabilities")
    if not isinstance(capabilities, Capabilities):
        problems.append(
            f"capabilities must be a sportello_sdk.Capabilities, got {kind_of(capabilities)}"
        )
    problems.extend(_connect_problems(cls))
    if not problems:
        problems.extend(_describe_problems(cls))
    return problems


def _options_problems(options: object) -> list[str]:
    if options is MISSING:
        return []  # Adapter's own () is inherited; only a deleted one is missing
    if not isinstance(options, tuple | list):
        return [f"options must be a tuple of sportello_sdk.Option, got {shown(options)}"]
    problems: list[str] = []
    seen: set[str] = set()
    for index, option in enumerate(options):
        if not isinstance(option, Option):
            problems.append(
                f"options[{index}] must be a sportello_sdk.Option, got {shown(option)}"
                + (f" (write Option({option[:40]!r}))" if isinstance(option, str) else "")
            )
            continue
        name = option.name
        if not isinstance(name, str) or not name:
            problems.append(f"options[{index}] has no name (got {kind_of(name)})")
            continue
        if name in seen:
            problems.append(f"option {name!r} is declared twice")
        seen.add(name)
        if not isinstance(option.type, OptionType):
            problems.append(
                f"option {name!r}: type must be an OptionType (OptionType.STR…), "
                f"got {shown(option.type)}"
            )
    return problems


def _connect_problems(cls: type) -> list[str]:
    connect = _attribute(cls, "connect")
    if connect is MISSING or not callable(connect):
        return ["has no connect(): write @classmethod async def connect(cls, context)"]
    if getattr(connect, "__isabstractmethod__", False):
        return ["does not implement connect(): write @classmethod async def connect(cls, context)"]
    problems: list[str] = []
    if not inspect.iscoroutinefunction(connect):
        problems.append("connect() must be a coroutine function (async def)")
    try:
        inspect.signature(connect).bind(object())
    except TypeError:
        problems.append(
            "connect() must take one argument, the context: "
            "@classmethod async def connect(cls, context)"
        )
    except ValueError:  # no signature to read (a builtin): let the call tell
        pass
    return problems


def _describe_problems(cls: type[Adapter]) -> list[str]:
    try:
        described = cls.describe()
        json.dumps(described, allow_nan=False)
    except BaseException as exc:
        return [f"describe() fails: {type(exc).__name__}"]
    if not isinstance(described, dict):
        return [f"describe() must give a dict, got {kind_of(described)}"]
    return []


def option_problems(options: Sequence[Option]) -> list[str]:
    """What a declaration's options get wrong that still lets the adapter load.

    Assumes :func:`declaration_problems` found nothing wrong with them.
    """
    problems: list[str] = []
    for option in options:
        where = f"option {option.name!r}"
        if not option.name.isidentifier():
            problems.append(f"{where}: a name of letters, digits and _ reads best in config.yaml")
        if not isinstance(option.description, str):
            problems.append(f"{where}: description must be a str")
        if option.secret and option.type is not OptionType.STR:
            problems.append(f"{where}: a secret option must be of type str")
        if option.secret and option.default is not None:
            problems.append(f"{where}: a secret cannot have a default (it would be in the code)")
        if option.required and option.default is not None:
            problems.append(f"{where}: required, so its default is never used")
        if option.choices is not None and (
            not isinstance(option.choices, tuple)
            or not option.choices
            or not all(isinstance(choice, str) for choice in option.choices)
        ):
            problems.append(f"{where}: choices must be a non-empty tuple of str")
        if (
            option.minimum is not None
            and option.maximum is not None
            and option.minimum > option.maximum
        ):
            problems.append(f"{where}: minimum is above maximum")
        if option.default is not None and not option.secret:
            try:
                coerced = option.coerce(option.default)
            except OptionError as exc:
                problems.append(f"{where}: its default does not fit it ({exc})")
            else:
                if coerced != option.default:
                    problems.append(
                        f"{where}: its default changes when checked (write it as "
                        f"{kind_of(coerced)})"
                    )
    return problems
