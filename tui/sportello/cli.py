"""The ``sportello`` command.

::

    sportello [--config PATH]                 open the dashboard
    sportello --once [--json] [--poll]        poll every channel once, print a table
    sportello collect                         run the collector alone (for systemd)
    sportello check-config [PATH]             report every problem of a config file
    sportello adapters [--json]               list the installed adapters and options
    sportello check-adapter NAME              fetch once from one channel, check it all
    sportello queue | reply | close | assign | snooze | outbox …
                                              triage (see sportello.cli_actions)

Exit codes: 0 fine, 1 a channel is degraded or down (``--once``), an action was
refused or ``check-adapter`` found problems, 2 a config error.
Nothing but the requested output goes to stdout; messages go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sportello import __version__, cli_actions
from sportello.core.config import ConfigError, check_config, find_config, load_config
from sportello.core.logs import secure_logging
from sportello.core.settings import Config
from sportello.core.store import StoreError
from sportello_sdk.redaction import redact

EXIT_OK = 0
EXIT_DEGRADED = 1
EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sportello",
        description="All of a small business's customer-support channels on one screen.",
    )
    parser.add_argument("--version", action="version", version=f"sportello {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="config file (default: $SPORTELLO_CONFIG, ./config.yaml, then the user config dir)",
    )
    parser.add_argument(
        "--once", action="store_true", help="poll every channel once and print a table"
    )
    parser.add_argument(
        "--json", action="store_true", help="with --once, adapters, queue or outbox: JSON"
    )
    parser.add_argument(
        "--poll",
        action="store_true",
        help="with --once, while another sportello polls: ask it for a fresh poll first",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="only watch: every action (reply, close, assign, snooze) is refused",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more messages on stderr (-v -v: also httpx's request lines)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("collect", help="poll the channels into the store, without a screen")
    check = commands.add_parser("check-config", help="report every problem of a config file")
    check.add_argument("path", nargs="?", type=Path, help="the file (default: as --config)")
    listing = commands.add_parser("adapters", help="list the installed adapters and options")
    listing.add_argument("--json", action="store_true", dest="json_list", help="JSON")
    probe = commands.add_parser(
        "check-adapter", help="fetch once from one configured channel and say what is wrong"
    )
    probe.add_argument("name", help="a channel's id (or an adapter used by one channel)")
    probe.add_argument(  # after the command too: sportello check-adapter NAME --config FILE
        "--config", dest="adapter_config", type=Path, metavar="PATH", help="the config file"
    )
    commands.add_parser("dashboard", help="open the dashboard (the default)")
    cli_actions.add_commands(commands)
    return parser


def _err(message: str) -> None:
    print(redact(message), file=sys.stderr)


def _say(message: object) -> None:
    """A message of check-config on stdout, redacted like every message."""
    print(redact(str(message)))


def _load(path: Path | None) -> Config:
    return load_config(find_config(path))


def cmd_check_config(args: argparse.Namespace) -> int:
    try:
        if args.path is not None:
            path = find_config(args.path, given_as="given to check-config on the command line")
        else:
            path = find_config(args.config)
    except ConfigError as exc:
        _say(exc)
        return EXIT_CONFIG
    problems = check_config(path)
    if problems:
        for problem in problems:
            _say(problem)
        noun = "problem" if len(problems) == 1 else "problems"
        _say(f"{len(problems)} {noun} in {path}")
        return EXIT_CONFIG
    config = load_config(path)
    _say(f"{path}: no problems ({len(config.channels)} channel(s)); store: {config.store_path}")
    return EXIT_OK


def cmd_adapters(args: argparse.Namespace) -> int:
    """Every installed adapter under the name config.yaml uses (its entry point's),
    with its distribution and options; the broken and the conflicting ones with
    why (with --json: the good ones as JSON, the others on stderr)."""
    from sportello_sdk.registry import survey

    surveyed = survey()
    good = [(s.name, s.target, s.distribution, s.adapter) for s in surveyed if s.adapter]
    broken = [s.problem for s in surveyed if s.adapter is None and s.problem]
    if args.json or args.json_list:
        described = []
        for name, target, distribution, cls in good:
            info = {**cls.describe(), "name": name, "target": target}
            info["distribution"] = distribution
            if cls.name != name:
                info["declared_name"] = cls.name
            described.append(info)
        print(json.dumps(described, ensure_ascii=False, indent=2))
        for problem in broken:
            _err(f"sportello: {problem}")
        return EXIT_OK
    for name, target, distribution, cls in good:
        info = cls.describe()
        source = f"{target} from {distribution}" if distribution else target
        print(f"{name} — {info['description']} (kind {info['kind']}; {source})")
        if cls.name != name:
            print(f"  (its class calls itself {cls.name!r}; config.yaml says adapter: {name})")
        for option, declared in zip(info["options"], cls.options, strict=True):
            flags = ", ".join(
                f
                for f, on in (("required", option["required"]), ("secret", option["secret"]))
                if on
            )
            default = "" if option["default"] is None else f" = {option['default']}"
            extra = f" [{flags}]" if flags else ""
            bounds = declared.range_text()
            bounds = f" ({bounds})" if bounds else ""
            print(
                f"  {option['name']}: {option['type']}{default}{extra}{bounds}"
                f" — {option['description']}"
            )
        print()
    if broken:
        print("not usable (skipped):")
        for problem in broken:
            print(f"  {problem}")
    return EXIT_OK


def cmd_check_adapter(args: argparse.Namespace) -> int:
    from sportello.core.adapter_check import check_adapter

    try:
        path = find_config(args.adapter_config or args.config)
    except ConfigError as exc:
        _err(str(exc))
        return EXIT_CONFIG
    result = check_adapter(path, args.name)
    out = sys.stderr if result.code == EXIT_CONFIG else sys.stdout
    for line in result.lines:
        print(line, file=out)
    return result.code


def cmd_once(args: argparse.Namespace, config: Config) -> int:
    from sportello.core import report
    from sportello.core.headless import once

    result = asyncio.run(once(config, fresh=args.poll))
    if not result.polled:
        if result.asked is True:
            how = "it polled every channel at our request"
        elif result.asked is False:
            how = "it did not poll every channel in time; showing what it stored"
        else:
            how = "showing what it stored"
        _err(
            "sportello: another sportello (a dashboard or collect) is polling this store; "
            f"{how}, {report.poll_ages(result.board)}"
        )
    # Redacted cell by cell (report.py): a number is never taken for a short secret.
    print(report.as_json(result.board) if args.json else report.table(result.board))
    return EXIT_OK if report.all_clear(result.board) else EXIT_DEGRADED


def cmd_collect(config: Config) -> int:
    from sportello.core.headless import collect

    return EXIT_OK if asyncio.run(collect(config)) else EXIT_DEGRADED


def cmd_dashboard(config: Config, verbosity: int = 0) -> int:
    from sportello.app import run_dashboard
    from sportello.core.logs import log_to_file

    try:
        log_to_file()
    except OSError as exc:  # no log folder: lose the messages, not the screen
        logging.getLogger().handlers.clear()
        logging.getLogger().addHandler(logging.NullHandler())
        _err(f"sportello: cannot write the log file ({exc.strerror}); messages are dropped")
    secure_logging(verbosity)  # -v -v: httpx's request lines go to the file too
    return run_dashboard(config)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="sportello: %(message)s",
        stream=sys.stderr,
    )
    secure_logging(args.verbose)  # every handler redacts; httpx's URLs only if asked
    if args.command == "check-config":
        return cmd_check_config(args)
    if args.command == "adapters":
        return cmd_adapters(args)
    if args.command == "check-adapter":
        return cmd_check_adapter(args)
    if args.poll and not args.once:
        _err("sportello: --poll goes with --once (sportello --once --poll)")
        return EXIT_CONFIG
    if args.json and not args.once and args.command not in cli_actions.COMMANDS:
        _err(
            "sportello: --json goes with --once (sportello --once --json) "
            "or with adapters, queue or outbox (sportello queue --json); "
            "the dashboard has no JSON"
        )
        return EXIT_CONFIG
    try:
        config = _load(args.config)
    except ConfigError as exc:
        _err(str(exc))
        return EXIT_CONFIG
    if args.read_only:
        config = replace(config, read_only=True)
    try:
        if args.command in cli_actions.COMMANDS:
            return cli_actions.run(args, config)
        if args.once:
            return cmd_once(args, config)
        if args.command == "collect":
            return cmd_collect(config)
        return cmd_dashboard(config, args.verbose)
    except KeyboardInterrupt:
        return EXIT_DEGRADED if args.once else 130
    except SystemExit as exc:  # only a plug-in's code would: our own returns a status
        _err(f"sportello: something tried to exit the program (status {exc.code!r}); stopped")
        return EXIT_DEGRADED
    except StoreError as exc:
        _err(f"sportello: {exc}")
        return EXIT_DEGRADED
    except BrokenPipeError:
        # The reader went away (``sportello --once | head``): leave quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_DEGRADED
    except OSError as exc:
        _err(f"sportello: {exc}")
        return EXIT_DEGRADED


if __name__ == "__main__":
    sys.exit(main())
