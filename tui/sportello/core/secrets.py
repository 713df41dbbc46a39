"""Secret references in config.yaml and their resolution.

A secret option never holds the secret itself, only a reference to it:

- ``${env:NAME}``: the environment variable ``NAME``
- ``${keyring:service/user}``: the system keyring (``keyring.get_password``)
- ``${file:path}``: the first line of a file readable only by its owner (``~`` expanded)

Every message here names the reference, never the secret.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sportello.core.settings import Channel, SecretRef
from sportello_sdk.base import Adapter
from sportello_sdk.secret import Secret

SCHEMES = ("env", "keyring", "file")
MAX_SECRET_FILE_BYTES = 64 * 1024

_REF = re.compile(r"\$\{(?P<scheme>[a-z]+):(?P<target>[^{}]+)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SecretError(Exception):
    """A reference could not be resolved. The message names the reference only."""


def parse_ref(value: object) -> SecretRef | None:
    """The reference written in ``value``, or ``None`` if it is not exactly a valid one."""
    if not isinstance(value, str) or reference_problem(value) is not None:
        return None
    match = _REF.fullmatch(value.strip())
    assert match is not None  # reference_problem checked it
    return SecretRef(scheme=match["scheme"], target=match["target"].strip())


def reference_problem(value: str) -> str | None:
    """Why ``value``, which looks like a reference (``${…}``), is not a valid one.

    Returns ``None`` for a valid reference. The message never repeats ``value``.
    """
    match = _REF.fullmatch(value.strip())
    if match is None:
        return "is not a reference: write ${env:NAME}, ${keyring:service/user} or ${file:path}"
    scheme, target = match["scheme"], match["target"].strip()
    if scheme not in SCHEMES:
        return f"unknown reference kind {scheme!r}: use env, keyring or file"
    if scheme == "env" and _ENV_NAME.fullmatch(target) is None:
        return "${env:NAME} needs a variable name of letters, digits and _"
    if scheme == "keyring":
        service, _, user = target.partition("/")
        if not service.strip() or not user.strip():
            return "${keyring:service/user} needs both a service and a user"
    return None


def looks_like_ref(value: object) -> bool:
    """Whether ``value`` is meant as a reference (starts with ``${``), valid or not."""
    return isinstance(value, str) and value.strip().startswith("${")


def resolve(ref: SecretRef, env: Mapping[str, str] | None = None) -> str:
    """The secret ``ref`` points to, or ``SecretError``."""
    if ref.scheme == "env":
        return _resolve_env(ref, os.environ if env is None else env)
    if ref.scheme == "keyring":
        return _resolve_keyring(ref)
    if ref.scheme == "file":
        return _resolve_file(ref)
    raise SecretError(f"{ref}: unknown reference kind {ref.scheme!r}")


def resolve_options(
    channel: Channel,
    adapter_cls: type[Adapter] | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The channel's options with every secret reference replaced by its secret (a
    :class:`~sportello_sdk.secret.Secret`, which never shows itself).

    ``adapter_cls``, when given, limits resolution to the options it declares
    secret; anything else is passed on unchanged. Raises ``SecretError`` naming
    the channel, the option and the reference.
    """
    secret_names: set[str] | None = None
    if adapter_cls is not None:
        secret_names = {option.name for option in adapter_cls.options if option.secret}
    resolved: dict[str, Any] = {}
    for name, value in channel.options.items():
        if isinstance(value, SecretRef) and (secret_names is None or name in secret_names):
            try:
                resolved[name] = Secret(resolve(value, env))
            except SecretError as exc:
                raise SecretError(f"channel {channel.id!r} · options.{name}: {exc}") from None
        else:
            resolved[name] = value
    return resolved


def _resolve_env(ref: SecretRef, env: Mapping[str, str]) -> str:
    value = env.get(ref.target)
    if value is None:
        raise SecretError(f"{ref}: the environment variable {ref.target} is not set")
    if not value:
        raise SecretError(f"{ref}: the environment variable {ref.target} is empty")
    return value


def _resolve_keyring(ref: SecretRef) -> str:
    service, _, user = ref.target.partition("/")
    try:
        import keyring  # imported lazily: its backends are slow to load and may be missing
    except ImportError:
        raise SecretError(f"{ref}: the keyring package is not installed") from None
    try:
        value = keyring.get_password(service.strip(), user.strip())
    except Exception as exc:  # any backend may fail its own way (no D-Bus, locked, …)
        detail = str(exc).splitlines()[0][:160] if str(exc) else ""
        reason = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        raise SecretError(
            f"{ref}: no usable keyring on this machine ({reason}); "
            "on a headless server use ${env:…} or ${file:…} instead"
        ) from None
    if value is None:
        raise SecretError(
            f"{ref}: no entry in the keyring; add it with: keyring set {service.strip()} "
            f"{user.strip()}"
        )
    return str(value)


def _resolve_file(ref: SecretRef) -> str:
    path = Path(ref.target).expanduser()
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SecretError(f"{ref}: no such file") from None
    except OSError as exc:
        raise SecretError(f"{ref}: cannot read the file ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise SecretError(f"{ref}: not a regular file")
    if os.name == "posix" and info.st_mode & 0o077:
        raise SecretError(f"{ref}: other users can read or change this file; run: chmod 600 {path}")
    if info.st_size > MAX_SECRET_FILE_BYTES:
        raise SecretError(f"{ref}: the file is too large to hold a secret")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise SecretError(f"{ref}: cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise SecretError(f"{ref}: the file is not UTF-8 text") from None
    value = text.rstrip("\r\n")
    if not value:
        raise SecretError(f"{ref}: the file is empty")
    return value
