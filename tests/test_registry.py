"""Finding plug-ins (sportello_sdk.registry) and what sportello says about them.

Plug-ins here are real distributions: a ``.dist-info`` folder (METADATA and
entry_points.txt) and a module in a temporary folder put on ``sys.path``, as pip
would leave them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from sportello.cli import main
from sportello_sdk import registry
from sportello_sdk.registry import AdapterLoadError

GOOD = """\
from datetime import timedelta
from sportello_sdk import Adapter, ChannelKind, Option
from sportello_sdk.base import Session


class Desk(Adapter):
    name = "{name}"
    description = "a desk"
    kind = ChannelKind.HELPDESK
    default_expectation = timedelta(hours=2)
    options = (Option("token", secret=True, required=True),)

    @classmethod
    async def connect(cls, context):
        raise NotImplementedError
"""

BROKEN = """\
from datetime import timedelta
from sportello_sdk import Adapter, Option
from sportello_sdk.base import Session


class Fine(Adapter):
    name = "fine"

    @classmethod
    async def connect(cls, context):
        raise NotImplementedError


class Tokens(Fine):
    options = ("token",)


class Hours(Fine):
    default_expectation = "1h"


class Many(Fine):
    name = ""
    kind = "email"
    capabilities = None
    options = (Option("a"), Option("a"))


class Sync(Adapter):
    name = "sync"

    @classmethod
    def connect(cls, context):
        return None


class Unfinished(Adapter):
    name = "unfinished"


class Describes(Fine):
    @classmethod
    def describe(cls):
        raise RuntimeError("no")


def function():
    return None


class Old:
    async def fetch(self):
        return None
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder first on sys.path, with the registry's caches emptied; the modules
    imported from it are forgotten afterwards."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setattr(registry, "_cache", {})
    monkeypatch.setattr(registry, "_failed", {})
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        module = sys.modules[name]
        if str(tmp_path) in str(getattr(module, "__file__", "") or ""):
            del sys.modules[name]


def distribute(
    folder: Path,
    name: str,
    entry_points: dict[str, str],
    modules: dict[str, str],
    *,
    folder_name: str | None = None,
) -> None:
    """A distribution called ``name`` in ``folder``, as pip installs one."""
    info = folder / (folder_name or f"{name.replace('-', '_')}-1.0.dist-info")
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "".join(f"{key} = {value}\n" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[sportello.adapters]\n{lines}")
    for module, text in modules.items():
        (folder / f"{module}.py").write_text(text)


def problem_of(name: str) -> str:
    with pytest.raises(AdapterLoadError) as caught:
        registry.load(name)
    return str(caught.value)


# ── broken declarations ───────────────────────────────────────────────────────


BROKEN_POINTS = {
    "tokens": "acme_desk:Tokens",
    "hours": "acme_desk:Hours",
    "many": "acme_desk:Many",
    "sync": "acme_desk:Sync",
    "unfinished": "acme_desk:Unfinished",
    "describes": "acme_desk:Describes",
    "function": "acme_desk:function",
    "old": "acme_desk:Old",
    "missing": "acme_desk:Missing",
    "fine": "acme_desk:Fine",
}


def test_a_broken_declaration_names_the_plugin_its_distribution_and_every_problem(
    site: Path,
) -> None:
    distribute(site, "acme-desk", BROKEN_POINTS, {"acme_desk": BROKEN})
    where = "(acme_desk:Tokens from acme-desk) is broken: "
    assert problem_of("tokens") == (
        f"adapter 'tokens' {where}options[0] must be a sportello_sdk.Option, "
        "got the str 'token' (write Option('token'))"
    )
    assert "default_expectation must be a timedelta (timedelta(hours=1)), got the str '1h'" in (
        problem_of("hours")
    )
    many = problem_of("many")
    for part in (
        "name must be a non-empty str, got an empty str",
        "kind must be a ChannelKind (ChannelKind.EMAIL…), got the str 'email'",
        "capabilities must be a sportello_sdk.Capabilities, got None",
        "option 'a' is declared twice",
    ):
        assert part in many
    assert "connect() must be a coroutine function (async def)" in problem_of("sync")
    assert "does not implement connect()" in problem_of("unfinished")
    assert "describe() fails: RuntimeError" in problem_of("describes")
    assert "is a function, not a class" in problem_of("function")
    assert "is not a subclass of sportello_sdk.Adapter (an adapter of the old contract?" in (
        problem_of("old")
    )
    assert "failed to import: AttributeError" in problem_of("missing")
    assert registry.load("fine").name == "fine"  # the others in its module change nothing


def test_survey_skips_the_broken_and_keeps_the_rest(site: Path) -> None:
    distribute(site, "acme-desk", BROKEN_POINTS, {"acme_desk": BROKEN})
    surveyed = {entry.name: entry for entry in registry.survey()}
    assert surveyed["fine"].adapter is not None and surveyed["fine"].problem is None
    assert surveyed["demo"].adapter is not None  # the built-in one, still there
    assert surveyed["tokens"].adapter is None
    assert surveyed["tokens"].distribution == "acme-desk"
    loaded, problems = registry.load_all()
    assert "fine" in loaded and "tokens" not in loaded
    assert len(problems) == len(BROKEN_POINTS) - 1


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("import sys\nsys.exit(3)\n", "failed to import: SystemExit: 3 (at "),
        ("raise KeyboardInterrupt\n", "failed to import: KeyboardInterrupt (at "),
        ("raise BaseException('odd')\n", "failed to import: BaseException: odd (at "),
        ("import not_installed_anywhere_xyz\n", "failed to import: ModuleNotFoundError: "),
        ("x = (\n", "failed to import: SyntaxError: "),
    ],
)
def test_whatever_a_plugin_raises_at_import_is_its_problem(
    site: Path, code: str, said: str
) -> None:
    counter = site / "imports.txt"
    module = f"open({str(counter)!r}, 'a').write('x')\n" + code
    distribute(site, "wild-plugin", {"wild": "wild_plugin:Wild"}, {"wild_plugin": module})
    message = problem_of("wild")
    assert message.startswith("adapter 'wild' (wild_plugin:Wild from wild-plugin) " + said)
    assert "Traceback" not in message
    assert problem_of("Wild") == message  # asked again (by another spelling): not re-imported
    if "SyntaxError" not in said:  # (a module that does not compile runs nothing)
        assert counter.read_text() == "x"


# ── names ─────────────────────────────────────────────────────────────────────


def test_names_are_compared_as_packaging_compares_them(site: Path) -> None:
    distribute(
        site,
        "My.Plugin",
        {"my-desk": "my_plugin_mod:Desk"},
        {"my_plugin_mod": GOOD.format(name="my-desk")},
        folder_name="my_plugin-1.0.dist-info",
    )
    for spelling in ("my-desk", "My_Desk", "my.desk", "MY--DESK"):
        assert registry.load(spelling).name == "my-desk"
    (entry,) = [e for e in registry.available() if e.name == "my-desk"]
    assert entry.distribution == "my-plugin"  # from the folder, as from METADATA's Name
    assert registry._scan(registry.GROUP) == registry._from_metadata(registry.GROUP)


def test_the_direct_entry_point_read_agrees_with_importlib_metadata() -> None:
    direct = registry._scan(registry.GROUP)
    assert direct, "the direct read found no adapter: the fallback would always run"
    assert direct == registry._from_metadata(registry.GROUP)


def test_entry_points_txt_is_read_like_importlib_reads_it() -> None:
    text = (
        "[console_scripts]\nsportello = sportello.cli:main\n\n"
        "; a comment\n[sportello.adapters]\n  demo = sportello_demo.adapter:DemoAdapter\n"
        "# another\nmine=pkg.mod:Cls.inner\n[other]\nx = y:z\n"
    )
    assert registry._read_group(text, "sportello.adapters") == [
        ("demo", "sportello_demo.adapter:DemoAdapter"),
        ("mine", "pkg.mod:Cls.inner"),
    ]
    assert registry._read_group(text, "missing") == []


def two_desks(tmp_path: Path) -> tuple[Path, Path]:
    first, second = tmp_path / "first", tmp_path / "second"
    distribute(
        first,
        "one-desk",
        {"help-desk": "one_desk:Desk"},
        {"one_desk": GOOD.format(name="help-desk")},
    )
    distribute(
        second,
        "two_desk",
        {"Help_Desk": "two_desk:Desk"},
        {"two_desk": GOOD.format(name="help-desk")},
    )
    return first, second


@pytest.mark.parametrize("order", ["first-second", "second-first"])
def test_one_name_from_two_distributions_is_refused_for_both(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    first, second = two_desks(tmp_path)
    folders = [first, second] if order == "first-second" else [second, first]
    monkeypatch.setattr(sys, "path", [*map(str, folders), *sys.path])
    expected = (
        "adapter 'Help_Desk' is registered by 2 distributions (as 'Help_Desk' and 'help-desk'): "
        "two_desk:Desk from two-desk; one_desk:Desk from one-desk; the name is refused for "
        "all of them until only one is installed"
    )
    assert problem_of("help-desk") == expected
    assert problem_of("help.desk") == expected
    (surveyed,) = [s for s in registry.survey() if registry.normalize(s.name) == "help-desk"]
    assert surveyed.adapter is None and surveyed.problem == expected
    assert {e.distribution for e in surveyed.entries} == {"one-desk", "two-desk"}
    assert "one_desk" not in sys.modules and "two_desk" not in sys.modules  # nothing imported


def test_one_distribution_found_twice_on_the_path_counts_once(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        distribute(
            folder,
            "one-desk",
            {"helpdesk": "one_desk:Desk"},
            {"one_desk": GOOD.format(name="helpdesk")},
        )
    monkeypatch.setattr(sys, "path", [str(first), str(second), *sys.path])
    assert registry.load("helpdesk").name == "helpdesk"
    assert [e.distribution for e in registry.available() if e.name == "helpdesk"] == ["one-desk"]


# ── what sportello says ─────────────────────────────────────────────────────────


RENAMED = GOOD.format(name="Helpdesk Pro")


def test_adapters_lists_entry_point_names_distributions_and_the_broken(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    distribute(site, "acme-desk", {"tokens": "acme_desk:Tokens"}, {"acme_desk": BROKEN})
    distribute(site, "pro-desk", {"pro": "pro_desk:Desk"}, {"pro_desk": RENAMED})
    assert main(["adapters"]) == 0
    out = capsys.readouterr().out
    assert "pro — a desk (kind helpdesk; pro_desk:Desk from pro-desk)" in out
    assert "(its class calls itself 'Helpdesk Pro'; config.yaml says adapter: pro)" in out
    assert "demo — " in out and "sportello_demo:DemoAdapter from sportello" in out
    assert out.rstrip().endswith(
        "not usable (skipped):\n  adapter 'tokens' (acme_desk:Tokens from acme-desk) is broken: "
        "options[0] must be a sportello_sdk.Option, got the str 'token' (write Option('token'))"
    )
    assert main(["adapters", "--json"]) == 0
    captured = capsys.readouterr()
    described = {entry["name"]: entry for entry in json.loads(captured.out)}
    assert set(described) >= {"demo", "pro"} and "tokens" not in described
    assert described["pro"]["declared_name"] == "Helpdesk Pro"
    assert described["pro"]["distribution"] == "pro-desk"
    assert described["pro"]["target"] == "pro_desk:Desk"
    assert "declared_name" not in described["demo"]
    assert "sportello: adapter 'tokens' (acme_desk:Tokens from acme-desk) is broken" in (
        captured.err
    )


def config_using(tmp_path: Path, adapter: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        textwrap.dedent(f"""\
            business:
              name: Shop
              hours: {{mon: [09:00-17:00]}}
            store:
              path: {tmp_path / "store.db"}
            channels:
              - id: email
                adapter: demo
                options:
                  profile: email
              - id: desk
                adapter: {adapter}
              - id: chat
                adapter: demo
                options:
                  profile: chat
                  fail_rate: 2
            """),
        encoding="utf-8",
    )
    return path


def test_check_config_names_the_broken_plugin_at_its_channel_and_goes_on(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    distribute(site, "acme-desk", {"tokens": "acme_desk:Tokens"}, {"acme_desk": BROKEN})
    config = config_using(tmp_path, "Tokens")
    assert main(["check-config", str(config)]) == 2
    out = capsys.readouterr().out
    line = next(n for n, text in enumerate(config.read_text().splitlines(), 1) if "Tokens" in text)
    assert (
        f"{config}:{line}: channel 'desk' · adapter: adapter 'tokens' (acme_desk:Tokens from "
        "acme-desk) is broken: options[0] must be a sportello_sdk.Option"
    ) in out
    assert "options.fail_rate: must be between 0 and 1, got 2" in out  # and it went on
    assert "Traceback" not in out
    assert main(["--config", str(config), "--once"]) == 2  # refused, not crashed
    assert "is broken: options[0]" in capsys.readouterr().err


def test_check_config_names_both_distributions_of_a_refused_name(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = two_desks(tmp_path)
    monkeypatch.setattr(sys, "path", [str(first), str(second), *sys.path])
    assert main(["check-config", str(config_using(tmp_path, "help_desk"))]) == 2
    out = capsys.readouterr().out
    assert "channel 'desk' · adapter: adapter 'Help_Desk' is registered by 2 distributions" in out
    assert "two_desk:Desk from two-desk; one_desk:Desk from one-desk" in out


def test_a_plugin_that_exits_at_import_does_not_end_sportello(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    distribute(
        folder, "quitter", {"quitter": "quitter:Quitter"}, {"quitter": "raise SystemExit(4)\n"}
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-m", "sportello", "adapters", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "demo" in [entry["name"] for entry in json.loads(done.stdout)]
    assert "adapter 'quitter' (quitter:Quitter from quitter) failed to import: SystemExit: 4" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr
