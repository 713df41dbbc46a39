"""Secrets blanked from any text on its way out (logs, errors, the store, the CLI).

This is the process's one redaction. Every :class:`~sportello_sdk.secret.Secret`
registers its value here when it is made (:func:`register`); :func:`redact`
then replaces with :data:`MASK`, for every registered secret:

- the value itself, in any case (``S3CRET``, ``s3cret``);
- its URL-encoded forms (``quote(v, safe="")``, ``quote(v)``, ``quote_plus(v)``,
  percent-hex in either case, any mix of encoded and plain characters);
- its JSON- or ``repr``-escaped form (``\\"``, ``\\\\``, ``\\/``, ``\\u00e9``);
- its base64 forms, standard and URL-safe, with and without padding;
- any base64-looking run of 8 characters or more that decodes (padding or not)
  to bytes holding the secret or a part of it: ``Basic dXNlcjpzM2NyM3Q=``
  (``user:s3cr3t``) is blanked whole;
- a part of it: any run of 8 characters or more of a secret longer than 8, in
  any case, so a token cut short in a message (``123456789:AAH-tok…``) is blanked.

A secret of 1 to 3 characters (a PIN) is blanked only as a whole token, never
inside a longer run of letters and digits: the PIN ``123`` is blanked in
``pin 123`` but not in ``1234``, nor ``ab`` in ``about``. A value made only of
spaces is ignored; a value with spaces around it is registered trimmed too.

:func:`redact` never raises, is safe from any thread (adapters run in their own)
and costs one check when nothing is registered. :class:`RedactingFilter` applies
it to log records; :func:`install_log_redaction` puts it before every log
handler of the process, including handlers added later.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

MASK = "•••"
SHORT = 4
"""A secret shorter than this is blanked only as a whole token."""
PART = 8
"""A run of this many characters of a longer secret is blanked (a truncated token)."""
BASE64_RUN = 8
"""Base64-looking runs at least this long are decoded and checked."""

_lock = threading.Lock()  # held by register() and the log set-up only, never by redact()
_values: set[str] = set()
_exact: tuple[str, ...] = ()
"""The registered values, longest first: what is blanked should the patterns fail."""

_ALNUM_BEFORE = r"(?<![^\W_])"  # not preceded by a letter or digit
_ALNUM_AFTER = r"(?![^\W_])"  # not followed by a letter or digit
_BYTES_ALNUM_BEFORE = rb"(?<![A-Za-z0-9])"
_BYTES_ALNUM_AFTER = rb"(?![A-Za-z0-9])"
_BASE64_RUN = re.compile(rf"[A-Za-z0-9+/_-]{{{BASE64_RUN},}}=*")
_URLSAFE_TO_STD = str.maketrans("-_", "+/")
_VERDICTS_KEPT = 4096
_CONTROL_BYTES = re.compile(rb"[\x00-\x1f\x7f]")
_MASKS = re.compile(f"(?:{re.escape(MASK)}){{2,}}")


@dataclass(frozen=True, slots=True)
class _State:
    """Everything :func:`redact` needs, built once per new secret and then only read."""

    whole: re.Pattern[str]
    """Each secret's whole value, encoded or not, lowered (matched on lowered text:
    as fast as a plain match, and every case at once)."""
    grams: frozenset[str]
    """Lowered PART-grams of the long secrets."""
    bytes_whole: tuple[bytes, ...]
    """Lowered UTF-8 of the secrets of SHORT characters or more, for decoded base64."""
    bytes_grams: frozenset[bytes]
    bytes_short: re.Pattern[bytes] | None
    """The short secrets as whole tokens, for decoded base64 that is text."""
    base64_verdicts: dict[str, int] = field(default_factory=dict)
    """Runs already decoded (log lines repeat the same words), bounded: where the
    base64 holding a secret starts in the run, or -1."""


_state: _State | None = None


# ------------------------------------------------------------------ registering


def register(value: str) -> None:
    """Blank ``value`` (and each form of it) from now on, in every thread."""
    global _state, _exact
    if not isinstance(value, str) or not value.strip():
        return
    values = {value, value.strip()}
    with _lock:
        if values <= _values:
            return
        try:
            state: _State | None = _build(_values | values)
        except Exception:  # never in the way of making a Secret: exact matches only
            state = None
        _values.update(values)
        _exact = tuple(sorted(_values, key=lambda v: (-len(v), v)))
        _state = state


def forget_all() -> None:
    """Forget every registered secret (for tests)."""
    global _state, _exact
    with _lock:
        _values.clear()
        _exact = ()
        _state = None


def registered() -> bool:
    """Whether any secret is registered (when not, :func:`redact` changes nothing)."""
    return bool(_exact)


def _build(values: Iterable[str]) -> _State:
    ordered = sorted(set(values), key=lambda v: (-len(v), v))
    branches = [_whole_pattern(value) for value in ordered]
    grams: set[str] = set()
    bytes_grams: set[bytes] = set()
    for value in ordered:
        if len(value) <= PART:
            continue
        low = _lower(value)
        raw = low.encode("utf-8")
        grams.update(low[i : i + PART] for i in range(len(low) - PART + 1))
        for i in range(len(raw) - PART + 1):
            bytes_grams.add(raw[i : i + PART])
    shorts = [v.encode("utf-8") for v in ordered if len(v) < SHORT]
    bytes_short = None
    if shorts:
        bytes_short = re.compile(b"|".join(_bytes_bounded(s) for s in shorts), re.IGNORECASE)
    return _State(
        whole=re.compile("|".join(branches)),
        grams=frozenset(grams),
        bytes_whole=tuple(_lower(v).encode("utf-8") for v in ordered if len(v) >= SHORT),
        bytes_grams=frozenset(bytes_grams),
        bytes_short=bytes_short,
    )


def _char_pattern(char: str) -> str:
    """``char`` (lowered) as written plain, percent-encoded, JSON- or repr-escaped,
    all lowered."""
    forms = {re.escape(char)}
    if not (char.isascii() and char.isalnum()):
        forms.add("".join(f"%{byte:02x}" for byte in char.encode("utf-8")))
        for ascii_only in (True, False):
            forms.add(re.escape(json.dumps(char, ensure_ascii=ascii_only)[1:-1]))
        forms.add(re.escape(repr(char)[1:-1]))
        if char == " ":
            forms.add(r"\+")
        elif char == "/":
            forms.add(r"\\/")
        elif char == "'":
            forms.add(r"\\'")
    if len(forms) == 1:
        return forms.pop()
    return "(?:" + "|".join(sorted(forms, key=lambda f: (-len(f), f))) + ")"


def _base64_forms(value: str) -> list[str]:
    raw = value.encode("utf-8")
    forms: set[str] = set()
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        forms.update((text, text.rstrip("=")))
    forms.discard("")
    return sorted(forms, key=lambda f: (-len(f), f))


def _whole_pattern(value: str) -> str:
    """One branch: ``value`` plain or URL/JSON-escaped, or its base64 forms (lowered)."""
    plain = "".join(_char_pattern(char) for char in _lower(value))
    forms = [(plain, value)]
    forms += [(re.escape(_lower(form)), form) for form in _base64_forms(value)]
    if len(value) >= SHORT:
        return "|".join(pattern for pattern, _ in forms)
    return "|".join(_bounded(pattern, shown) for pattern, shown in forms)


def _bounded(pattern: str, shown: str) -> str:
    """``pattern`` only where it is not inside a longer run of letters and digits."""
    before = _ALNUM_BEFORE if shown[0].isalnum() else ""
    after = _ALNUM_AFTER if shown[-1].isalnum() else ""
    return f"{before}(?:{pattern}){after}"


def _bytes_bounded(value: bytes) -> bytes:
    before = _BYTES_ALNUM_BEFORE if value[:1].isalnum() else b""
    after = _BYTES_ALNUM_AFTER if value[-1:].isalnum() else b""
    return before + re.escape(value) + after


def _lower(text: str) -> str:
    """``text.lower()``, one character for one (positions stay where they were)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


# ------------------------------------------------------------------ redacting


def redact(text: str) -> str:
    """``text`` with every form of every registered secret replaced by :data:`MASK`.

    Never raises: should anything go wrong, the text comes back with at least the
    exact values blanked, or as :data:`MASK` alone.
    """
    state = _state
    if state is None:
        if not _exact:
            return text if isinstance(text, str) else _as_text(text)
        return _fallback(text)
    try:
        if not isinstance(text, str):
            text = _as_text(text)
        if not text:
            return text
        blanked = text
        if len(blanked) >= BASE64_RUN:  # first: a run is blanked whole, not around a form
            blanked = _BASE64_RUN.sub(lambda m: _blank_base64(m, state), blanked)
        low = _lower(blanked)
        spans = [match.span() for match in state.whole.finditer(low)]
        if state.grams and len(low) >= PART:
            spans += _part_spans(low, state)
        if spans:
            blanked = _splice(blanked, spans)
        if blanked != text:
            blanked = _MASKS.sub(MASK, blanked)
        return blanked
    except Exception:
        return _fallback(text)


def redact_data(value: Any) -> Any:
    """``value`` (JSON-like data) with every text in it, keys too, redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_data(item) for item in value)
    return value


def _as_text(value: object) -> str:
    try:
        return str(value)
    except Exception:
        return MASK


def _fallback(text: object) -> str:
    try:
        out = text if isinstance(text, str) else _as_text(text)
        for value in _exact:
            out = out.replace(value, MASK)
        return out
    except Exception:
        return MASK


def _part_spans(low: str, state: _State) -> list[tuple[int, int]]:
    """Where ``low`` (lowered text) holds PART or more characters of a long secret:
    every window of PART that is a part, so a longer run is covered to its end."""
    grams = state.grams
    return [
        (start, start + PART)
        for start in range(len(low) - PART + 1)
        if low[start : start + PART] in grams
    ]


def _splice(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span (overlapping, touching or not) replaced by one MASK."""
    out: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        if start > pos or not out:
            out.append(text[pos:start])
            out.append(MASK)
        pos = max(pos, end)
    out.append(text[pos:])
    return "".join(out)


def _blank_base64(match: re.Match[str], state: _State) -> str:
    """The run, or :data:`MASK` when it decodes to bytes that hold a secret."""
    run = match.group()
    verdicts = state.base64_verdicts
    known = verdicts.get(run)
    if known is None:
        if len(verdicts) >= _VERDICTS_KEPT:
            verdicts.clear()
        known = verdicts[run] = _base64_secret_at(run, state)
    return run if known < 0 else run[:known] + MASK


def _base64_secret_at(run: str, state: _State) -> int:
    """Where the base64 that decodes to a secret starts in ``run``; -1 if none does."""
    padded = run.endswith("=")
    core = run.rstrip("=").translate(_URLSAFE_TO_STD).encode("ascii")
    # A run may start mid-quantum (``Basic%20dXNl…`` gives ``20dXNl…``): try each
    # start, or only the one its padding points at.
    skips = (len(run) % 4,) if padded else range(4)
    for skip in skips:
        chunk = core[skip:]
        extra = len(chunk) % 4
        if extra == 1:
            chunk = chunk[:-1]
        elif extra:
            chunk += b"=" * (4 - extra)
        if len(chunk) < 4:
            continue
        try:
            data = binascii.a2b_base64(chunk)
        except (binascii.Error, ValueError):
            continue
        if _holds_secret(data, state):
            return skip
    return -1


def _holds_secret(data: bytes, state: _State) -> bool:
    low = data.lower()
    for secret in state.bytes_whole:
        if secret in low:
            return True
    if state.bytes_grams and len(low) >= PART:
        grams = state.bytes_grams
        for i in range(len(low) - PART + 1):
            if low[i : i + PART] in grams:
                return True
    if state.bytes_short is None or not _is_text(data):
        return False  # a short secret counts only in decoded text, as a whole token
    return state.bytes_short.search(data) is not None


def _is_text(data: bytes) -> bool:
    if data.isascii():
        return _CONTROL_BYTES.search(data) is None
    try:
        return data.decode("utf-8").isprintable()
    except UnicodeDecodeError:
        return False


# ------------------------------------------------------------------ logging

_REDACTED = "_sportello_redacted"
_PLAIN_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "asctime",
    _REDACTED,
}
"""A record's own attributes, left as they are (the logger's name, the file, the
level); every other text on a record (``extra=``, ``message``) is redacted."""


def redact_record(record: logging.LogRecord) -> None:
    """Blank the secrets of a log record in place: its message (formatted once,
    then ``msg`` is that text and ``args`` ``None``), its exception text, its
    stack and its extra texts. Never raises. A record is done once."""
    if not _exact:
        return
    if getattr(record, _REDACTED, False):
        return
    try:
        _redact_record(record)
    except Exception:
        record.msg, record.args = MASK, None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
    setattr(record, _REDACTED, True)


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # an argument that does not fit: no "--- Logging error ---" dump
        message = f"{_as_text(record.msg)} (arguments that did not format: {_safe_repr(record)})"
    record.msg = redact(message)
    record.args = None
    if record.exc_info:
        text = record.exc_text or _format_exception(record)
        record.exc_text = redact(text)
        if record.exc_text != text:  # the exception itself would say it again
            record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    for name, value in list(vars(record).items()):
        if isinstance(value, str) and name not in _PLAIN_ATTRIBUTES:
            setattr(record, name, redact(value))


def _safe_repr(record: logging.LogRecord) -> str:
    try:
        return repr(record.args)
    except Exception:
        return "?"


def _format_exception(record: logging.LogRecord) -> str:
    assert record.exc_info
    try:
        return logging.Formatter().formatException(record.exc_info)
    except Exception:
        return "(the exception could not be formatted)"


class RedactingFilter(logging.Filter):
    """Redacts every record a handler gets (:func:`redact_record`); drops none."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


LOG_FILTER = RedactingFilter()
_original_handle: Callable[[logging.Handler, logging.LogRecord], Any] | None = None


def install_log_redaction() -> None:
    """Redact every log record before any handler of the process sees it.

    Adds :data:`LOG_FILTER` to the root logger's handlers and wraps
    ``logging.Handler.handle``, so that a handler added later (an adapter's own on
    ``sportello.channel.<id>``, a library's, ``logging.lastResort``) redacts too.
    Idempotent.
    """
    global _original_handle
    with _lock:
        if _original_handle is None:
            original = logging.Handler.handle
            _original_handle = original

            def handle(self: logging.Handler, record: logging.LogRecord) -> Any:
                redact_record(record)
                return original(self, record)

            handle.__doc__ = original.__doc__
            logging.Handler.handle = handle  # type: ignore[method-assign]
    for handler in logging.getLogger().handlers:
        if LOG_FILTER not in handler.filters:
            handler.addFilter(LOG_FILTER)


def log_redaction_installed() -> bool:
    return _original_handle is not None


__all__ = [
    "LOG_FILTER",
    "MASK",
    "RedactingFilter",
    "forget_all",
    "install_log_redaction",
    "redact",
    "redact_data",
    "redact_record",
    "register",
    "registered",
]
