"""Finding adapters through the entry-point group ``sportello.adapters``.

Built-in adapters are registered in pyproject.toml exactly like third-party ones.
Listing names imports nothing; an adapter is imported when first asked for, and a
plug-in that fails to import or is not an :class:`Adapter` is reported, not fatal.

The group is read from the ``entry_points.txt`` of the distributions on
``sys.path``, the files ``importlib.metadata`` reads too: importing that module
(with the e-mail, zip and csv modules it needs) costs more at start-up than the
whole lookup. Anything the direct read cannot see (zipped or unusual installs)
falls back to ``importlib.metadata``; a test checks that both agree.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from sportello_sdk.base import Adapter

GROUP = "sportello.adapters"


class AdapterLoadError(Exception):
    """A registered adapter could not be loaded. The message names it."""


@dataclass(frozen=True, slots=True)
class Registered:
    name: str
    target: str  # "module:Class", for messages
    distribution: str | None


@dataclass(frozen=True, slots=True)
class _EntryPoint:
    name: str
    value: str  # "module:attribute"
    distribution: str | None

    def load(self) -> object:
        module_name, _, attributes = self.value.partition(":")
        target: object = importlib.import_module(module_name.strip())
        for attribute in filter(None, attributes.strip().split(".")):
            target = getattr(target, attribute)
        return target


def _read_group(text: str, group: str) -> list[tuple[str, str]]:
    """(name, value) pairs of one ``[group]`` of an entry_points.txt."""
    pairs: list[tuple[str, str]] = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            inside = line[1:-1].strip() == group
        elif inside and "=" in line:
            name, _, value = line.partition("=")
            pairs.append((name.strip(), value.strip()))
    return pairs


def _scan(group: str) -> dict[str, _EntryPoint]:
    """The group's entry points from the distributions found on sys.path, first wins."""
    found: dict[str, _EntryPoint] = {}
    for folder in sys.path:
        try:  # names, not Paths: sorting a site-packages of Paths costs milliseconds
            names = sorted(
                name
                for name in os.listdir(folder or ".")  # noqa: PTH208 (names, see above)
                if name.endswith((".dist-info", ".egg-info"))
            )
        except OSError:
            continue
        for name in names:
            try:
                text = Path(folder or ".", name, "entry_points.txt").read_text(encoding="utf-8")
            except OSError:
                continue
            distribution = name.rsplit(".", 1)[0].split("-", 1)[0]
            for ep_name, value in _read_group(text, group):
                found.setdefault(ep_name, _EntryPoint(ep_name, value, distribution))
    return found


def _from_metadata(group: str) -> dict[str, _EntryPoint]:
    from importlib.metadata import entry_points

    found: dict[str, _EntryPoint] = {}
    for ep in entry_points(group=group):
        dist = ep.dist.name if ep.dist is not None else None
        found.setdefault(ep.name, _EntryPoint(ep.name, ep.value, dist))
    return found


def _entry_points() -> dict[str, _EntryPoint]:
    return _scan(GROUP) or _from_metadata(GROUP)


def available() -> list[Registered]:
    """Every registered adapter name, without importing any of them."""
    return [
        Registered(
            name=name,
            target=ep.value,
            distribution=ep.distribution,
        )
        for name, ep in sorted(_entry_points().items())
    ]


_cache: dict[str, type[Adapter]] = {}


def load(name: str) -> type[Adapter]:
    """Import and return the adapter class registered as ``name``."""
    if name in _cache:
        return _cache[name]
    ep = _entry_points().get(name)
    if ep is None:
        raise AdapterLoadError(f"no adapter named {name!r} is installed")
    try:
        cls = ep.load()
    except Exception as exc:  # a broken plug-in must not take the program down
        raise AdapterLoadError(
            f"adapter {name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}"
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise AdapterLoadError(f"adapter {name!r} ({ep.value}) is not an Adapter subclass")
    _cache[name] = cls
    return cls


def load_all() -> tuple[dict[str, type[Adapter]], list[str]]:
    """Every adapter that loads, and one message per adapter that does not."""
    loaded: dict[str, type[Adapter]] = {}
    problems: list[str] = []
    for registered in available():
        try:
            loaded[registered.name] = load(registered.name)
        except AdapterLoadError as exc:
            problems.append(str(exc))
    return loaded, problems
