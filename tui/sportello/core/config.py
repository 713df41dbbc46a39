"""config.yaml → :class:`~sportello.core.settings.Config`, with every problem at once.

The file is read as YAML without any Python tags and with bounded aliases
(:mod:`sportello.core.yaml_lines`), then checked key by key. Every problem names the
file, the line, the channel and the field, and nothing is given up at the first
one: ``ConfigError.problems`` lists them all. Secret options hold only
references (:mod:`sportello.core.secrets`); they are resolved when an adapter is built,
or by :func:`check_config` to tell whether they can be.

Top-level keys: ``business`` (required), ``store``, ``dashboard``, ``keys``,
``team`` (see :mod:`sportello.core.team_config`), ``read_only``, ``channels``
(required; see :mod:`sportello.core.channel_config`).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import platformdirs

from sportello.core import keymap, secrets
from sportello.core.channel_config import check_channels
from sportello.core.config_fields import (
    MISSING,
    AdapterLoader,
    ConfigError,
    Context,
    Problem,
    Section,
    show,
)
from sportello.core.hours_config import parse_holidays, parse_weekly
from sportello.core.settings import Business, Config, Dashboard, GapThreshold, OpenHours, SecretRef
from sportello.core.team_config import check_team
from sportello.core.yaml_lines import LineList, LineMap, YamlError, did_you_mean, parse_yaml
from sportello_sdk import registry
from sportello_sdk.options import BareNumber, OptionError, kind_of, parse_duration

__all__ = [
    "AdapterLoader",
    "ConfigError",
    "Problem",
    "check_config",
    "find_config",
    "load_config",
]

APP_NAME = "sportello"
CONFIG_ENV = "SPORTELLO_CONFIG"
CONFIG_NAME = "config.yaml"
DEFAULT_TIMEZONE = "Europe/Rome"
DEFAULT_RETENTION_DAYS = 365
MAX_FILE_BYTES = 1024 * 1024

TOP_KEYS = ("business", "store", "dashboard", "keys", "team", "read_only", "channels")
BUSINESS_KEYS = ("name", "timezone", "hours", "holidays")
STORE_KEYS = ("path", "retention_days")
DASHBOARD_KEYS = ("gap_warn", "gap_critical", "mask_personal_data")


def load_config(path: Path, *, adapter_loader: AdapterLoader = registry.load) -> Config:
    """Read and check ``path``; raise ``ConfigError`` listing every problem.

    ``adapter_loader`` turns an adapter name into its class (tests pass their own).
    """
    config, context = _load(path, adapter_loader)
    if config is None:
        raise ConfigError(context.problems)
    return config


def check_config(
    path: Path,
    *,
    adapter_loader: AdapterLoader = registry.load,
    env: Mapping[str, str] | None = None,
) -> list[Problem]:
    """Every problem of ``path``, including secret references that cannot be resolved.

    Secrets are resolved (``env`` defaults to ``os.environ``) and thrown away at
    once; messages name the reference, never the secret.
    """
    config, context = _load(path, adapter_loader)
    if config is None:
        return context.problems
    problems: list[Problem] = []
    for channel in config.channels:
        for name, value in channel.options.items():
            if not isinstance(value, SecretRef):
                continue
            try:
                secrets.resolve(value, env)
            except secrets.SecretError as exc:
                line = context.secret_lines.get((channel.id, name), channel.line)
                where = f"channel {channel.id!r} · options.{name}"
                problems.append(Problem(path, line, where, f"cannot resolve {exc}"))
    return problems


def find_config(
    explicit: Path | None,
    env: Mapping[str, str] = os.environ,
    cwd: Path | None = None,
    *,
    user_dir: Path | None = None,
    given_as: str = "given with --config",
) -> Path:
    """The config to use: ``--config``, ``$SPORTELLO_CONFIG``, ``./config.yaml``, user dir.

    A file named explicitly (by the option or the variable) must exist: there is
    no falling back to another one. Relative paths are taken from ``cwd`` (the
    process's working folder when ``None``); ``user_dir`` defaults to the
    platform's config folder for "sportello" (``~/.config/sportello`` on Linux).
    ``given_as`` says how ``explicit`` was given, for the message when it is missing.
    """

    def place(path: Path) -> Path:
        path = path.expanduser()
        return path if cwd is None or path.is_absolute() else cwd / path

    named = env.get(CONFIG_ENV, "").strip()
    given: Path | None = None
    if explicit is not None:
        given, how = explicit, given_as
    elif named:
        given, how = Path(named), f"named by ${CONFIG_ENV}"
    if given is not None:
        if not place(given).exists():
            raise ConfigError([Problem(given, None, "", f"no such file ({how})")])
        return place(given)
    if user_dir is None:
        user_dir = platformdirs.user_config_path(APP_NAME)
    candidates = [place(Path(CONFIG_NAME)), user_dir / CONFIG_NAME]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    looked = " and ".join(str(candidate) for candidate in candidates)
    message = (
        f"no config file found: no --config, no ${CONFIG_ENV}, nothing at {looked}; "
        "copy the shipped config.yaml to one of these places or pass --config PATH"
    )
    raise ConfigError([Problem(None, None, "", message)])


def _load(path: Path, adapter_loader: AdapterLoader) -> tuple[Config | None, Context]:
    context = Context(path, adapter_loader)
    try:
        document, issues = parse_yaml(_read(path))
    except YamlError as exc:
        context.add(exc.line, "", exc.message)
        return None, context
    for issue in issues:
        context.add(issue.line, "", issue.message)
    config = _check_document(context, document)
    context.problems.sort(key=lambda problem: problem.line or 0)
    return (config if not context.problems else None), context


def _read(path: Path) -> bytes:
    """The file's bytes; ``YamlError`` (without a line) when it cannot be read."""
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise YamlError("is a folder, not a config file")
        if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
            raise YamlError("is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise YamlError(f"is too large for a config file ({info.st_size} bytes)")
        with path.open("rb") as stream:
            return stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise YamlError("no such file") from None
    except PermissionError:
        raise YamlError("cannot read the file: permission denied") from None
    except OSError as exc:
        raise YamlError(f"cannot read the file: {exc.strerror or type(exc).__name__}") from None


def _check_document(context: Context, document: object) -> Config | None:
    if document is None:
        context.add(None, "", "the file is empty; it needs at least business: and channels:")
        return None
    if not isinstance(document, LineMap):
        line = document.line if isinstance(document, LineList) else 1
        got = kind_of(document)
        context.add(line, "", f"expected a mapping with business:, channels: …, got {got}")
        return None
    top = Section(context, document, "")
    top.only(TOP_KEYS)
    business = _business(top)
    store = _store(top)
    dashboard = _dashboard(top)
    keys = _keys(top)
    team = check_team(top)
    read_only = top.boolean("read_only", False)
    channels = check_channels(top, business)
    if context.problems or business is None or store is None or dashboard is None:
        return None
    store_path, retention_days = store
    return Config(
        business=business,
        channels=tuple(channels),
        store_path=store_path,
        retention_days=retention_days,
        dashboard=dashboard,
        keys=keys,
        source=context.path,
        team=team,
        read_only=read_only,
    )


def _business(top: Section) -> Business | None:
    section = top.sub("business", "business", required=True)
    if section is None:
        return None
    section.only(BUSINESS_KEYS)
    mapping = section.mapping
    name = section.text("name")
    timezone = _timezone(section)
    holidays = parse_holidays(
        mapping.get("holidays"),
        mapping.line_of("holidays"),
        section.where("holidays"),
        top.context.add,
    )
    weekly = None
    if "hours" not in mapping:
        section.problem(
            "hours", "missing (required), such as mon: [09:00-13:00, 15:30-19:30]", mapping.line
        )
    else:
        line = mapping.line_of("hours")
        weekly = parse_weekly(mapping["hours"], line, section.where("hours"), top.context.add)
    if name is None or timezone is None or weekly is None:
        return None
    hours = OpenHours(weekly=weekly, timezone=timezone, holidays=holidays)
    return Business(name=name, timezone=timezone, hours=hours, holidays=holidays)


def _timezone(section: Section) -> ZoneInfo | None:
    name = section.text("timezone", DEFAULT_TIMEZONE)
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        hint = did_you_mean(name, available_timezones()) or ", such as Europe/Rome"
        section.problem("timezone", f"unknown time zone {name[:60]!r}{hint}")
        return None


def _store(top: Section) -> tuple[Path, int] | None:
    section = top.sub("store", "store")
    if section is None:
        return None
    section.only(STORE_KEYS)
    retention_days = section.integer("retention_days", DEFAULT_RETENTION_DAYS, minimum=1)
    path = section.text("path", "")
    if path is None:
        return None
    if not path:
        store = default_store_path(top.context.path)
        line = section.mapping.line if "store" in top.mapping else None
    else:
        store = top.context.base / Path(path).expanduser()
        line = section.mapping.line_of("path")
    problem = store_path_problem(store)
    if problem is not None:
        where = section.where("path") if path else "store (default path)"
        top.context.add(line, where, problem)
    return store, retention_days


def default_store_path(config_path: Path) -> Path:
    """The store a config uses when it names none: its own, in the user data folder.

    Named from the config file's name and a short hash of its absolute path
    (``config-3f9a12c4.db``), so that two configs never share a store (and its
    collector lock) unless both name the same ``store.path``.
    """
    absolute = config_path.expanduser().resolve()
    digest = hashlib.sha256(str(absolute).encode("utf-8", "surrogateescape")).hexdigest()[:8]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", absolute.stem).strip(".-")[:40] or "config"
    return platformdirs.user_data_path(APP_NAME) / f"{stem}-{digest}.db"


def store_path_problem(path: Path) -> str | None:
    """Why the store cannot live at ``path`` (a folder, an unwritable place), or ``None``."""
    try:
        if path.exists() or path.is_symlink():
            if path.is_dir():
                example = path / "sportello.db"
                return f"{path} is a folder; name the database file in it, such as {example}"
            if not path.is_file():
                return f"{path} is not a regular file"
            if not os.access(path, os.R_OK | os.W_OK):
                return f"{path} cannot be written: permission denied"
            return None
        parent = path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            return f"{path} cannot be created: {parent} is a file, not a folder"
        if not os.access(parent, os.W_OK | os.X_OK):
            return f"{path} cannot be created: no permission to write in {parent}"
    except OSError as exc:
        return f"{path} cannot be used: {exc.strerror or type(exc).__name__}"
    return None


def _dashboard(top: Section) -> Dashboard | None:
    section = top.sub("dashboard", "dashboard")
    if section is None:
        return None
    section.only(DASHBOARD_KEYS)
    defaults = Dashboard()
    warn = _threshold(section, "gap_warn", defaults.gap_warn)
    critical = _threshold(section, "gap_critical", defaults.gap_critical)
    for kind in ("seconds", "fraction"):
        low, high = getattr(warn, kind), getattr(critical, kind)
        if low is not None and high is not None and low > high:
            section.problem("gap_warn", "must not be larger than gap_critical")
    mask = section.boolean("mask_personal_data", defaults.mask_personal_data)
    return Dashboard(gap_warn=warn, gap_critical=critical, mask_personal_data=mask)


def _threshold(section: Section, key: str, default: GapThreshold) -> GapThreshold:
    """A gap level: a duration (``30m``) or a share of the expectation (``50%``)."""
    value = section.mapping.get(key, MISSING)
    if value is MISSING:
        return default
    expected = "expected a duration such as 30m or a share of the expectation such as 50%"
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            percent = float(value.strip()[:-1])
        except ValueError:
            percent = -1.0
        if not 0 <= percent <= 10_000:
            section.problem(key, f"{expected}, got {show(value)}")
            return default
        return GapThreshold(fraction=percent / 100)
    try:
        return GapThreshold(seconds=parse_duration(value).total_seconds())
    except BareNumber as exc:
        section.problem(key, f"{exc}, or a share of the expectation such as 50%")
        return default
    except OptionError:
        section.problem(key, f"{expected}, got {show(value)}")
        return default


def _keys(top: Section) -> dict[str, str]:
    """``keys:``: binding id → comma-separated keys; unknown ids and clashes refused."""
    section = top.sub("keys", "keys")
    if section is None:
        return {}
    keys: dict[str, str] = {}
    for binding, key in section.mapping.items():
        if binding not in keymap.BY_ID:
            hint = did_you_mean(binding, keymap.BY_ID) or "; press ? in the dashboard for the ids"
            section.problem(binding, f"unknown key id {binding[:40]!r}{hint}")
        elif not isinstance(key, str) or not key.strip():
            got = "nothing" if isinstance(key, str) else kind_of(key)
            section.problem(binding, f"expected a key such as ctrl+r, got {got}")
        else:
            keys[binding] = key.strip()
    for conflict in keymap.key_conflicts(keys):
        # placed at the binding the user wrote (the later one when both are written)
        line_of = section.mapping.line_of
        first, second = conflict.first, conflict.second
        if second not in keys or (first in keys and line_of(first) > line_of(second)):
            first, second = second, first
        if first in keys:
            other = f"{first} (line {line_of(first)})"
        else:
            other = f"{first}, which has it by default"
        message = (
            f"{conflict.key!r} is also {other}, and both are active at the same time; "
            "choose another key"
        )
        section.problem(second, message)
    return keys
