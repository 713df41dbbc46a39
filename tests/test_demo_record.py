"""The demo adapter's durable record: one fsynced JSON line per accepted action."""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sportello_demo.record import (
    RecordTail,
    answer_elsewhere,
    append_entry,
    deliveries_by_key,
    read_record,
    record_path,
)


def entry(
    key: str, kind: str = "close", conversation: str = "em-1-0", **more: Any
) -> dict[str, Any]:
    return {"key": key, "kind": kind, "conversation": conversation, "at": 1741687200.5, **more}


# --------------------------------------------------------------------------- where


def test_the_default_record_is_under_xdg_state_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert record_path("email", "") == tmp_path / "state" / "sportello" / "demo" / "email.jsonl"
    assert record_path("chat", "") != record_path("email", "")


def test_without_xdg_state_home_the_record_is_under_local_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for unset in ("", "relative/state"):  # the XDG spec ignores a relative path
        monkeypatch.setenv("XDG_STATE_HOME", unset)
        expected = tmp_path / ".local" / "state" / "sportello" / "demo" / "mail.jsonl"
        assert record_path("mail", "") == expected


def test_the_record_option_names_the_file(tmp_path: Path) -> None:
    assert record_path("email", str(tmp_path / "r.jsonl")) == tmp_path / "r.jsonl"


def test_a_channel_id_that_is_no_file_name_gets_a_hashed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    folder = tmp_path / "sportello" / "demo"
    odd = [record_path(channel, "") for channel in ("../up", "a/b", ".hidden", "")]
    assert all(path.parent == folder for path in odd)
    assert len(set(odd)) == len(odd)


# --------------------------------------------------------------------------- writing


def test_append_makes_private_folders_and_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "demo.jsonl"
    append_entry(path, entry("k1"))
    for folder in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_each_entry_is_one_json_line(tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl"
    append_entry(path, entry("k1", "reply", text="Buongiorno,\nsì è arrivato", message_id="m"))
    append_entry(path, entry("k2", "snooze", until=None))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["text"] == "Buongiorno,\nsì è arrivato"
    assert json.loads(lines[1])["until"] is None
    assert read_record(path) == [json.loads(line) for line in lines]


def test_the_line_is_one_write_then_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, int, bytes]] = []
    real_write, real_fsync = os.write, os.fsync

    def write(fd: int, data: bytes) -> int:
        calls.append(("write", fd, bytes(data)))
        return real_write(fd, data)

    def fsync(fd: int) -> None:
        calls.append(("fsync", fd, b""))
        real_fsync(fd)

    monkeypatch.setattr("sportello_demo.record.os.write", write)
    monkeypatch.setattr("sportello_demo.record.os.fsync", fsync)
    path = tmp_path / "demo.jsonl"
    append_entry(path, entry("k1"))
    append_entry(path, entry("k2"))
    writes = [n for n, c in enumerate(calls) if c[0] == "write" and c[2].startswith(b'{"key"')]
    assert [json.loads(calls[n][2])["key"] for n in writes] == ["k1", "k2"]
    assert all(calls[n][2].endswith(b"\n") and calls[n][2].count(b"\n") == 1 for n in writes)
    for n in writes:  # the file's own fsync follows its write, on the same descriptor
        assert calls[n + 1][:2] == ("fsync", calls[n][1])


def test_a_short_write_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write

    def short(fd: int, data: bytes) -> int:
        return real_write(fd, data[:5] if data.startswith(b'{"key"') else data)

    monkeypatch.setattr("sportello_demo.record.os.write", short)
    with pytest.raises(OSError, match="short write"):
        append_entry(tmp_path / "demo.jsonl", entry("k1"))


# --------------------------------------------------------------------------- torn lines


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl"
    append_entry(path, entry("k1"))
    append_entry(path, entry("k2"))
    with path.open("ab") as handle:  # a crash in the middle of the third line
        handle.write(json.dumps(entry("k3")).encode()[:25])
    assert [e["key"] for e in read_record(path)] == ["k1", "k2"]
    assert deliveries_by_key(path) == {"k1": 1, "k2": 1}


def test_after_a_torn_line_the_next_line_starts_on_its_own(tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl"
    append_entry(path, entry("k1"))
    with path.open("ab") as handle:
        handle.write(b'{"key": "k2", "kind": "clo')
    append_entry(path, entry("k3"))
    assert [e["key"] for e in read_record(path)] == ["k1", "k3"]
    assert path.read_bytes().endswith(b"\n")


def test_lines_that_are_not_objects_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl"
    path.write_bytes(b'[1, 2]\n\n"text"\nnot json\n' + json.dumps(entry("k1")).encode() + b"\n")
    assert [e["key"] for e in read_record(path)] == ["k1"]


def test_a_missing_record_is_empty(tmp_path: Path) -> None:
    assert read_record(tmp_path / "none.jsonl") == []
    assert deliveries_by_key(tmp_path / "none.jsonl") == {}


def test_writers_in_parallel_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl"
    long_text = "x" * 20_000  # larger than a pipe buffer: a torn write would show

    def writer(n: int) -> None:
        for i in range(25):
            append_entry(path, entry(f"w{n}-{i}", "reply", text=long_text, message_id="m"))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    assert all(json.loads(line)["text"] == long_text for line in lines[:-1])
    assert len(deliveries_by_key(path)) == 100


# --------------------------------------------------------------------------- counting


def test_deliveries_by_key_counts_actions_not_answers_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl"
    append_entry(path, entry("k1"))
    append_entry(path, entry("k1"))
    append_entry(path, entry("k2", "assign", assignee="marco"))
    answer_elsewhere(path, "em-1-0", "Risolto al telefono", "Anna", 1741687300.0)
    assert deliveries_by_key(path) == {"k1": 2, "k2": 1}


def test_answer_elsewhere_records_a_business_message(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "demo.jsonl"
    at = datetime(2025, 3, 11, 10, 5, tzinfo=UTC)
    message_id = answer_elsewhere(path, "ch-5-1", "Fatto da Chatwoot", "Anna", at)
    (line,) = read_record(path)
    assert line["kind"] == "elsewhere"
    assert (line["conversation"], line["text"], line["author_name"]) == (
        "ch-5-1",
        "Fatto da Chatwoot",
        "Anna",
    )
    assert line["at"] == at.timestamp()
    assert line["message_id"] == message_id and message_id.startswith("ch-5-1/")


# --------------------------------------------------------------------------- reading as it grows


def test_the_tail_reads_only_what_is_new(tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl"
    tail = RecordTail(path)
    assert tail.unchanged()
    assert tail.read_new() == (False, [])
    append_entry(path, entry("k1"))
    assert not tail.unchanged()
    assert [e["key"] for e in tail.read_new()[1]] == ["k1"]
    assert tail.unchanged()
    restart, new = tail.append(entry("k2"))
    assert (restart, [e["key"] for e in new]) == (False, ["k2"])
    with path.open("ab") as handle:  # a line still being written is left for later
        handle.write(b'{"key": "k3"')
    assert tail.read_new() == (False, [])
    with path.open("ab") as handle:
        handle.write(b', "kind": "close", "conversation": "em-1-0", "at": 1}\n')
    assert [e["key"] for e in tail.read_new()[1]] == ["k3"]


def test_the_tail_starts_over_when_the_record_is_replaced_or_removed(tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl"
    tail = RecordTail(path)
    append_entry(path, entry("k1"))
    append_entry(path, entry("k2"))
    tail.read_new()
    replacement = tmp_path / "new.jsonl"
    append_entry(replacement, entry("k9"))
    replacement.replace(path)
    restart, entries = tail.read_new()
    assert restart and [e["key"] for e in entries] == ["k9"]
    path.unlink()
    assert not tail.unchanged()
    assert tail.read_new() == (True, [])
    assert tail.unchanged()
