"""The contract kit: run an adapter through everything sportello expects of it.

For plug-in authors (and sportello's own suite, over its built-in adapters). Give
it the adapter class, the options a channel would have, an ``httpx.MockTransport``
that answers like the real service, and a clock of your own::

    from datetime import UTC, datetime
    import httpx
    from sportello_sdk.testing import FixedClock, run_contract

    def test_contract() -> None:
        transport = httpx.MockTransport(answer)       # your handler: request → response
        clock = FixedClock(datetime(2025, 3, 11, 10, 0, tzinfo=UTC))
        report = run_contract(MyAdapter, {"url": "https://desk.example", "token": "t0k"},
                              transport=transport, clock=clock)
        report.assert_ok()                            # lists every problem, not the first

(or, with the pytest plugin, the ``adapter_contract`` and ``contract_clock``
fixtures; see :mod:`sportello_sdk.pytest_plugin`). In an async test, ``await
check_adapter(...)``.

What it checks, and reports all of:

- the declaration (:func:`sportello_sdk.checks.declaration_problems` and
  :func:`~sportello_sdk.checks.option_problems`), and that the options given fit it;
- ``connect`` gives a :class:`~sportello_sdk.base.Session`;
- ``fetch`` twice, the second time with the memory the first one returned: each
  result passes the collector's own checks (:func:`sportello_sdk.checks.review_state`:
  nothing would be dropped or repaired), every time is aware, in UTC and not after
  the clock's now (``skew``: zero by default, as the clock and the mock are yours);
- ``recheck``, ``lookup`` and each action honour ``capabilities``: what is
  declared works (a result with a UTC time; with ``keys``, the same key twice
  answers the same; with ``lookup``, the action just made is found), what is not
  raises :class:`~sportello_sdk.errors.NotSupported`;
- ``aclose`` does not raise (also on a session that never fetched);
- nothing blocks the event loop longer than ``blocked_s`` (a heartbeat runs
  beside every call), every call ends within ``timeout_s``, and only
  :mod:`sportello_sdk.errors` are raised (never ``SystemExit``, a bare
  ``Exception`` or a ``CancelledError`` nobody asked for).

Actions are sent to the first waiting conversation (or ``target``): run the kit
against a mock, never against a real channel (``sportello check-adapter`` fetches
only).

The kit imports neither pytest nor the application; :mod:`httpx` only when
``transport`` is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sportello_sdk.base import Adapter, ChannelContext, Clock, Session, channel_logger, utc_now
from sportello_sdk.checks import (
    contract_problems,
    declaration_problems,
    option_problems,
    review_state,
    sense_check,
    size_notes,
    time_problem,
)
from sportello_sdk.errors import AdapterError, NotSupported, describe
from sportello_sdk.models import (
    ActionKind,
    ActionRequest,
    ActionResult,
    Capabilities,
    ChannelState,
    Conversation,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "BLOCKED_S",
    "ContractReport",
    "Finding",
    "FixedClock",
    "check_adapter",
    "check_fetched",
    "make_context",
    "run_contract",
]

T = TypeVar("T")

BLOCKED_S = 0.25  # a loop stopped longer than this during a call is reported
TIMEOUT_S = 10.0  # what one call may take
STOP_GRACE_S = 1.0  # how long a call that timed out may take to end once cancelled
REPLY_TEXT = "sportello contract kit: a test reply"
ACTION_ORDER = (
    ActionKind.REPLY,
    ActionKind.ASSIGN,
    ActionKind.SNOOZE,
    ActionKind.REOPEN,
    ActionKind.CLOSE,
)


class FixedClock:
    """A clock that stands still until moved, for ``ChannelContext.clock``::

    clock = FixedClock(datetime(2025, 3, 11, 10, 0, tzinfo=UTC))
    clock.advance(minutes=5)
    """

    def __init__(self, at: datetime) -> None:
        self.set(at)

    def set(self, at: datetime) -> None:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("a FixedClock needs an aware time (tzinfo=UTC)")
        self._now = at.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """Move on by ``delta`` or ``timedelta(**parts)``; the new time."""
        self._now += (delta or timedelta()) + timedelta(**parts)
        return self._now

    def __call__(self) -> datetime:
        return self._now

    def __repr__(self) -> str:
        return f"FixedClock({self._now.isoformat()})"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the kit saw, and at which step (``fetch 1``, ``act reply``…)."""

    step: str
    message: str

    def __str__(self) -> str:
        return f"{self.step}: {self.message}"


@dataclass
class ContractReport:
    """Everything the kit found. ``problems`` break the contract; ``notes`` do not
    (text that will be cut, a step that could not run)."""

    adapter: str
    problems: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    states: list[ChannelState] = field(default_factory=list)
    """What each fetch returned, as the collector would store it."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, step: str, message: str) -> None:
        finding = Finding(step, message)
        if finding not in self.problems:  # two copies of one id: said once
            self.problems.append(finding)

    def note(self, step: str, message: str) -> None:
        finding = Finding(step, message)
        if finding not in self.notes:
            self.notes.append(finding)

    def lines(self) -> list[str]:
        count = len(self.problems)
        head = f"adapter {self.adapter}: " + (
            "meets the contract" if not count else f"{count} problem{'s' * (count != 1)}"
        )
        lines = [head]
        lines += [f"  ✗ {finding}" for finding in self.problems]
        lines += [f"  · {finding}" for finding in self.notes]
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def assert_ok(self) -> None:
        """Raise ``AssertionError`` listing every problem (for tests)."""
        if self.problems:
            raise AssertionError(str(self))


def make_context(
    adapter: type[Adapter],
    options: Mapping[str, Any] | None = None,
    *,
    channel_id: str = "contract",
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout_s: float = TIMEOUT_S,
    log: logging.Logger | None = None,
) -> ChannelContext:
    """The context the collector would give a channel with these ``options`` (as
    config.yaml would spell them: secrets as plain text here, they become
    :class:`~sportello_sdk.secret.Secret`). ``transport``: the HTTP transport under
    the SDK's policy (an ``httpx.MockTransport``). Raises
    :class:`~sportello_sdk.errors.ConfigurationError` when the options do not fit."""
    typed = adapter.declared_options(dict(options or {}))
    http = None
    if transport is not None:
        from sportello_sdk.http import ChannelHttp

        http = ChannelHttp(channel_id, transport=transport)
    return ChannelContext(
        channel_id=channel_id,
        options=typed,
        clock=clock or utc_now,
        timeout_s=timeout_s,
        log=log or channel_logger(channel_id),
        http=http,
    )


# --------------------------------------------------------------------------- calls


@dataclass
class _Outcome(Generic[T]):
    value: T | None = None
    error: BaseException | None = None
    done: bool = False


class _Heartbeat:
    """A task on the loop under test that notices when the loop stops."""

    period = 0.01

    def __init__(self) -> None:
        self.worst = 0.0
        self._last = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._last = time.monotonic()
        self.worst = 0.0
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            self._note()

    def _note(self) -> None:
        now = time.monotonic()
        self.worst = max(self.worst, now - self._last - self.period)
        self._last = now

    async def stop(self) -> float:
        self._note()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        return self.worst


class _Runner:
    def __init__(
        self,
        report: ContractReport,
        context: ChannelContext,
        *,
        timeout_s: float,
        blocked_s: float,
    ) -> None:
        self.report = report
        self.context = context
        self.timeout_s = timeout_s
        self.blocked_s = blocked_s
        self.stuck = False  # a call did not end when cancelled: nothing more is tried

    async def call(
        self, step: str, make: Callable[[], Awaitable[T]], *, judge: bool = True
    ) -> _Outcome[T]:
        """Run one adapter call with a heartbeat beside it and a time limit; whatever
        it raises is caught (``SystemExit`` too) and returned, never raised, and
        reported as a problem unless ``judge`` is false (the caller judges)."""

        async def guarded() -> _Outcome[T]:
            try:
                http = self.context.http
                if http is not None:
                    http.begin(self.timeout_s)
                return _Outcome(value=await make(), done=True)
            except asyncio.CancelledError as exc:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
                return _Outcome(error=exc, done=True)
            except BaseException as exc:
                return _Outcome(error=exc, done=True)

        if self.stuck:
            self.report.note(
                step, "not tried: the session is still busy with a call that never ended"
            )
            return _Outcome()
        beat = _Heartbeat()
        beat.start()
        task = asyncio.ensure_future(guarded())
        finished, _ = await asyncio.wait({task}, timeout=self.timeout_s)
        if not finished:
            task.cancel()
            stopped, _ = await asyncio.wait({task}, timeout=STOP_GRACE_S)
            why = f"no answer within {self.timeout_s:g} s"
            if not stopped:
                why += ", and it did not stop when cancelled (a swallowed CancelledError?)"
                self.stuck = True
            self.report.problem(step, why)
        blocked = await beat.stop()
        if blocked > self.blocked_s:
            self.report.problem(
                step,
                f"blocked the event loop for {blocked:.2f} s: adapters must not block "
                "(time.sleep, requests, a blocking socket or file: use asyncio, httpx's "
                "async client or asyncio.to_thread)",
            )
        if not finished:
            return _Outcome()
        outcome = task.result()
        if judge and outcome.error is not None:
            self.report.problem(step, _raised(outcome.error))
        return outcome

    async def expect_unsupported(
        self, step: str, what: str, make: Callable[[], Awaitable[object]]
    ) -> None:
        """A call the capabilities do not declare: it must raise NotSupported."""
        outcome = await self.call(step, make, judge=False)
        if not outcome.done:
            return
        if isinstance(outcome.error, NotSupported):
            return
        if outcome.error is None:
            self.report.problem(
                step,
                f"answered, though capabilities.{what} is False: declare it, or raise NotSupported",
            )
        else:
            self.report.problem(
                step, f"{_raised(outcome.error)}; an undeclared operation raises NotSupported"
            )


def _raised(error: BaseException) -> str:
    if isinstance(error, AdapterError):
        return f"failed: {type(error).__name__}: {error.message}"
    if isinstance(error, SystemExit | KeyboardInterrupt):
        return f"raised {describe(error)}: adapters must never exit"
    if isinstance(error, asyncio.CancelledError):
        return (
            "raised CancelledError though nobody cancelled it (an awaited helper task "
            "that was cancelled?)"
        )
    return (
        f"raised {describe(error)}: a failure must be one of sportello_sdk.errors "
        "(ConnectionFailed, ProtocolError…); anything else is reported as a bug"
    )


# --------------------------------------------------------------------------- the checks


def check_fetched(
    report: ContractReport,
    step: str,
    state: object,
    now: datetime,
    *,
    skew: timedelta = timedelta(0),
) -> ChannelState | None:
    """Every check of one fetch's result, into ``report``; the state as the collector
    would store it (``None`` when unusable). Used by ``sportello check-adapter`` too."""
    review = review_state(state, now, skew=skew)
    for problem in review.problems:
        report.problem(step, problem)
    for dropped in review.dropped:
        report.problem(step, f"{dropped} — the collector would drop it")
    for fixed in review.fixed:
        if fixed.kind != "subject":  # a missing subject is normal
            report.problem(step, f"{fixed} — the collector would repair it")
    for problem in contract_problems(review.kept):
        report.problem(step, problem)
    for note in size_notes(review.kept):
        report.note(step, note)
    return review.state


def _check_result(
    report: ContractReport, step: str, result: object, now: datetime, skew: timedelta
) -> ActionResult | None:
    if not isinstance(result, ActionResult):
        report.problem(step, f"returned {type(result).__name__}, not an ActionResult")
        return None
    problem = time_problem(result.done_at, "done_at", now, skew=skew)
    if problem:
        report.problem(step, problem)
    elif result.done_at.utcoffset() != timedelta(0):
        report.problem(step, "done_at is not in UTC")
    if result.external_id is not None and not isinstance(result.external_id, str):
        report.problem(step, "external_id must be a str or None")
    if not isinstance(result.extra, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in result.extra.items()
    ):
        report.problem(step, "extra must be a dict of str to str")
    return result


def _request(kind: ActionKind, target: str, now: datetime) -> ActionRequest:
    key = f"contract-kit-{kind}-1"
    if kind is ActionKind.REPLY:
        return ActionRequest(kind, target, key, text=REPLY_TEXT)
    if kind is ActionKind.ASSIGN:
        return ActionRequest(kind, target, key, assignee="contract-kit")
    if kind is ActionKind.SNOOZE:
        return ActionRequest(kind, target, key, until=now + timedelta(hours=1))
    return ActionRequest(kind, target, key)


async def _actions(
    run: _Runner,
    session: Session,
    capabilities: Capabilities,
    target: str,
    kinds: Iterable[ActionKind],
    skew: timedelta,
) -> None:
    report = run.report
    for kind in kinds:
        step = f"act {kind}"
        request = _request(kind, target, run.context.now())
        if not capabilities.can(kind):
            await run.expect_unsupported(step, str(kind), partial(session.act, request))
            continue
        outcome = await run.call(step, partial(session.act, request))
        if outcome.value is None and outcome.error is None and outcome.done:
            report.problem(step, "returned None, not an ActionResult")
        if outcome.value is None:
            continue
        first = _check_result(report, step, outcome.value, run.context.now(), skew)
        if first is None:
            continue
        if capabilities.keys and kind is ActionKind.REPLY:
            again = await run.call(f"{step} again, same key", partial(session.act, request))
            if again.done and again.error is None and again.value != first:
                report.problem(
                    f"{step} again, same key",
                    "answered differently: with capabilities.keys the channel must do it "
                    "once and answer the second call as the first",
                )
        if capabilities.lookup and kind is ActionKind.REPLY:
            found = await run.call("lookup", partial(session.lookup, request))
            if found.done and found.error is None:
                if found.value is None:
                    report.problem("lookup", "did not find the reply just accepted")
                else:
                    _check_result(report, "lookup", found.value, run.context.now(), skew)


@dataclass(frozen=True, slots=True)
class _Settings:
    memory: Mapping[str, Any] | None
    fetches: int
    actions: bool | Iterable[ActionKind]
    target: str | None
    timeout_s: float
    blocked_s: float
    skew: timedelta


async def check_adapter(
    adapter: type[Adapter],
    options: Mapping[str, Any] | None = None,
    *,
    context: ChannelContext | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    memory: Mapping[str, Any] | None = None,
    fetches: int = 2,
    actions: bool | Iterable[ActionKind] = True,
    target: str | None = None,
    timeout_s: float = TIMEOUT_S,
    blocked_s: float = BLOCKED_S,
    skew: timedelta = timedelta(0),
) -> ContractReport:
    """Run ``adapter`` through the contract; a report of every problem found.

    Give either ``options`` (with ``transport`` and ``clock``: a context is made as
    the collector makes it) or a ready ``context``. ``memory``: what the first
    fetch is handed (default: nothing, as on a channel's first poll). ``actions``:
    False to skip the actions, or the kinds to try; ``target``: the conversation
    they go to (default: the first waiting one). ``timeout_s``: what one call may
    take; ``blocked_s``: how long the loop may stop; ``skew``: how far after the
    clock's now a time may be.

    The adapter runs as under the collector: in a thread of its own, on an event
    loop of its own, so that one that blocks or will not stop cannot hang the test
    (it is reported, and its thread left behind). Never raises for what the adapter
    does.
    """
    prepared = _prepare(
        adapter,
        options,
        context,
        transport,
        clock,
        _Settings(memory, fetches, actions, target, timeout_s, blocked_s, skew),
    )
    if isinstance(prepared, ContractReport):
        return prepared
    worker, overall = prepared
    worker.start()
    finished = await asyncio.to_thread(worker.done.wait, overall)
    return worker.settle(finished, overall)


def run_contract(
    adapter: type[Adapter],
    options: Mapping[str, Any] | None = None,
    *,
    context: ChannelContext | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    memory: Mapping[str, Any] | None = None,
    fetches: int = 2,
    actions: bool | Iterable[ActionKind] = True,
    target: str | None = None,
    timeout_s: float = TIMEOUT_S,
    blocked_s: float = BLOCKED_S,
    skew: timedelta = timedelta(0),
) -> ContractReport:
    """:func:`check_adapter` for synchronous code (a test without an event loop)."""
    prepared = _prepare(
        adapter,
        options,
        context,
        transport,
        clock,
        _Settings(memory, fetches, actions, target, timeout_s, blocked_s, skew),
    )
    if isinstance(prepared, ContractReport):
        return prepared
    worker, overall = prepared
    worker.start()
    return worker.settle(worker.done.wait(overall), overall)


def _prepare(
    adapter: type[Adapter],
    options: Mapping[str, Any] | None,
    context: ChannelContext | None,
    transport: httpx.AsyncBaseTransport | None,
    clock: Clock | None,
    settings: _Settings,
) -> ContractReport | tuple[_Worker, float]:
    """The declaration's checks and the context; the worker that runs the rest (and
    how long it may take in all), or the report when nothing can run."""
    report = ContractReport(_name_of(adapter))
    problems = declaration_problems(adapter)
    for problem in problems:
        report.problem("declaration", problem)
    if problems:
        return report
    for problem in option_problems(adapter.options):
        report.problem("declaration", problem)
    if context is None:
        try:
            context = make_context(
                adapter,
                options,
                clock=clock,
                transport=transport,
                timeout_s=settings.timeout_s,
                channel_id=f"contract-{adapter.name}",
            )
        except AdapterError as exc:
            report.problem("options", f"the options given do not fit: {exc.message}")
            return report
    elif options is not None or transport is not None or clock is not None:
        raise TypeError("give either a context, or options, transport and clock")
    run = _Runner(report, context, timeout_s=settings.timeout_s, blocked_s=settings.blocked_s)
    # Room for every call to time out and be given up on, and then some.
    overall = (settings.fetches + 12) * (settings.timeout_s + STOP_GRACE_S) + 5.0
    return _Worker(report, _check(run, adapter, settings)), overall


class _Worker:
    """A daemon thread running the checks on an event loop of its own."""

    def __init__(self, report: ContractReport, main: Coroutine[Any, Any, None]) -> None:
        self.report = report
        self.main = main
        self.done = threading.Event()
        self.stray: list[str] = []
        self.left_behind = 0

    def start(self) -> None:
        threading.Thread(target=self._run, name="sportello-contract-kit", daemon=True).start()

    def settle(self, finished: bool, overall: float) -> ContractReport:
        """The report, with what happened to the thread itself."""
        report = self.report
        if not finished:
            report.problem(
                "the adapter's thread",
                f"the checks did not end within {overall:g} s in all: the adapter blocks "
                "its thread for good (a blocking call in a loop?); it is left behind",
            )
            return report
        for stray in self.stray:
            report.problem(
                "the adapter's loop", f"one of its tasks raised {stray} outside any call"
            )
        if self.left_behind:
            report.problem(
                "the adapter's loop",
                f"{self.left_behind} of its tasks did not end when cancelled; they are left "
                "behind (a swallowed CancelledError?)",
            )
        return report

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            asyncio.set_event_loop(loop)
            task = loop.create_task(self.main)
            while not task.done():
                try:
                    loop.run_until_complete(task)
                except BaseException as exc:  # SystemExit from a stray task of the adapter
                    if task.done():
                        break
                    self.stray.append(describe(exc))
            self._end(loop)
        finally:
            self.done.set()

    def _end(self, loop: asyncio.AbstractEventLoop) -> None:
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            try:
                loop.run_until_complete(asyncio.wait(pending, timeout=STOP_GRACE_S))
            except BaseException as exc:
                self.stray.append(describe(exc))
        stuck = [task for task in pending if not task.done()]
        self.left_behind = len(stuck)
        if stuck:
            for task in stuck:  # reported already: no "Task was destroyed" at exit
                with contextlib.suppress(AttributeError):
                    task._log_destroy_pending = False  # type: ignore[attr-defined]
            _ABANDONED.append((loop, stuck))  # kept from the garbage collector
            return
        loop.close()


_ABANDONED: list[tuple[asyncio.AbstractEventLoop, list[asyncio.Task[Any]]]] = []


async def _check(run: _Runner, adapter: type[Adapter], settings: _Settings) -> None:
    report = run.report
    session = await _connect(run, adapter, "connect")
    if session is None:
        return
    try:
        conversations = await _fetches(
            run, session, settings.memory, settings.fetches, settings.skew
        )
        await _recheck(run, session, adapter.capabilities, conversations, settings.skew)
        actions = settings.actions
        if actions:
            kinds = ACTION_ORDER if actions is True else tuple(actions)
            first_waiting = next((c.external_id for c in conversations if c.waiting), None)
            chosen = settings.target or first_waiting
            if chosen is None:
                report.note("actions", "not tried: no fetch gave a waiting conversation")
            else:
                await _actions(run, session, adapter.capabilities, chosen, kinds, settings.skew)
                if adapter.capabilities.lookup:
                    await _lookup_unknown(run, session, chosen)
        if not adapter.capabilities.lookup:
            unknown = ActionRequest(ActionKind.REPLY, "contract-kit", "contract-kit-lookup")
            await run.expect_unsupported("lookup", "lookup", lambda: session.lookup(unknown))
    finally:
        await _aclose(run, "aclose", session)
    if run.stuck:
        return
    unused = await _connect(run, adapter, "connect (a second session)")
    if unused is not None:
        await _aclose(run, "aclose (of a session that never fetched)", unused)


async def _aclose(run: _Runner, step: str, session: Session) -> None:
    outcome = await run.call(step, session.aclose, judge=False)
    if outcome.error is not None:
        run.report.problem(step, f"must not raise, and raised {describe(outcome.error)}")


def _name_of(adapter: object) -> str:
    name = getattr(adapter, "name", None)
    if isinstance(name, str) and name:
        return name
    return getattr(adapter, "__qualname__", None) or type(adapter).__name__


async def _connect(run: _Runner, adapter: type[Adapter], step: str) -> Session | None:
    context = run.context
    outcome = await run.call(step, lambda: adapter.connect(context))
    session = outcome.value
    if outcome.done and outcome.error is None and not isinstance(session, Session):
        run.report.problem(step, f"returned {type(session).__name__}, not a Session")
        return None
    return session


async def _fetches(
    run: _Runner,
    session: Session,
    memory: Mapping[str, Any] | None,
    fetches: int,
    skew: timedelta,
) -> list[Conversation]:
    handed: Mapping[str, Any] = dict(memory or {})
    seen: list[Conversation] = []
    for number in range(1, fetches + 1):
        step = f"fetch {number}"
        given = dict(handed)
        outcome = await run.call(step, partial(session.fetch, given))
        if not outcome.done or outcome.error is not None:
            continue
        state = check_fetched(run.report, step, outcome.value, run.context.now(), skew=skew)
        if state is None:
            continue
        run.report.states.append(state)
        seen = list(state.conversations)
        if state.memory is not None:
            handed = state.memory
    return seen


async def _recheck(
    run: _Runner,
    session: Session,
    capabilities: Capabilities,
    conversations: list[Conversation],
    skew: timedelta,
) -> None:
    if not capabilities.recheck:
        await run.expect_unsupported("recheck", "recheck", lambda: session.recheck("contract-kit"))
        return
    if not conversations:
        run.report.note("recheck", "not tried: no fetch gave a conversation")
        return
    first = conversations[0]
    outcome = await run.call("recheck", lambda: session.recheck(first.external_id))
    if not outcome.done or outcome.error is not None or outcome.value is None:
        return
    value: object = outcome.value
    if not isinstance(value, Conversation):
        run.report.problem("recheck", f"returned {type(value).__name__}, not a Conversation")
        return
    if value.external_id != first.external_id:
        run.report.problem("recheck", "returned another conversation than the one asked for")
    checked = sense_check((value,), run.context.now(), skew.total_seconds())
    for dropped in checked.dropped:
        run.report.problem("recheck", f"{dropped} — the collector would drop it")
    for fixed in checked.fixed:
        if fixed.kind != "subject":
            run.report.problem("recheck", f"{fixed} — the collector would repair it")


async def _lookup_unknown(run: _Runner, session: Session, target: str) -> None:
    never = ActionRequest(ActionKind.REPLY, target, "contract-kit-never-sent", text=REPLY_TEXT)
    outcome = await run.call("lookup (a key never sent)", lambda: session.lookup(never))
    if outcome.done and outcome.error is None and outcome.value is not None:
        run.report.problem(
            "lookup (a key never sent)", "found an action that was never sent: answer None"
        )
