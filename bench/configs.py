"""Configurations the benchmarks run sportello on, made from the shipped config.yaml.

The shipped file is the template: its business (and anything else) is kept, the
store is moved to a temporary folder and, for the scale and idle benchmarks, the
channels are replaced by demo channels. A demo channel is written in the shape
the template's own demo channel uses (options nested under ``options:`` or
inline), so the benchmarks follow the config format as it is.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = REPO_ROOT / "config.yaml"
DEMO_PROFILES = ("email", "chat", "phone", "facebook", "telegram")


class ConfigProblem(Exception):
    """The template cannot be used; the message says why."""


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigProblem(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigProblem(f"{path} is not a mapping at the top level")
    return data


def write_yaml(data: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def business_name(config: dict[str, Any]) -> str:
    business = config.get("business")
    name = business.get("name") if isinstance(business, dict) else None
    if isinstance(name, str):
        return name
    raise ConfigProblem("the config has no business.name")


def with_store(config: dict[str, Any], store_path: Path) -> dict[str, Any]:
    """A copy of ``config`` whose store is at ``store_path``."""
    data = copy.deepcopy(config)
    store = data.get("store")
    data["store"] = {**(store if isinstance(store, dict) else {}), "path": str(store_path)}
    return data


def channel_entries(config: dict[str, Any]) -> list[dict[str, Any]]:
    channels = config.get("channels")
    if isinstance(channels, list):
        return [c for c in channels if isinstance(c, dict)]
    if isinstance(channels, dict):
        return [{"id": k, **v} for k, v in channels.items() if isinstance(v, dict)]
    return []


def _options_nested(config: dict[str, Any]) -> bool:
    """Whether the template puts a demo channel's options under ``options:``."""
    for channel in channel_entries(config):
        if channel.get("adapter") == "demo":
            if isinstance(channel.get("options"), dict):
                return True
            if "profile" in channel or "seed" in channel:
                return False
    return True


def demo_channels(
    count: int,
    *,
    nested: bool = True,
    scale: int | None = None,
    rate: float | None = None,
    poll_interval: str | None = None,
) -> list[dict[str, Any]]:
    """``count`` demo channels, profiles cycled, each with its own seed."""
    channels: list[dict[str, Any]] = []
    for index in range(count):
        profile = DEMO_PROFILES[index % len(DEMO_PROFILES)]
        options: dict[str, Any] = {"profile": profile, "seed": index + 1}
        if scale is not None:
            options["scale"] = scale
        if rate is not None:
            options["rate"] = rate
        channel: dict[str, Any] = {
            "id": f"{profile}-{index + 1:02d}",
            "label": f"{profile.title()} {index + 1}",
            "adapter": "demo",
        }
        if poll_interval is not None:
            channel["poll_interval"] = poll_interval
        if nested:
            channel["options"] = options
        else:
            channel.update(options)
        channels.append(channel)
    return channels


def demo_config(
    template: dict[str, Any],
    store_path: Path,
    count: int,
    *,
    scale: int | None = None,
    rate: float | None = None,
    poll_interval: str | None = None,
) -> dict[str, Any]:
    """The template with its store at ``store_path`` and ``count`` demo channels."""
    data = with_store(template, store_path)
    channels = demo_channels(
        count,
        nested=_options_nested(template),
        scale=scale,
        rate=rate,
        poll_interval=poll_interval,
    )
    if isinstance(template.get("channels"), dict):
        data["channels"] = {c.pop("id"): c for c in channels}
    else:
        data["channels"] = channels
    return data


def shipped_template() -> dict[str, Any]:
    if not SHIPPED_CONFIG.exists():
        raise ConfigProblem(f"{SHIPPED_CONFIG} does not exist yet")
    data = load_yaml(SHIPPED_CONFIG)
    business_name(data)
    return data


def live_scale_config(
    template: dict[str, Any],
    store_path: Path,
    count: int,
    *,
    scale: int,
    poll_interval: str,
    timeout: str | None = None,
) -> dict[str, Any]:
    """``count`` demo channels of ``scale`` conversations each, polled every
    ``poll_interval`` (bench/scale_live.py), each poll allowed ``timeout`` if given."""
    data = demo_config(
        template, store_path, count, scale=scale, rate=0, poll_interval=poll_interval
    )
    if timeout is not None:
        channels = data["channels"]
        for channel in channels.values() if isinstance(channels, dict) else channels:
            channel["timeout"] = timeout
    return data
