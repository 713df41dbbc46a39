"""Drive a program in a real pseudo-terminal and time what it writes.

A :class:`PtySession` starts a program on the slave side of a new pty (window size
set before the program starts), and a reader thread drains the master side
continuously, stamping each read with ``time.perf_counter()``. The thread does
nothing else that is slow: it answers the terminal query Textual sends for
synchronized output and hands the bytes over. The caller's thread feeds them to a
pyte screen and cuts them into *frames*:

- A frame wrapped in synchronized-output markers (``ESC[?2026h`` … ``ESC[?2026l``)
  ends at the read that carried the closing marker. Textual wraps every frame in
  them once the terminal has said it supports them, which this session does, as
  most terminals people use over SSH do.
- Output outside those markers (Textual's first frames, before the answer has
  arrived, or a program that never uses them) ends at the last read before a quiet
  gap of ``frame_gap_s`` (3 ms).

Times are those of the reads, so the work of rendering with pyte never delays
them (the reader runs in its own thread; the benchmark entry point also lowers
the interpreter's switch interval).
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import os
import re
import selectors
import signal
import struct
import subprocess
import termios
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pyte

SYNC_START = b"\x1b[?2026h"
SYNC_END = b"\x1b[?2026l"
# DECRQM for mode 2026 and our answer: "recognised, currently reset" (Ps = 2).
QUERY_SYNC = b"\x1b[?2026$p"
ANSWER_SYNC = b"\x1b[?2026;2$y"

_MARKER = re.compile(rb"\x1b\[\?2026([hl])")
# Sequences pyte mis-parses (it prints the final byte): kitty keyboard "pop".
_PYTE_UNSAFE = re.compile(rb"\x1b\[<\d*u")

KEYS: dict[str, bytes] = {
    "up": b"\x1b[A",
    "down": b"\x1b[B",
    "right": b"\x1b[C",
    "left": b"\x1b[D",
    "pageup": b"\x1b[5~",
    "pagedown": b"\x1b[6~",
    "home": b"\x1b[H",
    "end": b"\x1b[F",
    "enter": b"\r",
    "tab": b"\t",
    "backspace": b"\x7f",
    "escape": b"\x1b",
    "ctrl+q": b"\x11",
}
"""Bytes a terminal sends for the keys the benchmarks press (legacy xterm encoding)."""

ScreenPredicate = Callable[[str], bool]


class PtyError(RuntimeError):
    """The program did not do what was awaited. ``screen`` is what it showed."""

    def __init__(self, message: str, screen: str) -> None:
        super().__init__(message)
        self.screen = screen


class ChildExited(PtyError):
    """The program ended (or closed the terminal) before what was awaited happened."""


class WaitTimeout(PtyError):
    """What was awaited did not happen in time."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame the program wrote: when its last byte was read, how big it was."""

    end: float  # time.perf_counter() of the read carrying its last byte
    nbytes: int
    synced: bool  # wrapped in synchronized-output markers


@dataclass(frozen=True, slots=True)
class Response:
    """The frames that followed one key press (see :meth:`PtySession.press`)."""

    sent: float  # time.perf_counter() when the key was written
    frames: tuple[Frame, ...]  # every frame until the output went quiet
    answer_s: float | None  # what press() returned

    @property
    def first_s(self) -> float | None:
        """Seconds to the end of the first frame after the key."""
        return self.frames[0].end - self.sent if self.frames else None

    @property
    def last_s(self) -> float | None:
        """Seconds to the end of the last frame before the output went quiet."""
        return self.frames[-1].end - self.sent if self.frames else None


def _partial_marker_len(buf: bytes) -> int:
    """Length of the longest suffix of ``buf`` that could start a 2026 marker."""
    limit = min(len(buf), len(SYNC_START) - 1)
    for n in range(limit, 0, -1):
        tail = buf[-n:]
        if SYNC_START.startswith(tail) or SYNC_END.startswith(tail):
            return n
    return 0


def _count_new(pattern: bytes, tail: bytes, data: bytes) -> int:
    """Occurrences of ``pattern`` in ``tail + data`` that end inside ``data``."""
    buf = tail + data
    count = 0
    start = buf.find(pattern)
    while start != -1:
        if start + len(pattern) > len(tail):
            count += 1
        start = buf.find(pattern, start + 1)
    return count


def _read_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name, or None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def descendants(pid: int) -> list[int]:
    """Live descendants of ``pid`` (children, grandchildren…), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _read_stat(int(entry.name))
        if fields is None:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _vm_hwm_kib(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100) of a non-empty sequence."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


def _set_controlling_tty() -> None:  # runs in the child, after setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


# Inherited variables that would change what Textual draws or how big it thinks
# the terminal is; the session sets its own.
_DROP_ENV_PREFIXES = ("TEXTUAL", "COLUMNS", "LINES", "TERM_PROGRAM", "NO_COLOR", "TMUX")


def session_env(cols: int, rows: int, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP_ENV_PREFIXES)}
    env.update(
        TERM="xterm-256color",
        COLORTERM="truecolor",
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        COLUMNS=str(cols),
        LINES=str(rows),
    )
    if extra:
        env.update(extra)
    return env


class PtySession:
    """One program running in its own pseudo-terminal.

    The program starts in the constructor; ``started_at`` is the
    ``time.perf_counter()`` taken just before it was spawned. Use as a context
    manager, or call :meth:`close`, which always ends and reaps it.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cols: int = 80,
        rows: int = 24,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        quit_key: bytes = KEYS["ctrl+q"],
        answer_sync_query: bool = True,
        frame_gap_s: float = 0.003,
    ) -> None:
        self.argv = list(argv)
        self.cols = cols
        self.rows = rows
        self.quit_key = quit_key
        self.frame_gap_s = frame_gap_s
        self._answer_sync = answer_sync_query

        self.screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self.screen)
        self.frames: list[Frame] = []
        self.reads: list[tuple[float, int]] = []  # (time, bytes) of every read, in order

        # Shared with the reader thread (under _cond).
        self._cond = threading.Condition()
        self._chunks: deque[tuple[float, bytes]] = deque()
        self._eof = False
        self._stop = threading.Event()

        # Frame cutting state (caller's thread only).
        self._carry = b""
        self._in_sync = False
        self._frame_bytes = 0
        self._unsynced_pending = False
        self._unsynced_last_ts = 0.0
        self._watch: ScreenPredicate | None = None
        self._watch_hit: Frame | None = None
        self._hwm_kib: dict[int, int] = {}
        self._members: dict[int, str] = {}  # pid -> start time, of every process seen
        self._closed = False
        self.sync_queries_answered = 0
        self.last_response: Response | None = None

        master, slave = os.openpty()
        try:
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            self.started_at = time.perf_counter()
            self._last_chunk_ts = self.started_at
            self.proc = subprocess.Popen(
                self.argv,
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=cwd,
                env=session_env(cols, rows, env),
                start_new_session=True,
                preexec_fn=_set_controlling_tty,
                close_fds=True,
            )
        except BaseException:
            os.close(master)
            os.close(slave)
            raise
        os.close(slave)
        self._master = master
        self.pid = self.proc.pid
        self._reader = threading.Thread(target=self._read_loop, name="pty-reader", daemon=True)
        self._reader.start()

    # ------------------------------------------------------------------ reader thread

    def _read_loop(self) -> None:
        fd = self._master
        tail = b""
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while not self._stop.is_set():
                if not sel.select(0.05):
                    continue
                try:
                    data = os.read(fd, 65536)
                except OSError:  # EIO: every slave descriptor is closed
                    break
                ts = time.perf_counter()
                if not data:
                    break
                if self._answer_sync:
                    for _ in range(_count_new(QUERY_SYNC, tail, data)):
                        with contextlib.suppress(OSError):
                            os.write(fd, ANSWER_SYNC)
                        self.sync_queries_answered += 1
                    tail = (tail + data)[-len(QUERY_SYNC) :]
                with self._cond:
                    self._chunks.append((ts, data))
                    self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    # ------------------------------------------------------------------ frame cutting

    def _feed(self, data: bytes) -> None:
        if data:
            self._stream.feed(_PYTE_UNSAFE.sub(b"", data))

    def _end_frame(self, frame: Frame) -> None:
        self.frames.append(frame)
        self._frame_bytes = 0
        if self._watch is not None and self._watch_hit is None and self._watch(self.text()):
            self._watch_hit = frame

    def _close_unsynced(self) -> None:
        if self._carry and not self._in_sync:
            self._feed(self._carry)
            self._frame_bytes += len(self._carry)
            self._carry = b""
        self._unsynced_pending = False
        self._end_frame(Frame(self._unsynced_last_ts, self._frame_bytes, synced=False))

    def _take(self, data: bytes, ts: float) -> None:
        self._feed(data)
        self._frame_bytes += len(data)
        if data and not self._in_sync:
            self._unsynced_pending = True
            self._unsynced_last_ts = ts

    def _process(self, ts: float, data: bytes) -> None:
        self.reads.append((ts, len(data)))
        self._last_chunk_ts = ts
        if (
            self._unsynced_pending
            and not self._in_sync
            and ts - self._unsynced_last_ts >= self.frame_gap_s
        ):
            self._close_unsynced()
        buf = self._carry + data
        keep = _partial_marker_len(buf)
        self._carry = buf[len(buf) - keep :] if keep else b""
        buf = buf[: len(buf) - keep]
        pos = 0
        for match in _MARKER.finditer(buf):
            self._take(buf[pos : match.start()], ts)
            pos = match.end()
            self._frame_bytes += len(match.group(0))
            if match.group(1) == b"h":
                if self._unsynced_pending:
                    self._close_unsynced()
                self._in_sync = True
            else:
                self._in_sync = False
                self._end_frame(Frame(ts, self._frame_bytes, synced=True))
        self._take(buf[pos:], ts)

    def _step(self, deadline: float) -> bool:
        """Process what has arrived, or wait for output until ``deadline``.

        Returns False once the program has closed the terminal and all its output
        has been processed.
        """
        with self._cond:
            chunks = list(self._chunks)
            self._chunks.clear()
            eof = self._eof
            if not chunks:
                now = time.perf_counter()
                if self._unsynced_pending:
                    gap_end = self._unsynced_last_ts + self.frame_gap_s
                    if now >= gap_end or eof:
                        chunks = []
                    else:
                        self._cond.wait(max(0.0, min(deadline, gap_end) - now))
                        return True
                elif eof:
                    return False
                else:
                    self._cond.wait(max(0.0, deadline - now))
                    return True
        if not chunks:  # a quiet gap ended an unsynced frame
            self._close_unsynced()
            return True
        for ts, data in chunks:
            self._process(ts, data)
        return True

    def _quiet_since(self) -> float:
        return time.perf_counter() - self._last_chunk_ts

    def _idle(self) -> bool:
        """No frame is open and nothing waits to be processed."""
        with self._cond:
            pending = bool(self._chunks)
        return not (pending or self._in_sync or self._unsynced_pending)

    # ------------------------------------------------------------------ public API

    def pump(self, seconds: float = 0.0) -> None:
        """Process output for ``seconds`` (0: only what has already arrived)."""
        deadline = time.perf_counter() + seconds
        while self._step(deadline):
            if time.perf_counter() >= deadline:
                with self._cond:
                    if not self._chunks:
                        return

    def text(self) -> str:
        """What the terminal shows now, one line per row."""
        return "\n".join(self.screen.display)

    def lines(self) -> list[str]:
        return list(self.screen.display)

    @property
    def bytes_written(self) -> int:
        """Bytes the program has written to the terminal so far (processed reads)."""
        return sum(n for _, n in self.reads)

    def bytes_between(self, start: float, end: float) -> int:
        return sum(n for ts, n in self.reads if start <= ts < end)

    def wait_for(self, predicate: ScreenPredicate, timeout: float) -> float:
        """Wait until the screen satisfies ``predicate`` at the end of a frame.

        Returns the ``perf_counter()`` time of the end of the first such frame
        (already-processed frames count: if the screen satisfies it now, the end of
        the last frame). Raises :class:`WaitTimeout` or :class:`ChildExited`.
        """
        if self.frames and self._idle() and predicate(self.text()):
            return self.frames[-1].end
        self._watch, self._watch_hit = predicate, None
        deadline = time.perf_counter() + timeout
        try:
            while self._watch_hit is None:
                if time.perf_counter() >= deadline:
                    raise WaitTimeout(f"not seen within {timeout:g}s", self.text())
                if not self._step(deadline):
                    raise ChildExited(self._exit_message(), self.text())
            return self._watch_hit.end
        finally:
            self._watch = None
            self.sample_rss()

    def settle(self, quiet_s: float, timeout: float = 10.0) -> bool:
        """Wait until the program has written nothing for ``quiet_s``.

        Returns False if it was still writing when ``timeout`` ran out.
        """
        deadline = time.perf_counter() + timeout
        while True:
            if self._idle() and self._quiet_since() >= quiet_s:
                return True
            now = time.perf_counter()
            if now >= deadline:
                return False
            wake = min(deadline, self._last_chunk_ts + quiet_s)
            if not self._step(max(wake, now + 0.0005)):
                return True

    def press(
        self,
        key: bytes | str,
        *,
        quiet_s: float = 0.05,
        timeout: float = 5.0,
        until: ScreenPredicate | None = None,
    ) -> float | None:
        """Press a key; return the seconds until the frame that answers it was written.

        First waits until the program has been quiet for ``quiet_s``, so that the
        press starts from a still screen. Then writes the key and returns the time
        from the write to the end of the first frame after it: Textual writes
        everything the key's handlers changed in its next frame. With ``until``,
        to the end of the first frame after which ``until(screen_text)`` holds
        instead (for an answer that may come after an echo: a filtered list).
        Returns None if no such frame came within ``timeout``.

        Before returning it keeps collecting frames until the output has been
        quiet for ``quiet_s``: :attr:`last_response` holds them all, and its
        ``last_s`` is the time until the screen settled (previews loaded, say).
        """
        data = key.encode() if isinstance(key, str) else key
        self.settle(quiet_s, timeout)
        first = len(self.frames)
        self._watch, self._watch_hit = until, None
        try:
            sent = time.perf_counter()
            os.write(self._master, data)
            deadline = sent + timeout
            while True:
                got = len(self.frames) > first and (until is None or self._watch_hit is not None)
                now = time.perf_counter()
                if got and self._idle() and now - self._last_chunk_ts >= quiet_s:
                    break
                if now >= deadline:
                    break
                wake = self._last_chunk_ts + quiet_s if got else deadline
                if not self._step(min(deadline, max(wake, now + 0.0005))):
                    break
            answer = self._watch_hit if until is not None else None
            if until is None and len(self.frames) > first:
                answer = self.frames[first]
            latency = None if answer is None else answer.end - sent
            self.last_response = Response(sent, tuple(self.frames[first:]), latency)
            return latency
        finally:
            self._watch = None

    def write(self, data: bytes | str) -> None:
        """Write to the program's terminal input without waiting for anything."""
        os.write(self._master, data.encode() if isinstance(data, str) else data)

    # ------------------------------------------------------------------ the process

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def _exit_message(self) -> str:
        try:  # the terminal closes just before the process ends
            code: int | None = self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            return "the program closed its terminal"
        return f"the program exited with status {code}"

    def _tree(self) -> list[int]:
        if self.proc.returncode is not None:
            return []
        return [self.pid, *descendants(self.pid)]

    def _note_tree(self) -> list[int]:
        """The live process tree, remembering each member for :meth:`close`."""
        tree = self._tree()
        for pid in tree:
            fields = _read_stat(pid)
            if fields is not None:
                self._members.setdefault(pid, fields[19])  # start time: pids get reused
        return tree

    def sample_rss(self) -> None:
        """Record the peak RSS (VmHWM) of the program and its live descendants."""
        for pid in self._note_tree():
            hwm = _vm_hwm_kib(pid)
            if hwm is not None:
                self._hwm_kib[pid] = max(hwm, self._hwm_kib.get(pid, 0))

    def rss_peak_mib(self) -> float:
        """Sum of the peak RSS of the program and of every descendant seen, in MiB."""
        self.sample_rss()
        return sum(self._hwm_kib.values()) / 1024.0

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the program, its live descendants and reaped children."""
        ticks = float(os.sysconf("SC_CLK_TCK"))
        total = 0
        for pid in self._tree():
            fields = _read_stat(pid)
            if fields is None:
                continue
            # After "pid (comm) ": state=0 ppid=1 … utime=11 stime=12 cutime=13 cstime=14
            total += int(fields[11]) + int(fields[12])
            if pid == self.pid:
                total += int(fields[13]) + int(fields[14])
        return total / ticks

    def _exited_unreaped(self) -> bool:
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def _wait_exit(self, timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self._exited_unreaped():
                return True
            with contextlib.suppress(Exception):
                self._step(time.perf_counter() + 0.02)
        return self._exited_unreaped()

    def _kill_group(self, sig: signal.Signals) -> None:
        # The leader is not reaped yet (at worst a zombie), so its pid, which is
        # also the group id, cannot have been reused.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def _stragglers(self) -> list[int]:
        """Descendants seen while the program ran that still live (not zombies)."""
        found = []
        for pid, started in self._members.items():
            fields = _read_stat(pid)
            alive = fields is not None and fields[0] not in ("Z", "X")
            if pid != self.pid and alive and fields is not None and fields[19] == started:
                found.append(pid)
        return found

    def _kill_stragglers(self, timeout: float = 2.0) -> None:
        """SIGKILL every descendant still there (it may have left the group); wait for it."""
        deadline = time.perf_counter() + timeout
        while (left := self._stragglers()) and time.perf_counter() < deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def close(self, quit_timeout: float = 3.0, term_timeout: float = 2.0) -> int:
        """Quit the program (quit key, then SIGTERM, then SIGKILL), reap it, free the pty.

        Kills whatever is left of it: its process group and every descendant seen
        while it ran. Returns the exit status.
        """
        if self._closed:
            return self.proc.returncode if self.proc.returncode is not None else -1
        self._closed = True
        try:
            with contextlib.suppress(Exception):
                self.sample_rss()  # also notes the tree
            if self.proc.returncode is None and not self._exited_unreaped():
                with contextlib.suppress(OSError):
                    os.write(self._master, self.quit_key)
                if not self._wait_exit(quit_timeout):
                    self._kill_group(signal.SIGTERM)
                    if not self._wait_exit(term_timeout):
                        self._kill_group(signal.SIGKILL)
            self._kill_group(signal.SIGKILL)  # stragglers left in the group
            self._kill_stragglers()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        finally:
            self._stop.set()
            self._reader.join(timeout=2.0)
            with contextlib.suppress(Exception):
                while self._step(time.perf_counter()):
                    with self._cond:
                        if not self._chunks and not self._unsynced_pending:
                            break
            with contextlib.suppress(OSError):
                os.close(self._master)
        return self.proc.returncode

    def __enter__(self) -> PtySession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
