"""The demo adapter's durable record: every action it accepted, one JSON line each.

A demo channel is a simulation, but what it accepted must outlive the process:
after a crash or a restart the replied, closed, snoozed and assigned
conversations look as they did, ``lookup()`` can still tell whether an action
with a given key arrived, and a test can count the deliveries of each key
(:func:`deliveries_by_key`) to prove that nothing was sent twice.

One line per accepted action, appended before ``act()`` answers::

    {"key": "…", "kind": "reply", "conversation": "em-2898-3", "at": 1741687200.0,
     "text": "…", "message_id": "em-2898-3/r1"}

``kind`` is ``reply`` (with ``text`` and ``message_id``), ``close``, ``assign``
(``assignee``), ``snooze`` (``until``: Unix seconds, or ``null`` for "until the
customer writes again") or ``reopen``; ``at`` is when the channel accepted it, in
Unix seconds. A line of kind ``elsewhere`` (written by :func:`answer_elsewhere`)
says that someone answered the conversation from another tool: ``text``,
``author_name`` and ``message_id`` of that business message.

Each line is written with one ``os.write`` on a descriptor opened with
``O_APPEND`` (under an advisory ``flock``) and then fsynced, so that writers in
several processes never interleave and a line read back was on disk. A reader
takes only whole lines: one still being written is read the next time. A crash
mid-write can leave a torn last line: readers skip it (and any line that is not a
JSON object), and the next writer starts its line on a new one, so the fragment
never joins a good line.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from hashlib import blake2b
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # not on POSIX: O_APPEND alone keeps lines whole
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "ACTION_KINDS",
    "ELSEWHERE",
    "RecordTail",
    "answer_elsewhere",
    "append_entry",
    "deliveries_by_key",
    "read_record",
    "record_path",
    "state_home",
]

ACTION_KINDS = frozenset({"reply", "close", "assign", "snooze", "reopen"})
ELSEWHERE = "elsewhere"

_SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")

# (device, inode) of a record file: a new file at the same path starts over.
Identity = tuple[int, int]


def state_home() -> Path:
    """``$XDG_STATE_HOME``, or ``~/.local/state`` when it is unset or not absolute."""
    value = os.environ.get("XDG_STATE_HOME", "")
    if value and Path(value).is_absolute():
        return Path(value)
    return Path.home() / ".local" / "state"


def record_path(channel_id: str, option_value: str) -> Path:
    """The record of one demo channel: the ``record`` option when set, else
    ``<state home>/sportello/demo/<channel_id>.jsonl``. A channel id that is not
    a plain file name is named by a hash of it instead."""
    if option_value:
        return Path(option_value).expanduser()
    if _SAFE_NAME.fullmatch(channel_id):
        name = channel_id
    else:
        name = "channel-" + blake2b(channel_id.encode(), digest_size=8).hexdigest()
    return state_home() / "sportello" / "demo" / f"{name}.jsonl"


# --------------------------------------------------------------------------- writing


def append_entry(path: Path, entry: Mapping[str, Any]) -> None:
    """Append one line and fsync it. Blocking: run it off the event loop.

    Missing folders are made 0700, a new file 0600. Raises ``OSError``.
    """
    line = json.dumps(dict(entry), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    data = (line + "\n").encode("utf-8")
    created = _make_folders(path.parent)
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    try:
        if fcntl is not None:  # writers take turns, so the check below sees whole lines
            fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size == 0:
            created = True
        elif os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # a torn line left by a crash stays a line of its own
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(f"short write to {path} ({written} of {len(data)} bytes)")
        os.fsync(fd)
    finally:
        os.close(fd)  # and the lock with it
    if created:
        _fsync_folder(path.parent)  # the new file's name is durable too


def _make_folders(folder: Path) -> bool:
    """Make the missing folders of ``folder``, each 0700; whether any was made."""
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for each in reversed(missing):
        with contextlib.suppress(FileExistsError):
            each.mkdir(0o700)
    return bool(missing)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):  # some file systems cannot fsync a folder
            os.fsync(fd)
    finally:
        os.close(fd)


def answer_elsewhere(
    path: Path | str,
    conversation_external_id: str,
    text: str,
    author_name: str,
    at: datetime | float,
) -> str:
    """Record that someone answered the conversation from another tool; the demo
    channel then shows that business message in ``fetch()`` and ``recheck()``.
    Returns the message's id."""
    stamp = at.timestamp() if isinstance(at, datetime) else float(at)
    token = uuid.uuid4().hex[:12]
    message_id = f"{conversation_external_id}/e-{token}"
    append_entry(
        Path(path),
        {
            "key": f"elsewhere-{token}",
            "kind": ELSEWHERE,
            "conversation": conversation_external_id,
            "at": stamp,
            "text": text,
            "author_name": author_name,
            "message_id": message_id,
        },
    )
    return message_id


# --------------------------------------------------------------------------- reading


def read_record(path: Path | str) -> list[dict[str, Any]]:
    """Every whole line of the record, oldest first; ``[]`` when there is none.

    A torn last line (a crash mid-write) and any line that is not a JSON object
    are skipped.
    """
    entries, _, _, _ = _read_from(Path(path), 0)
    return entries


def deliveries_by_key(path: Path | str) -> collections.Counter[str]:
    """How many times the record accepted each idempotency key (actions only)."""
    counts: collections.Counter[str] = collections.Counter()
    for entry in read_record(path):
        key = entry.get("key")
        if entry.get("kind") in ACTION_KINDS and isinstance(key, str):
            counts[key] += 1
    return counts


def _read_from(path: Path, offset: int) -> tuple[list[dict[str, Any]], int, Identity | None, int]:
    """The whole lines after ``offset``, the offset after the last of them, the
    file's identity (``None`` when there is no file) and its size."""
    try:
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            if stat.st_size < offset:
                return [], offset, (stat.st_dev, stat.st_ino), stat.st_size
            handle.seek(offset)
            data = handle.read()
    except (FileNotFoundError, NotADirectoryError):
        return [], 0, None, 0
    end = data.rfind(b"\n") + 1  # a last line without its newline is torn (or still coming)
    entries = []
    for raw in data[:end].splitlines():
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except ValueError:  # a fragment a crash left, followed by a newline
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries, offset + end, (stat.st_dev, stat.st_ino), offset + len(data)


class RecordTail:
    """Reads a record incrementally: each call returns only the lines added since.

    The file may grow under other writers (another process on the same channel, a
    test's :func:`answer_elsewhere`). A file replaced or cut shorter starts over:
    ``read_new`` then says so, and the reader forgets what it had applied.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._identity: Identity | None = None

    def unchanged(self) -> bool:
        """True when nothing was added since the last read (one ``stat``, cheap)."""
        try:
            stat = self.path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return self._identity is None
        except OSError:
            return False
        identity = (stat.st_dev, stat.st_ino)
        return identity == self._identity and stat.st_size == self._offset

    def read_new(self) -> tuple[bool, list[dict[str, Any]]]:
        """(whether to start over, the new entries). Blocking."""
        entries, offset, identity, size = _read_from(self.path, self._offset)
        known = self._identity
        restart = (known is not None and identity != known) or size < self._offset
        if restart:
            entries, offset, identity, _ = _read_from(self.path, 0)
        self._offset, self._identity = offset, identity
        return restart, entries

    def append(self, entry: Mapping[str, Any]) -> tuple[bool, list[dict[str, Any]]]:
        """Append ``entry`` (fsynced), then read what is new, it included. Blocking."""
        append_entry(self.path, entry)
        return self.read_new()
