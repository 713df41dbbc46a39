"""Finding adapters through the entry-point group ``sportello.adapters``.

Built-in adapters are registered in pyproject.toml exactly like third-party ones.
Listing names imports nothing; an adapter is imported when first asked for, and a
plug-in that fails to import or is not an :class:`Adapter` is reported, not fatal.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from adapters.base import Adapter

GROUP = "sportello.adapters"


class AdapterLoadError(Exception):
    """A registered adapter could not be loaded. The message names it."""


@dataclass(frozen=True, slots=True)
class Registered:
    name: str
    target: str  # "module:Class", for messages
    distribution: str | None


def _entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    return found


def available() -> list[Registered]:
    """Every registered adapter name, without importing any of them."""
    return [
        Registered(
            name=name,
            target=ep.value,
            distribution=ep.dist.name if ep.dist is not None else None,
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
