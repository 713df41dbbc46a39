"""The ``channels:`` list of config.yaml: each channel and its adapter's options.

A channel's options are checked against the options its adapter declares
(:class:`sportello_sdk.options.Option`): unknown ones refused with a did-you-mean,
required ones demanded, defaults applied. Secret options take only references;
a literal secret is refused without ever being repeated in a message.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sportello.core import secrets
from sportello.core.config_fields import MISSING, Context, Section, show
from sportello.core.hours_config import parse_weekly
from sportello.core.settings import Business, Channel, OpenHours, SecretRef
from sportello.core.yaml_lines import LineList, LineMap, did_you_mean
from sportello_sdk import registry
from sportello_sdk.base import Adapter
from sportello_sdk.options import OptionError, kind_of

DEFAULT_POLL_INTERVAL = timedelta(seconds=60)
DEFAULT_TIMEOUT = timedelta(seconds=30)
FALLBACK_EXPECTATION = timedelta(hours=4)  # when the adapter cannot be loaded
UNDO_WINDOW_MAX = timedelta(minutes=10)  # a reply held longer is a reply not sent
CHANNEL_KEYS = (
    "id",
    "label",
    "adapter",
    "expectation",
    "hours",
    "poll_interval",
    "timeout",
    "options",
    "enabled",
    "undo_window",
)
_CHANNEL_ID = re.compile(r"[a-z0-9_-]{1,64}")


def check_channels(top: Section, business: Business | None) -> list[Channel]:
    """The enabled channels of the document's ``channels:`` list."""
    value = top.mapping.get("channels", MISSING)
    example = "a list of channels (- id: email …)"
    if value is MISSING:
        top.problem("channels", f"missing (required): {example}", top.mapping.line)
        return []
    if not isinstance(value, LineList) or not value:
        got = "an empty list" if isinstance(value, list) else kind_of(value)
        top.problem("channels", f"expected {example}, got {got}")
        return []
    checker = _ChannelChecker(top.context, business)
    channels: list[Channel] = []
    any_enabled = False
    for index, item in enumerate(value):
        channel, enabled = checker.check(item, index, value.line_of(index))
        any_enabled = any_enabled or enabled
        if channel is not None and enabled:
            channels.append(channel)
    if not any_enabled:
        top.problem("channels", "every channel is disabled (enabled: false)")
    return channels


class _ChannelChecker:
    def __init__(self, context: Context, business: Business | None) -> None:
        self.context = context
        self.business = business
        self.seen: dict[str, int] = {}  # channel id → line, to refuse duplicates

    def check(self, item: object, index: int, line: int) -> tuple[Channel | None, bool]:
        """The channel (``None`` after a problem) and whether it is enabled."""
        prefix = f"channel #{index + 1}"
        if not isinstance(item, LineMap):
            got = kind_of(item)
            self.context.add(line, prefix, f"expected a mapping with id:, adapter: …, got {got}")
            return None, True
        before = len(self.context.problems)
        section = Section(self.context, item, prefix)
        channel_id = self.channel_id(section)
        if channel_id is not None:
            section.prefix = f"channel {channel_id!r}"
        section.only(CHANNEL_KEYS)
        enabled = section.boolean("enabled", True)
        label = section.text("label", channel_id or "?")
        adapter_name = section.text("adapter")
        adapter_cls = self.adapter(section, adapter_name, enabled)
        expectation = section.duration(
            "expectation",
            adapter_cls.default_expectation if adapter_cls else FALLBACK_EXPECTATION,
        )
        hours = self.hours(section)
        poll_interval = section.duration("poll_interval", DEFAULT_POLL_INTERVAL)
        timeout = section.duration("timeout", DEFAULT_TIMEOUT)
        undo_window = self.undo_window(section)
        options = _OptionsChecker(section, channel_id or prefix).check(adapter_cls)
        if (
            len(self.context.problems) > before
            or channel_id is None
            or label is None
            or adapter_name is None
        ):
            return None, enabled
        channel = Channel(
            id=channel_id,
            label=label,
            adapter=adapter_name,
            expectation=expectation,
            hours=hours,
            poll_interval=poll_interval,
            timeout=timeout,
            options=options,
            line=item.line,
            undo_window=undo_window,
        )
        return channel, enabled

    def channel_id(self, section: Section) -> str | None:
        value = section.text("id")
        if value is None:
            return None
        if _CHANNEL_ID.fullmatch(value) is None:
            section.problem(
                "id", f"{value[:40]!r} must be 1 to 64 of a-z, 0-9, _ and - (such as shop-email)"
            )
            return None
        if value in self.seen:
            first = self.seen[value]
            section.problem("id", f"{value!r} is already the id of the channel at line {first}")
            return None
        self.seen[value] = section.mapping.line
        return value

    def adapter(self, section: Section, name: str | None, enabled: bool) -> type[Adapter] | None:
        if name is None:
            return None
        try:
            return self.context.adapter_loader(name)
        except Exception as exc:  # a broken plug-in is a problem of this channel, not a crash
            if enabled:  # a disabled channel may name an adapter that is not installed yet
                message = str(exc) or type(exc).__name__
                section.problem("adapter", message + _installed_hint(name))
            return None

    def undo_window(self, section: Section) -> timedelta | None:
        """How long its actions wait to be taken back; ``None``: the default of its kind."""
        if "undo_window" not in section.mapping:
            return None
        zero = timedelta(0)
        return section.duration("undo_window", zero, zero, UNDO_WINDOW_MAX)

    def hours(self, section: Section) -> OpenHours | None:
        """The channel's open hours; ``None`` for 24/7 (and after a problem)."""
        value = section.mapping.get("hours", "business")
        business = self.business
        if value == "business":
            return business.hours if business is not None else None
        if value == "24/7":
            return None
        if isinstance(value, LineMap):
            line = section.mapping.line_of("hours")
            weekly = parse_weekly(value, line, section.where("hours"), self.context.add)
            if weekly is None or business is None:
                return None
            return OpenHours(weekly, business.timezone, business.holidays)
        expected = "expected business, 24/7 or a mapping of weekday to hours"
        section.problem("hours", f"{expected}, got {show(value)}")
        return None


class _OptionsChecker:
    """Checks a channel's ``options:`` against its adapter's declared options."""

    def __init__(self, section: Section, channel_id: str) -> None:
        self.context = section.context
        self.section = section
        self.channel_id = channel_id

    def check(self, adapter_cls: type[Adapter] | None) -> dict[str, Any]:
        options = self.section.sub("options", self.section.prefix)
        if options is None or adapter_cls is None:
            return {}
        raw = options.mapping
        declared = {option.name: option for option in adapter_cls.options}
        result: dict[str, Any] = {}
        for name, value in raw.items():
            key, line = f"options.{name}", raw.line_of(name)
            option = declared.get(name)
            if option is None:
                if declared:
                    hint = did_you_mean(name, declared) or f"; it takes {', '.join(declared)}"
                else:
                    hint = f"; the {adapter_cls.name} adapter takes no options"
                options.problem(key, f"unknown option {name[:40]!r}{hint}", line)
            elif option.secret:
                ref = self.secret(name, value, line)
                if ref is not None:
                    result[name] = ref
            elif secrets.parse_ref(value) is not None:
                message = "only secret options read ${…} references; write the value itself"
                options.problem(key, message, line)
            else:
                try:
                    result[name] = option.coerce(value)
                except OptionError as exc:
                    options.problem(key, str(exc), line)
        for option in adapter_cls.options:
            if option.name in raw:
                continue
            if option.required:
                about = f" ({option.description})" if option.description else ""
                message = f"missing; the {adapter_cls.name} adapter requires it{about}"
                options.problem(f"options.{option.name}", message, raw.line)
            else:
                result[option.name] = option.default
        return result

    def secret(self, name: str, value: object, line: int) -> SecretRef | None:
        """The reference a secret option holds. Never puts ``value`` in a message."""
        where = self.section.where(f"options.{name}")
        if isinstance(value, str) and secrets.looks_like_ref(value):
            ref = secrets.parse_ref(value)
            if ref is None:
                self.context.add(line, where, secrets.reference_problem(value) or "invalid")
                return None
            self.context.secret_lines[(self.channel_id, name)] = line
            if ref.scheme == "file" and not ref.target.startswith("~"):
                # relative to the config file's folder, like every path in it
                ref = SecretRef("file", str(self.context.base / ref.target))
            return ref
        variable = re.sub(r"[^A-Z0-9]+", "_", f"SPORTELLO_{self.channel_id}_{name}".upper())
        message = f"is a secret: write a reference such as ${{env:{variable}}}, not the value"
        self.context.add(line, where, message)
        return None


def _installed_hint(name: str) -> str:
    """What is installed (and how to see it), after a did-you-mean when one is close."""
    names = sorted(registered.name for registered in registry.available())
    hint = did_you_mean(name, names)
    installed = f"installed: {', '.join(names)}" if names else "no adapter is installed"
    return f"{hint} ({installed}; sportello adapters lists them with their options)"
