"""Finding adapters through the entry-point group ``sportello.adapters``.

Built-in adapters are registered in pyproject.toml exactly like third-party ones.
Listing names imports nothing; an adapter is imported when first asked for, and
checked (:func:`sportello_sdk.checks.declaration.declaration_problems`). A plug-in that fails
to import (whatever it raises, ``SystemExit`` included), is not an
:class:`Adapter` or declares something that cannot work is refused with an
:class:`AdapterLoadError` naming the adapter, its ``module:Class``, its
distribution and every problem — never a traceback — and the others go on.

Names are compared as packaging compares them (PEP 503: ``My_Desk``, ``my.desk``
and ``my-desk`` are one name), for adapters (``adapter: My_Desk`` in config.yaml
finds the entry point ``my-desk``) and for distributions. Two distributions that
register one adapter name are a conflict: the name is refused for both, with a
message naming both, whatever the order of ``sys.path``.

The group is read from the ``entry_points.txt`` of the distributions on
``sys.path``, the files ``importlib.metadata`` reads too: importing that module
(with the e-mail, zip and csv modules it needs) costs more at start-up than the
whole lookup. Like ``importlib.metadata``, a distribution found in two folders of
the path counts once, the first. Anything the direct read cannot see (zipped or
unusual installs) falls back to ``importlib.metadata``; a test checks that both
agree.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from sportello_sdk.base import Adapter
from sportello_sdk.errors import safe_text

GROUP = "sportello.adapters"
__all__ = [
    "GROUP",
    "AdapterLoadError",
    "Registered",
    "Surveyed",
    "available",
    "load",
    "load_all",
    "normalize",
    "survey",
]


def normalize(name: str) -> str:
    """A distribution's or an adapter's name as packaging compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


class AdapterLoadError(Exception):
    """A registered adapter cannot be used. The message names it, its distribution
    and what is wrong."""


@dataclass(frozen=True, slots=True)
class Registered:
    """One entry point of the group, as registered (nothing imported)."""

    name: str  # the entry point's name: what config.yaml's ``adapter:`` says
    target: str  # "module:Class", for messages
    distribution: str | None  # normalised (PEP 503)

    @property
    def key(self) -> str:
        return normalize(self.name)

    def origin(self) -> str:
        """``acme_desk.adapter:Desk from acme-desk``"""
        where = f"from {self.distribution}" if self.distribution else "from an unknown distribution"
        return f"{self.target} {where}"


@dataclass(frozen=True, slots=True)
class Surveyed:
    """One adapter name after loading: its class, or why it cannot be used."""

    name: str
    entries: tuple[Registered, ...]  # more than one: a conflict
    adapter: type[Adapter] | None
    problem: str | None

    @property
    def distribution(self) -> str | None:
        return self.entries[0].distribution

    @property
    def target(self) -> str:
        return self.entries[0].target


@dataclass(frozen=True, slots=True, order=True)
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


def _distribution_of(folder_name: str) -> str:
    """``my_plugin-1.0.dist-info`` → ``my-plugin``, as importlib.metadata derives it."""
    stem = folder_name.rsplit(".", 1)[0].split("-", 1)[0]
    simple = stem.lower().replace("_", "-").replace(".", "-")  # no regex: ~200 folders
    return simple if "--" not in simple else normalize(stem)


def _scan(group: str) -> list[_EntryPoint]:
    """The group's entry points from the distributions found on sys.path.

    A distribution counts once, in the first folder of the path that has it, as
    importlib.metadata does.
    """
    found: list[_EntryPoint] = []
    seen: set[str] = set()
    for folder in sys.path:
        try:  # names, not Paths: sorting a site-packages of Paths costs milliseconds
            names = sorted(  # (a version's .dist-info sorts before its .egg-info)
                name
                for name in os.listdir(folder or ".")  # noqa: PTH208 (names, see above)
                if name.endswith((".dist-info", ".egg-info"))
            )
        except OSError:
            continue
        for name in names:
            distribution = _distribution_of(name)
            if distribution in seen:
                continue
            seen.add(distribution)
            try:
                text = Path(folder or ".", name, "entry_points.txt").read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            for ep_name, value in _read_group(text, group):
                found.append(_EntryPoint(ep_name, value, distribution))
    return sorted(set(found))


def _from_metadata(group: str) -> list[_EntryPoint]:
    from importlib.metadata import entry_points

    found: set[_EntryPoint] = set()
    for ep in entry_points(group=group):
        dist = normalize(ep.dist.name) if ep.dist is not None and ep.dist.name else None
        found.add(_EntryPoint(ep.name, ep.value, dist))
    return sorted(found)


def _entry_points() -> list[_EntryPoint]:
    return _scan(GROUP) or _from_metadata(GROUP)


def _registered(ep: _EntryPoint) -> Registered:
    return Registered(name=ep.name, target=ep.value, distribution=ep.distribution)


def _by_key() -> dict[str, list[_EntryPoint]]:
    grouped: dict[str, list[_EntryPoint]] = {}
    for ep in _entry_points():
        grouped.setdefault(normalize(ep.name), []).append(ep)
    return grouped


def available() -> list[Registered]:
    """Every registered adapter entry point, without importing any of them: sorted by
    name, then distribution; a name registered twice is listed twice (see
    :func:`survey` for what is wrong with it)."""
    return [_registered(ep) for ep in _entry_points()]


# Adapters that loaded, by normalised name (tests put their own here); the failures,
# by normalised name and what was registered under it, so that a broken module is
# imported once.
_cache: dict[str, type[Adapter]] = {}
_failed: dict[tuple[str, tuple[_EntryPoint, ...]], str] = {}


def _conflict(name: str, eps: list[_EntryPoint]) -> str:
    distributions = sorted({ep.distribution or "an unknown distribution" for ep in eps})
    who = "; ".join(_registered(ep).origin() for ep in eps)
    names = sorted({ep.name for ep in eps})
    spelled = f" (as {' and '.join(repr(n) for n in names)})" if len(names) > 1 else ""
    if len(distributions) > 1:
        between = f"{len(distributions)} distributions"
    else:
        between = f"the distribution {distributions[0]} more than once"
    return (
        f"adapter {name!r} is registered by {between}{spelled}: {who}; "
        "the name is refused for all of them until only one is installed"
    )


def _where(exc: BaseException) -> str:
    """`` (at file.py:12)``: the innermost frame of the plug-in's own code."""
    frame = None
    tb = exc.__traceback__
    ours = (__file__, importlib.__file__)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.startswith("<frozen") and filename not in ours:
            frame = tb
        tb = tb.tb_next
    if frame is None:
        return ""
    return f" (at {frame.tb_frame.f_code.co_filename}:{frame.tb_lineno})"


def _import(name: str, ep: _EntryPoint) -> type[Adapter]:
    """The class an entry point names, checked; AdapterLoadError otherwise."""
    from sportello_sdk.checks.declaration import declaration_problems

    what = f"adapter {name!r} ({_registered(ep).origin()})"
    try:
        loaded = ep.load()
    except BaseException as exc:  # a broken plug-in (even sys.exit()) must not end sportello
        raise AdapterLoadError(
            f"{what} failed to import: {safe_text(exc, 300)}{_where(exc)}"
        ) from None
    try:
        problems = declaration_problems(loaded)
    except BaseException as exc:  # the checks never raise; a plug-in may still surprise
        problems = [f"cannot be checked: {safe_text(exc, 200)}"]
    if problems:
        raise AdapterLoadError(f"{what} is broken: {'; '.join(problems)}")
    assert isinstance(loaded, type) and issubclass(loaded, Adapter)
    return loaded


def load(name: str) -> type[Adapter]:
    """Import and return the adapter class registered as ``name`` (compared as
    packaging compares names). :class:`AdapterLoadError` when none is, when two
    are, or when it cannot be used."""
    key = normalize(name)
    if key in _cache:
        return _cache[key]
    eps = _by_key().get(key)
    if not eps:
        raise AdapterLoadError(f"no adapter named {name!r} is installed")
    failed_key = (key, tuple(eps))
    if failed_key in _failed:
        raise AdapterLoadError(_failed[failed_key])
    try:
        if len(eps) > 1:
            raise AdapterLoadError(_conflict(eps[0].name, eps))
        cls = _import(eps[0].name, eps[0])
    except AdapterLoadError as exc:
        _failed[failed_key] = str(exc)
        raise
    _cache[key] = cls
    return cls


def survey() -> list[Surveyed]:
    """Every registered adapter name, loaded and checked: its class or its problem.
    Sorted by name; imports every plug-in (for ``sportello adapters``)."""
    results: list[Surveyed] = []
    for key, eps in sorted(_by_key().items()):
        entries = tuple(_registered(ep) for ep in eps)
        try:
            cls = load(key)
        except AdapterLoadError as exc:
            results.append(Surveyed(eps[0].name, entries, None, str(exc)))
        else:
            results.append(Surveyed(eps[0].name, entries, cls, None))
    return results


def load_all() -> tuple[dict[str, type[Adapter]], list[str]]:
    """Every adapter that loads, by entry-point name, and one message per name that
    cannot be used."""
    loaded: dict[str, type[Adapter]] = {}
    problems: list[str] = []
    for surveyed in survey():
        if surveyed.adapter is not None:
            loaded[surveyed.name] = surveyed.adapter
        elif surveyed.problem is not None:
            problems.append(surveyed.problem)
    return loaded, problems
