"""Secret references: parsing, resolving, and never showing the secret."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

from sportello.core import secrets
from sportello.core.secrets import (
    SecretError,
    parse_ref,
    reference_problem,
    resolve,
    resolve_options,
)
from sportello.core.settings import Channel, SecretRef
from sportello_sdk import Option
from sportello_sdk.secret import Secret
from tests.engine_fakes import DeclarationOnly

SECRET = "s3cr3t-V4lue"


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("${env:SHOP_TOKEN}", SecretRef("env", "SHOP_TOKEN")),
        ("${env:_x9}", SecretRef("env", "_x9")),
        ("  ${env:TOKEN}  ", SecretRef("env", "TOKEN")),
        ("${keyring:sportello/shop-mail}", SecretRef("keyring", "sportello/shop-mail")),
        ("${keyring:my service/me@example.it}", SecretRef("keyring", "my service/me@example.it")),
        ("${file:~/.config/sportello/token}", SecretRef("file", "~/.config/sportello/token")),
        ("${file:/run/secrets/token}", SecretRef("file", "/run/secrets/token")),
        ("${file:relative/token}", SecretRef("file", "relative/token")),
    ],
)
def test_parse_valid_references(text: str, ref: SecretRef) -> None:
    assert parse_ref(text) == ref
    assert reference_problem(text) is None


@pytest.mark.parametrize(
    "text",
    [
        SECRET,
        "",
        "$env:TOKEN",
        "{env:TOKEN}",
        "${env:TOKEN",
        "${env:}",
        "${env:MY-TOKEN}",
        "${env:1ABC}",
        "${ENV:TOKEN}",
        "${vault:x/y}",
        "${keyring:service}",
        "${keyring:service/}",
        "${keyring:/user}",
        "${env:A}${env:B}",
        "prefix ${env:TOKEN}",
        "${env:TOKEN} suffix",
    ],
)
def test_parse_invalid_references(text: str) -> None:
    assert parse_ref(text) is None


@pytest.mark.parametrize("value", [None, 12345, ["${env:X}"], {"env": "X"}, b"${env:X}"])
def test_parse_non_text_is_not_a_reference(value: object) -> None:
    assert parse_ref(value) is None


def test_reference_problems_never_repeat_the_value() -> None:
    for text in ("${nope:" + SECRET + "}", "${env:" + SECRET + "-x}", "${" + SECRET):
        problem = reference_problem(text)
        assert problem is not None
        assert SECRET not in problem


def test_str_of_a_reference_is_the_reference() -> None:
    assert str(SecretRef("keyring", "sportello/shop")) == "${keyring:sportello/shop}"


def test_looks_like_ref() -> None:
    assert secrets.looks_like_ref(" ${env:X")
    assert not secrets.looks_like_ref(SECRET)
    assert not secrets.looks_like_ref(3)


# ── env ────────────────────────────────────────────────────────────────────────


def test_resolve_env() -> None:
    ref = SecretRef("env", "SHOP_TOKEN")
    assert resolve(ref, {"SHOP_TOKEN": SECRET}) == SECRET
    with pytest.raises(SecretError) as caught:
        resolve(ref, {})
    assert str(caught.value) == (
        "${env:SHOP_TOKEN}: the environment variable SHOP_TOKEN is not set"
    )
    with pytest.raises(SecretError, match="SHOP_TOKEN is empty"):
        resolve(ref, {"SHOP_TOKEN": ""})


def test_resolve_env_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPORTELLO_TEST_TOKEN", SECRET)
    assert resolve(SecretRef("env", "SPORTELLO_TEST_TOKEN")) == SECRET


# ── file ───────────────────────────────────────────────────────────────────────


def secret_file(tmp_path: Path, content: bytes, mode: int = 0o600) -> SecretRef:
    path = tmp_path / "token"
    path.write_bytes(content)
    path.chmod(mode)
    return SecretRef("file", str(path))


@pytest.mark.parametrize(
    ("content", "value"),
    [
        (SECRET.encode(), SECRET),
        (SECRET.encode() + b"\n", SECRET),
        (SECRET.encode() + b"\r\n", SECRET),
        (b"  spaced out  \n", "  spaced out  "),
        ("pässwörd\n".encode(), "pässwörd"),
    ],
)
def test_resolve_file(tmp_path: Path, content: bytes, value: str) -> None:
    assert resolve(secret_file(tmp_path, content)) == value


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_file_open_to_others_is_refused(tmp_path: Path, mode: int) -> None:
    ref = secret_file(tmp_path, SECRET.encode(), mode)
    with pytest.raises(SecretError) as caught:
        resolve(ref)
    message = str(caught.value)
    assert message.startswith(f"{ref}: other users can read or change this file; run: chmod 600")
    assert SECRET not in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"", "the file is empty"), (b"\n", "the file is empty"), (b"\xff\xfe", "not UTF-8 text")],
)
def test_bad_secret_files(tmp_path: Path, content: bytes, expected: str) -> None:
    with pytest.raises(SecretError, match=expected):
        resolve(secret_file(tmp_path, content))


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="no such file"):
        resolve(SecretRef("file", str(tmp_path / "nope")))
    with pytest.raises(SecretError, match="not a regular file"):
        resolve(SecretRef("file", str(tmp_path)))


def test_file_reference_expands_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    secret_file(tmp_path, SECRET.encode())
    assert resolve(SecretRef("file", "~/token")) == SECRET


def test_huge_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="too large"):
        resolve(secret_file(tmp_path, b"x" * (secrets.MAX_SECRET_FILE_BYTES + 1)))


# ── keyring ────────────────────────────────────────────────────────────────────


def test_resolve_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    calls: list[tuple[str, str]] = []

    def get_password(service: str, user: str) -> str | None:
        calls.append((service, user))
        return SECRET if (service, user) == ("sportello", "shop-mail") else None

    monkeypatch.setattr(keyring, "get_password", get_password)
    assert resolve(SecretRef("keyring", "sportello/shop-mail")) == SECRET
    assert calls == [("sportello", "shop-mail")]
    with pytest.raises(SecretError) as caught:
        resolve(SecretRef("keyring", "sportello/other"))
    assert str(caught.value) == (
        "${keyring:sportello/other}: no entry in the keyring; add it with: "
        "keyring set sportello other"
    )


def test_keyring_without_a_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    import keyring.errors

    def no_backend(service: str, user: str) -> str | None:
        raise keyring.errors.NoKeyringError("No recommended backend was available.")

    monkeypatch.setattr(keyring, "get_password", no_backend)
    with pytest.raises(SecretError) as caught:
        resolve(SecretRef("keyring", "sportello/shop-mail"))
    message = str(caught.value)
    assert message.startswith("${keyring:sportello/shop-mail}: no usable keyring on this machine")
    assert "NoKeyringError: No recommended backend was available." in message
    assert "${env:…} or ${file:…}" in message


def test_keyring_backend_failing_its_own_way(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    def dbus_down(service: str, user: str) -> str | None:
        raise OSError("org.freedesktop.DBus.Error.ServiceUnknown\nsecond line")

    monkeypatch.setattr(keyring, "get_password", dbus_down)
    with pytest.raises(SecretError, match="no usable keyring") as caught:
        resolve(SecretRef("keyring", "sportello/shop-mail"))
    assert "second line" not in str(caught.value)


def test_keyring_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # makes "import keyring" fail
    with pytest.raises(SecretError, match="the keyring package is not installed"):
        resolve(SecretRef("keyring", "sportello/shop-mail"))


def test_unknown_scheme_cannot_be_resolved() -> None:
    with pytest.raises(SecretError, match="unknown reference kind 'vault'"):
        resolve(SecretRef("vault", "x"))


# ── resolve_options ────────────────────────────────────────────────────────────


class Mail(DeclarationOnly):
    name = "mail"
    options = (Option("host"), Option("password", secret=True), Option("token", secret=True))


def channel(**options: object) -> Channel:
    return Channel(
        id="shop-mail",
        label="Email",
        adapter="mail",
        expectation=timedelta(hours=4),
        hours=None,
        poll_interval=timedelta(seconds=60),
        timeout=timedelta(seconds=30),
        options=dict(options),
    )


def test_resolve_options_replaces_only_references() -> None:
    chan = channel(
        host="imap.example.it", password=SecretRef("env", "PW"), token=SecretRef("env", "TK")
    )
    env = {"PW": SECRET, "TK": "tok"}
    resolved = resolve_options(chan, Mail, env)
    assert resolved == {
        "host": "imap.example.it",
        "password": Secret(SECRET),
        "token": Secret("tok"),
    }
    assert isinstance(resolved["password"], Secret)
    assert SECRET not in repr(resolved) and SECRET not in str(resolved)
    assert resolved["password"].reveal() == SECRET
    assert chan.options["password"] == SecretRef("env", "PW")  # the channel keeps the reference
    assert resolve_options(chan, None, env) == resolved


def test_resolve_options_skips_undeclared_secrets() -> None:
    ref = SecretRef("env", "PW")
    chan = channel(host=ref)  # "host" is not a secret option of Mail
    assert resolve_options(chan, Mail, {"PW": SECRET}) == {"host": ref}


def test_resolve_options_error_names_channel_option_and_reference() -> None:
    chan = channel(password=SecretRef("env", "MISSING_PW"))
    with pytest.raises(SecretError) as caught:
        resolve_options(chan, Mail, {})
    assert str(caught.value) == (
        "channel 'shop-mail' · options.password: ${env:MISSING_PW}: "
        "the environment variable MISSING_PW is not set"
    )
