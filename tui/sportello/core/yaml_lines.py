"""Reading YAML safely while keeping the line of every key and list item.

``yaml.safe_load`` forgets where things were written. Here a ``SafeLoader``
subclass composes the node tree (bounded: size, nesting depth, alias count) and
a builder turns it into plain values, with :class:`LineMap` and
:class:`LineList` remembering lines. Only the standard YAML types are built:
any other tag (``!!python/object``, ``!!set``, ``!custom``…) is refused, and
alias expansion is bounded, so a billion-laughs document stops quickly.
Duplicate keys are reported instead of silently keeping the last one. Merge
keys (``<<: *defaults``) work.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 40  # nesting of mappings and lists
MAX_ALIASES = 100  # uses of *anchor in one document
MAX_VALUES = 20_000  # values once aliases are expanded

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(
    _STD + name for name in ("null", "bool", "int", "float", "str", "timestamp")
)
_MERGE = _STD + "merge"


class YamlError(Exception):
    """The document cannot be read at all. ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem in a document that could still be read (a duplicate key)."""

    line: int
    message: str


class LineMap(dict[str, Any]):
    """A YAML mapping: a dict with the line where it starts and where each key is."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A YAML sequence: a list with the line where it starts and where each item is."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` — did you mean 'x'?`` when a choice is close to ``word`` (any case), else ``''``."""
    by_lower = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" — did you mean {by_lower[close[0]]!r}?" if close else ""


def parse_yaml(data: bytes) -> tuple[Any, list[Issue]]:
    """Read one YAML document from ``data``.

    Returns the value (``None`` for an empty document) and the issues found
    along the way; raises ``YamlError`` when the document cannot be read.
    """
    if len(data) > MAX_BYTES:
        raise YamlError(f"the file is too large for a config ({len(data)} bytes)")
    text = _decode(data)
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            return None, []
        builder = _Builder(loader)
        return builder.build(node, 0), builder.issues
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise YamlError(
            f"the file contains the control character U+{exc.character:04X}, "
            "which YAML does not allow",
            line,
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error is one of the above
        raise YamlError(f"cannot read the file as YAML: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YamlError("the file is UTF-16 text; save it as UTF-8", 1)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise YamlError(
            f"the file is not valid UTF-8 text (byte 0x{bad}); save it as UTF-8", line
        ) from None


def _syntax_error(exc: yaml.MarkedYAMLError) -> YamlError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    context = exc.context
    if context and exc.context_mark is not None and exc.context_mark.line + 1 != line:
        context = f"{context} (line {exc.context_mark.line + 1})"
    parts = [part for part in (context, exc.problem) if part]
    message = ", ".join(parts) or "invalid YAML"
    if "'\\t'" in message:
        message += " (indent with spaces, not tabs)"
    return YamlError(f"YAML syntax error: {message}", line)


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_STD) :] if tag.startswith(_STD) else tag


class _Loader(yaml.SafeLoader):
    """A safe loader that refuses deep nesting and many aliases while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise YamlError(
                    f"too many aliases (more than {MAX_ALIASES} uses of *anchor)",
                    event.start_mark.line + 1,
                )
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise YamlError(
                    f"nested too deeply (more than {MAX_DEPTH} levels)",
                    event.start_mark.line + 1,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Builder:
    """Turns composed nodes into values, counting every value alias expansion makes."""

    def __init__(self, loader: _Loader) -> None:
        self.loader = loader
        self.values = 0
        self.open: set[int] = set()  # collections being built: a cycle means a recursive alias
        self.issues: list[Issue] = []

    def build(self, node: Node, depth: int) -> Any:
        self.values += 1
        if self.values > MAX_VALUES or depth > MAX_DEPTH:
            raise YamlError(
                "the document is too large once its aliases are expanded "
                f"(more than {MAX_VALUES} values or {MAX_DEPTH} levels)",
                _line(node),
            )
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if id(node) in self.open:
            raise YamlError("an alias refers to a value that contains it", _line(node))
        self.open.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self.mapping(node, depth)
            if isinstance(node, SequenceNode):
                return self.sequence(node, depth)
            raise YamlError("unexpected YAML node", _line(node))  # pragma: no cover
        finally:
            self.open.discard(id(node))

    def scalar(self, node: ScalarNode) -> Any:
        if node.tag not in _SCALAR_TAGS:
            raise YamlError(f"the tag {_show_tag(node.tag)} is not allowed", _line(node))
        try:
            return self.loader.construct_object(node, deep=True)
        except Exception:  # 2025-02-30 looks like a date but is none: keep the text
            return str(node.value)

    def sequence(self, node: SequenceNode, depth: int) -> LineList:
        if node.tag != _STD + "seq":
            raise YamlError(f"the tag {_show_tag(node.tag)} is not allowed", _line(node))
        result = LineList(_line(node))
        for item in node.value:
            result.append(self.build(item, depth + 1))
            result.item_lines.append(_line(item))
        return result

    def mapping(self, node: MappingNode, depth: int) -> LineMap:
        if node.tag != _STD + "map":
            raise YamlError(f"the tag {_show_tag(node.tag)} is not allowed", _line(node))
        result = LineMap(_line(node))
        merged: list[tuple[str, int, Any]] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == _MERGE:
                merged.extend(self.merge(value_node, depth))
                continue
            key = self.key(key_node)
            if key in result.key_lines:
                self.issues.append(
                    Issue(
                        _line(key_node),
                        f"duplicate key {key[:40]!r} (first at line {result.key_lines[key]})",
                    )
                )
                continue
            result[key] = self.build(value_node, depth + 1)
            result.key_lines[key] = _line(key_node)
        for key, line, value in merged:
            if key not in result:
                result[key] = value
                result.key_lines[key] = line
        return result

    def merge(self, node: Node, depth: int) -> list[tuple[str, int, Any]]:
        """The entries a ``<<:`` key brings in, earlier mappings first."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        entries: list[tuple[str, int, Any]] = []
        for source in sources:
            if not isinstance(source, MappingNode):
                raise YamlError("<< must be followed by a mapping or a list of them", _line(node))
            built = self.build(source, depth + 1)
            entries.extend((key, built.line_of(key), value) for key, value in built.items())
        return entries

    def key(self, node: Node) -> str:
        if not isinstance(node, ScalarNode):
            raise YamlError("a key must be plain text, not a list or a mapping", _line(node))
        if node.tag not in _SCALAR_TAGS:
            raise YamlError(f"the tag {_show_tag(node.tag)} is not allowed", _line(node))
        self.values += 1
        return str(node.value)
