"""One channel's adapter, in a thread of its own with an event loop of its own.

Adapter code never runs on the screen's event loop: whatever one adapter does —
raise anything (``SystemExit`` included), block its thread, hang, swallow or raise
a cancellation — the screen keeps answering and the other channels keep their
pace. The host turns each of those into a clear failure of its channel:

- an :class:`~sportello_sdk.errors.AdapterError` is passed on as the adapter raised it;
- anything else the adapter raises, and a call that takes longer than its time
  budget, is an :class:`AdapterFault` (for an action: the channel may have it);
- a loop that stops for more than ``blocked_s`` (``BLOCKED_S`` by default;
  ``time.sleep``, a blocking library) is noticed by a heartbeat and reported, even
  when the call succeeds;
- a call that does not end when cancelled is abandoned after ``STOP_GRACE_S``: its
  thread is left behind (and reported) and the next call starts on a new one, with
  a new session.

The threads are daemons with a default executor of daemon threads, so an adapter
that never returns cannot keep the program from ending.

The collector runs every channel through a host, and so does the contract kit
(:mod:`sportello_sdk.testing`): what the kit reports is what the collector would
meet.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from sportello_sdk import Adapter, AdapterError
from sportello_sdk.base import ChannelContext, Session
from sportello_sdk.errors import describe

__all__ = [
    "BLOCKED_S",
    "LEFT_BEHIND_LIMIT",
    "STOP_GRACE_S",
    "AdapterFault",
    "ChannelHost",
    "Op",
    "blocked_words",
]

log = logging.getLogger(__name__)

T = TypeVar("T")
Op = Callable[[Session], Awaitable[T]]

BEAT_S = 0.1  # the heartbeat's period while a call runs
BLOCKED_S = 1.0  # a loop that stops longer than this is reported
STOP_GRACE_S = 2.0  # how long a cancelled call may take to end before it is abandoned
LEFT_BEHIND_LIMIT = 3  # threads of one channel left behind before no new one is started


class AdapterFault(Exception):
    """The adapter did what no adapter may: raised something that is not an adapter
    error, exited, or did not answer within its time. The message is safe to show;
    ``raised`` is what the adapter raised, when the fault is that."""

    def __init__(
        self, message: str, *, timed_out: bool = False, raised: BaseException | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.timed_out = timed_out
        self.raised = raised

    def __str__(self) -> str:
        return self.message


@dataclass
class _Outcome(Generic[T]):
    value: T | None = None
    error: AdapterError | None = None
    fault: AdapterFault | None = None


class _DaemonExecutor(concurrent.futures.ThreadPoolExecutor):
    """The channel loop's default executor (``asyncio.to_thread``, DNS lookups): one
    daemon thread per job, never joined at exit (a ThreadPoolExecutor's are)."""

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

        threading.Thread(target=run, name="sportello-adapter-job", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        return None


class _Loop:
    """A daemon thread running an event loop, and its heartbeat."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop.set_default_executor(_DaemonExecutor())
        self.ended = threading.Event()
        self.stray: list[str] = []  # what escaped the loop itself (SystemExit in a task)
        self.last_beat = time.monotonic()
        self.worst_gap = 0.0
        self._beating = False
        self._stopping = False
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        while not self._stopping:
            try:
                self.loop.run_forever()
            except BaseException as exc:
                self.stray.append(describe(exc))
                continue
            break
        # What an abandoned adapter left running is not ours to report at exit.
        for task in asyncio.all_tasks(self.loop):
            task._log_destroy_pending = False  # type: ignore[attr-defined]
        try:
            self.loop.close()
        except Exception:  # a loop stopped mid-task cannot always close
            log.debug("a channel loop did not close", exc_info=True)
        self.ended.set()

    def stop(self) -> None:
        self._stopping = True
        if not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):  # closed meanwhile
                self.loop.call_soon_threadsafe(self.loop.stop)

    # The heartbeat runs in the channel's thread, only while a call is in flight.
    def start_beats(self) -> None:
        self.last_beat = time.monotonic()
        self.worst_gap = 0.0
        self._beating = True
        self.loop.call_later(BEAT_S, self._beat)

    def stop_beats(self) -> None:
        self._beating = False
        self._note_gap(time.monotonic())

    def _beat(self) -> None:
        now = time.monotonic()
        self._note_gap(now)
        if self._beating:
            self.loop.call_later(BEAT_S, self._beat)

    def _note_gap(self, now: float) -> None:
        gap = now - self.last_beat - BEAT_S
        self.worst_gap = max(self.worst_gap, gap)
        self.last_beat = now

    def blocked_s(self) -> float:
        """The longest stop of the loop during the current or last call."""
        silent = time.monotonic() - self.last_beat - BEAT_S if self._beating else 0.0
        return max(self.worst_gap, silent)


class ChannelHost:
    """The session of one channel, opened and used in the channel's own thread."""

    def __init__(
        self,
        channel_id: str,
        adapter: type[Adapter],
        context: ChannelContext,
        *,
        blocked_s: float = BLOCKED_S,
    ) -> None:
        self.channel_id = channel_id
        self.adapter = adapter
        self.context = context
        self.capabilities = adapter.capabilities
        self.blocked_s = blocked_s
        """A stop of the loop at least this long (seconds) is reported."""
        self._loop: _Loop | None = None
        self._session: Session | None = None
        self._busy = False
        self._ended: asyncio.Future[None] | None = None  # resolved when the call ends
        self._cancelled_at: float | None = None
        self._left_behind: list[_Loop] = []
        self.notices: list[str] = []
        """What the last call did that adapters must not (blocked its loop, left a
        thread behind), in words; empty when it behaved."""
        self.blocked_for = 0.0
        """The longest stop of the loop during the last call (seconds), reported
        in ``notices`` (or the timeout's words) when at least ``blocked_s``."""

    # -- calls ----------------------------------------------------------------

    async def call(self, op: Op[T], *, timeout_s: float, ends_session: bool = False) -> T:
        """Run ``op(session)`` in the channel's thread, connecting first if needed.

        Raises the adapter's :class:`AdapterError`, or :class:`AdapterFault`.
        Cancelling the caller cancels the call in the channel's thread; the caller
        does not wait for the adapter to agree. ``ends_session``: ``op`` closes the
        session (``aclose``), which is then forgotten whatever happens: the next
        call connects again.
        """
        self.notices = []
        self.blocked_for = 0.0
        loop = await self._ready_loop()
        self._busy = True
        self._cancelled_at = None
        main = asyncio.get_running_loop()
        ended: asyncio.Future[None] = main.create_future()
        self._ended = ended
        on_end = partial(_resolve, main, ended)
        future = asyncio.run_coroutine_threadsafe(
            self._guarded(op, loop, timeout_s, on_end, ends_session), loop.loop
        )
        waiting = asyncio.wrap_future(future)
        try:
            done, _ = await asyncio.wait({waiting}, timeout=timeout_s)
        except asyncio.CancelledError:
            self._cancel(future)
            raise
        if not done:
            self._cancel(future)
            self.blocked_for = blocked = loop.blocked_s()
            why = f"no answer within {timeout_s:g} s"
            if blocked >= self.blocked_s:
                why += f" ({blocked_words(blocked)})"
            raise AdapterFault(why, timed_out=True)
        if waiting.cancelled():
            raise AdapterFault("the call was cancelled", timed_out=True)
        outcome: _Outcome[T] = waiting.result()
        self._note_blocked(loop)
        for stray in loop.stray:
            self.notices.append(f"one of its tasks raised {stray} outside any call")
        loop.stray.clear()
        if outcome.error is not None:
            raise outcome.error
        if outcome.fault is not None:
            raise outcome.fault
        return outcome.value  # type: ignore[return-value]

    async def _guarded(
        self,
        op: Op[T],
        loop: _Loop,
        timeout_s: float,
        on_end: Callable[[], None],
        ends_session: bool,
    ) -> _Outcome[T]:
        """In the channel's thread: the call, with whatever it raises caught."""
        loop.start_beats()
        try:
            http = self.context.http
            if http is not None:
                http.begin(timeout_s)
            if self._session is None:
                session = await self.adapter.connect(self.context)
                if not isinstance(session, Session):
                    words = f"connect() returned {type(session).__name__}, not a Session"
                    return _Outcome(fault=AdapterFault(words))
                self._session = session
            return _Outcome(value=await op(self._session))
        except AdapterError as exc:
            return _Outcome(error=exc)
        except asyncio.CancelledError as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # we asked
            words = (
                "raised CancelledError though nobody cancelled it "
                "(an awaited helper task that was cancelled?)"
            )
            return _Outcome(fault=AdapterFault(words, raised=exc))
        except (SystemExit, KeyboardInterrupt) as exc:
            words = f"raised {describe(exc)}: adapters must not exit"
            return _Outcome(fault=AdapterFault(words, raised=exc))
        except BaseException as exc:
            return _Outcome(fault=AdapterFault(f"unexpected {describe(exc)}", raised=exc))
        finally:
            loop.stop_beats()
            if ends_session:
                self._session = None
            self._busy = False
            on_end()

    def _cancel(self, future: concurrent.futures.Future[Any]) -> None:
        self._cancelled_at = time.monotonic()
        future.cancel()

    def _note_blocked(self, loop: _Loop) -> None:
        self.blocked_for = blocked = loop.worst_gap
        if blocked >= self.blocked_s:
            self.notices.append(blocked_words(blocked))

    async def settle(self) -> bool:
        """Let a call that timed out end: wait for it up to ``STOP_GRACE_S`` after it
        was cancelled, and abandon it if it does not end (said in ``notices``: its
        thread is left behind, the next call starts a new one with a new session).
        False when it was abandoned; True when no call is under way."""
        loop = self._loop
        if loop is None or not self._busy or self._ended is None:
            return True
        asked = self._cancelled_at if self._cancelled_at is not None else time.monotonic()
        left = STOP_GRACE_S - (time.monotonic() - asked)
        if left > 0:
            await asyncio.wait({self._ended}, timeout=left)
        if self._busy:
            self._abandon(loop)
            return False
        return True

    async def _ready_loop(self) -> _Loop:
        """The channel's loop; a new one if the last call never ended when asked."""
        await self.settle()
        loop = self._loop
        if loop is None:
            alive = [old for old in self._left_behind if not old.ended.is_set()]
            self._left_behind = alive
            if len(alive) >= LEFT_BEHIND_LIMIT:
                raise AdapterFault(
                    f"did not stop when asked; {len(alive)} of its threads are left behind, "
                    "no new one is started"
                )
            loop = _Loop(f"sportello-channel-{self.channel_id}")
            self._loop = loop
            self._session = None
            self._busy = False
        return loop

    def _abandon(self, loop: _Loop) -> None:
        loop.stop()
        self._left_behind.append(loop)
        self._loop = None
        self._session = None
        self._busy = False
        message = "did not stop when asked: its thread is left behind"
        self.notices.append(message)
        log.warning("channel %s: %s", self.channel_id, message)

    # -- the end ------------------------------------------------------------------

    @property
    def left_behind(self) -> int:
        """Threads of this channel that did not stop when asked and still run."""
        return sum(1 for loop in self._left_behind if not loop.ended.is_set())

    async def close(self, grace_s: float = STOP_GRACE_S) -> bool:
        """Close the session and end the thread; False when the adapter would not stop
        within ``grace_s`` (its thread is then left behind)."""
        loop = self._loop
        if loop is None:
            return self.left_behind == 0
        deadline = time.monotonic() + grace_s
        if not self._busy and self._session is not None:
            session = self._session
            closing = asyncio.run_coroutine_threadsafe(_close(session), loop.loop)
            waiting = asyncio.wrap_future(closing)
            await asyncio.wait({waiting}, timeout=max(0.0, deadline - time.monotonic()))
            if not waiting.done():
                closing.cancel()
        self._session = None
        loop.stop()
        if not loop.ended.is_set():
            await asyncio.to_thread(loop.ended.wait, max(0.0, deadline - time.monotonic()))
        self._loop = None
        if not loop.ended.is_set():
            self._left_behind.append(loop)
            log.warning(
                "channel %s: the adapter did not stop; its thread is left behind", self.channel_id
            )
            return False
        return self.left_behind == 0


def blocked_words(seconds: float) -> str:
    """``blocked for 5 s: adapters must not block`` (``0.40 s`` below a second)."""
    shown = f"{seconds:.0f}" if seconds >= 1 else f"{seconds:.2f}"
    return f"blocked for {shown} s: adapters must not block"


def _resolve(main: asyncio.AbstractEventLoop, ended: asyncio.Future[None]) -> None:
    """From the channel's thread: tell the main loop that a call has ended."""

    def done() -> None:
        if not ended.done():
            ended.set_result(None)

    with contextlib.suppress(RuntimeError):  # the main loop is closed: nobody waits
        main.call_soon_threadsafe(done)


async def _close(session: Session) -> None:
    try:
        await session.aclose()
    except BaseException as exc:
        log.warning("closing a channel failed: %s", describe(exc))
