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

- the declaration (:func:`sportello_sdk.checks.declaration.declaration_problems`
  and :func:`~sportello_sdk.checks.declaration.option_problems`), and that the
  options given fit it;
- ``connect`` gives a :class:`~sportello_sdk.base.Session`;
- ``fetch`` twice, the second time with the memory the first one returned: each
  result passes the collector's own checks
  (:func:`sportello_sdk.checks.fetch.review_state`: nothing would be dropped or
  repaired), every time is aware, in UTC and not after
  the clock's now (``skew``: zero by default, as the clock and the mock are yours);
- ``recheck``, ``lookup`` and each action honour ``capabilities``: what is
  declared works (a result with a UTC time; with ``keys``, the same key twice
  answers the same; with ``lookup``, the action just made is found), what is not
  raises :class:`~sportello_sdk.errors.NotSupported`;
- ``aclose`` does not raise (also on a session that never fetched);
- nothing blocks the event loop for ``blocked_s`` or more (a heartbeat runs
  beside every call), every call ends within ``timeout_s``, and only
  :mod:`sportello_sdk.errors` are raised (never ``SystemExit``, a bare
  ``Exception`` or a ``CancelledError`` nobody asked for).

Every call goes through a :class:`~sportello_sdk.host.ChannelHost`, the collector's
own isolation: the adapter runs in a thread and on an event loop of its own, what it
must not do is caught there, and a call that will not stop is abandoned (its thread
left behind) after the host's grace; nothing more is tried then.

Actions are sent to the first waiting conversation (or ``target``): run the kit
against a mock, never against a real channel (``sportello check-adapter`` fetches
only).

The kit imports neither pytest nor the application; :mod:`httpx` only when
``transport`` is given.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sportello_sdk.base import Adapter, ChannelContext, Clock, Session, channel_logger, utc_now
from sportello_sdk.checks.contract import contract_problems, size_notes, time_problem
from sportello_sdk.checks.conversations import sense_check
from sportello_sdk.checks.declaration import declaration_problems, option_problems
from sportello_sdk.checks.fetch import review_state
from sportello_sdk.errors import AdapterError, NotSupported, describe
from sportello_sdk.host import AdapterFault, ChannelHost, Op, blocked_words
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

BLOCKED_S = 0.25  # a loop stopped this long during a call is reported (the host's blocked_s)
TIMEOUT_S = 10.0  # what one call may take
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
    error: BaseException | None = None  # an AdapterError, or what no adapter may raise
    done: bool = False  # the call ended (not: it timed out, or was not tried)


class _Runner:
    """The adapter's calls, each through the channel's host as under the collector,
    and what each did that adapters must not, into the report."""

    def __init__(self, report: ContractReport, host: ChannelHost, *, timeout_s: float) -> None:
        self.report = report
        self.host = host
        self.context = host.context
        self.timeout_s = timeout_s
        self.stuck = False  # a call did not end when cancelled: nothing more is tried

    async def call(
        self, step: str, op: Op[T], *, judge: bool = True, ends_session: bool = False
    ) -> _Outcome[T]:
        """``host.call(op)``: whatever the adapter raises is returned, never raised,
        and reported as a problem unless ``judge`` is false (the caller judges)."""
        if self.stuck:
            self.report.note(
                step, "not tried: the session is still busy with a call that never ended"
            )
            return _Outcome()
        outcome: _Outcome[T]
        try:
            value = await self.host.call(op, timeout_s=self.timeout_s, ends_session=ends_session)
        except AdapterError as exc:
            outcome = _Outcome(error=exc, done=True)
        except AdapterFault as fault:
            outcome = await self._fault(step, fault)
        else:
            outcome = _Outcome(value=value, done=True)
        for notice in self.host.notices:
            self.report.problem(step, self._worded(notice))
        if judge and outcome.error is not None:
            self.report.problem(step, _raised(outcome.error))
        return outcome

    async def _fault(self, step: str, fault: AdapterFault) -> _Outcome[Any]:
        if fault.raised is not None:
            return _Outcome(error=fault.raised, done=True)
        message = fault.message
        if fault.timed_out and not await self.host.settle():
            message += ", and it did not stop when cancelled (a swallowed CancelledError?)"
            self.stuck = True
        self.report.problem(step, message)
        return _Outcome()

    def _worded(self, notice: str) -> str:
        """A host's notice; a blocked loop with what to do instead."""
        blocked = self.host.blocked_for
        if notice != blocked_words(blocked):
            return notice
        return (
            f"blocked the event loop for {blocked:.2f} s: adapters must not block "
            "(time.sleep, requests, a blocking socket or file: use asyncio, httpx's "
            "async client or asyncio.to_thread)"
        )

    async def expect_unsupported(self, step: str, what: str, op: Op[object]) -> None:
        """A call the capabilities do not declare: it must raise NotSupported."""
        outcome = await self.call(step, op, judge=False)
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


# What each call does with the session (in the adapter's thread).


async def _connected(session: Session) -> None:
    """Nothing: the host connects before a call when it has no session."""


async def _fetch(session: Session, memory: Mapping[str, Any]) -> ChannelState:
    return await session.fetch(memory)


async def _act(session: Session, request: ActionRequest) -> ActionResult:
    return await session.act(request)


async def _lookup(session: Session, request: ActionRequest) -> ActionResult | None:
    return await session.lookup(request)


async def _recheck(session: Session, external_id: str) -> Conversation | None:
    return await session.recheck(external_id)


async def _aclose(session: Session) -> None:
    await session.aclose()


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
    capabilities: Capabilities,
    target: str,
    kinds: Iterable[ActionKind],
    skew: timedelta,
) -> None:
    report = run.report
    for kind in kinds:
        step = f"act {kind}"
        request = _request(kind, target, run.context.now())
        act = partial(_act, request=request)
        if not capabilities.can(kind):
            await run.expect_unsupported(step, str(kind), act)
            continue
        outcome = await run.call(step, act)
        if outcome.value is None and outcome.error is None and outcome.done:
            report.problem(step, "returned None, not an ActionResult")
        if outcome.value is None:
            continue
        first = _check_result(report, step, outcome.value, run.context.now(), skew)
        if first is None:
            continue
        if capabilities.keys and kind is ActionKind.REPLY:
            again = await run.call(f"{step} again, same key", act)
            if again.done and again.error is None and again.value != first:
                report.problem(
                    f"{step} again, same key",
                    "answered differently: with capabilities.keys the channel must do it "
                    "once and answer the second call as the first",
                )
        if capabilities.lookup and kind is ActionKind.REPLY:
            found = await run.call("lookup", partial(_lookup, request=request))
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

    The adapter runs as under the collector, through a
    :class:`~sportello_sdk.host.ChannelHost`: in a thread of its own, on an event
    loop of its own, so that one that blocks or will not stop cannot hang the test
    (it is reported, and its thread left behind). Never raises for what the adapter
    does.
    """
    settings = _Settings(memory, fetches, actions, target, timeout_s, blocked_s, skew)
    prepared = _prepare(adapter, options, context, transport, clock, settings)
    if isinstance(prepared, ContractReport):
        return prepared
    report, ready = prepared
    host = ChannelHost(ready.channel_id, adapter, ready, blocked_s=blocked_s)
    run = _Runner(report, host, timeout_s=timeout_s)
    try:
        await _check(run, adapter, settings)
    finally:
        stopped = await host.close()
    if not stopped and not run.stuck:  # a stuck call was reported already
        report.problem("closing", "did not stop when asked: its thread is left behind")
    return report


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
    """:func:`check_adapter` for synchronous code (a test without an event loop;
    called where a loop runs, the check runs on a loop of its own in another thread)."""
    main = check_adapter(
        adapter,
        options,
        context=context,
        transport=transport,
        clock=clock,
        memory=memory,
        fetches=fetches,
        actions=actions,
        target=target,
        timeout_s=timeout_s,
        blocked_s=blocked_s,
        skew=skew,
    )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main)
    with ThreadPoolExecutor(1, thread_name_prefix="sportello-contract-kit") as thread:
        return thread.submit(asyncio.run, main).result()


def _prepare(
    adapter: type[Adapter],
    options: Mapping[str, Any] | None,
    context: ChannelContext | None,
    transport: httpx.AsyncBaseTransport | None,
    clock: Clock | None,
    settings: _Settings,
) -> ContractReport | tuple[ContractReport, ChannelContext]:
    """The declaration's checks and the context to run the rest in, or the report
    when nothing can run."""
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
    return report, context


async def _check(run: _Runner, adapter: type[Adapter], settings: _Settings) -> None:
    report = run.report
    if not await _connect(run, "connect"):
        return
    try:
        conversations = await _fetches(run, settings.memory, settings.fetches, settings.skew)
        await _rechecks(run, adapter.capabilities, conversations, settings.skew)
        actions = settings.actions
        if actions:
            kinds = ACTION_ORDER if actions is True else tuple(actions)
            first_waiting = next((c.external_id for c in conversations if c.waiting), None)
            chosen = settings.target or first_waiting
            if chosen is None:
                report.note("actions", "not tried: no fetch gave a waiting conversation")
            else:
                await _actions(run, adapter.capabilities, chosen, kinds, settings.skew)
                if adapter.capabilities.lookup:
                    await _lookup_unknown(run, chosen)
        if not adapter.capabilities.lookup:
            unknown = ActionRequest(ActionKind.REPLY, "contract-kit", "contract-kit-lookup")
            await run.expect_unsupported("lookup", "lookup", partial(_lookup, request=unknown))
    finally:
        await _closes(run, "aclose")
    if run.stuck:
        return
    if await _connect(run, "connect (a second session)"):
        await _closes(run, "aclose (of a session that never fetched)")


async def _closes(run: _Runner, step: str) -> None:
    """``aclose``, after which the host forgets the session (the next call connects)."""
    outcome = await run.call(step, _aclose, judge=False, ends_session=True)
    if outcome.error is not None:
        run.report.problem(step, f"must not raise, and raised {describe(outcome.error)}")


def _name_of(adapter: object) -> str:
    name = getattr(adapter, "name", None)
    if isinstance(name, str) and name:
        return name
    return getattr(adapter, "__qualname__", None) or type(adapter).__name__


async def _connect(run: _Runner, step: str) -> bool:
    """A session: the host connects (``connect() must give a Session``, it checks)."""
    outcome = await run.call(step, _connected)
    return outcome.done and outcome.error is None


async def _fetches(
    run: _Runner,
    memory: Mapping[str, Any] | None,
    fetches: int,
    skew: timedelta,
) -> list[Conversation]:
    handed: Mapping[str, Any] = dict(memory or {})
    seen: list[Conversation] = []
    for number in range(1, fetches + 1):
        step = f"fetch {number}"
        outcome = await run.call(step, partial(_fetch, memory=dict(handed)))
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


async def _rechecks(
    run: _Runner,
    capabilities: Capabilities,
    conversations: list[Conversation],
    skew: timedelta,
) -> None:
    if not capabilities.recheck:
        unknown = partial(_recheck, external_id="contract-kit")
        await run.expect_unsupported("recheck", "recheck", unknown)
        return
    if not conversations:
        run.report.note("recheck", "not tried: no fetch gave a conversation")
        return
    first = conversations[0]
    outcome = await run.call("recheck", partial(_recheck, external_id=first.external_id))
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


async def _lookup_unknown(run: _Runner, target: str) -> None:
    never = ActionRequest(ActionKind.REPLY, target, "contract-kit-never-sent", text=REPLY_TEXT)
    outcome = await run.call("lookup (a key never sent)", partial(_lookup, request=never))
    if outcome.done and outcome.error is None and outcome.value is not None:
        run.report.problem(
            "lookup (a key never sent)", "found an action that was never sent: answer None"
        )
