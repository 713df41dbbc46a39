"""Seed a store with many waiting conversations, for the scale benchmark.

    python -m bench.seed_store --path DB --channels 20 --conversations 100000 \\
        --config-out DIR/config.yaml

Writes a config (the shipped config.yaml with its store at ``--path`` and
``--channels`` demo channels, profiles cycled, each with ``scale`` =
conversations / channels, ``rate`` 0 and a poll interval of a day, so that nothing
changes while the benchmark measures), then fills the store the way the
collector would: ``Store.open``, ``sync_channels``, then one ``fetch()`` of each
demo channel handed to ``apply_fetch``. Running the app on that config polls
once at start; the demo adapter, with the same seed, returns the same world.

The store and the demo adapter are imported when the command runs, so this
module imports without them.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.configs import (
    SHIPPED_CONFIG,
    ConfigProblem,
    channel_entries,
    demo_config,
    load_yaml,
    write_yaml,
)


def _coerce_options(adapter_cls: Any, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Options as the config loader would hand them to the adapter."""
    declared = {option.name: option for option in adapter_cls.options}
    unknown = sorted(set(raw) - set(declared))
    if unknown:
        raise ConfigProblem(f"the demo adapter has no option {', '.join(unknown)}")
    coerced: dict[str, Any] = {}
    for name, option in declared.items():
        if name in raw:
            coerced[name] = option.coerce(raw[name])
        elif option.default is not None:
            coerced[name] = option.default
    return coerced


def _channel_options(entry: Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(entry.get("options"), dict):
        return dict(entry["options"])
    return {k: v for k, v in entry.items() if k not in {"id", "label", "adapter", "poll_interval"}}


async def seed(config: dict[str, Any], db_path: Path) -> int:
    """Fill the store at ``db_path`` with the demo channels of ``config``."""
    store_mod: Any = importlib.import_module("tui.core.store")
    settings: Any = importlib.import_module("tui.core.settings")
    demo: Any = importlib.import_module("adapters.demo")
    options_mod: Any = importlib.import_module("adapters.options")
    adapter_cls = demo.DemoAdapter

    adapters: list[tuple[str, Any]] = []
    channels: list[Any] = []
    kinds: dict[str, str] = {}
    for entry in channel_entries(config):
        channel_id = str(entry["id"])
        options = _coerce_options(adapter_cls, _channel_options(entry))
        adapter = adapter_cls(channel_id, options)
        adapters.append((channel_id, adapter))
        kinds[channel_id] = str(adapter.kind)
        channels.append(
            settings.Channel(
                id=channel_id,
                label=str(entry.get("label", channel_id)),
                adapter="demo",
                expectation=adapter.default_expectation,
                hours=None,
                poll_interval=options_mod.parse_duration(entry.get("poll_interval", "1d")),
                timeout=timedelta(seconds=60),
                options=options,
            )
        )

    store = await store_mod.Store.open(db_path)
    waiting = 0
    try:
        await store.sync_channels(channels, kinds)
        for channel_id, adapter in adapters:
            try:
                state = await adapter.fetch()
                waiting += await store.apply_fetch(channel_id, state, time.time())
            finally:
                await adapter.aclose()
    finally:
        await store.close()
    return int(waiting)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed_store", description=__doc__)
    parser.add_argument("--path", type=Path, required=True, help="the store to create")
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--conversations", type=int, default=100_000, help="in all channels")
    parser.add_argument("--config-out", type=Path, required=True, help="the config to write")
    parser.add_argument("--template", type=Path, default=SHIPPED_CONFIG)
    parser.add_argument("--poll-interval", default="1d")
    args = parser.parse_args(argv)

    if args.channels < 1 or args.conversations < args.channels:
        parser.error("need at least one channel and one conversation per channel")
    scale = args.conversations // args.channels
    if scale * args.channels != args.conversations:
        print(
            f"seed_store: {args.conversations} is not a multiple of {args.channels}; "
            f"using {scale} per channel",
            file=sys.stderr,
        )
    try:
        template = load_yaml(args.template)
        config = demo_config(
            template,
            args.path.resolve(),
            args.channels,
            scale=scale,
            rate=0,
            poll_interval=args.poll_interval,
        )
        write_yaml(config, args.config_out)
        started = time.perf_counter()
        waiting = asyncio.run(seed(config, args.path.resolve()))
    except ConfigProblem as exc:
        print(f"seed_store: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        print(f"seed_store: the store or the demo adapter is not there yet: {exc}", file=sys.stderr)
        return 2
    print(
        f"seed_store: {waiting} waiting conversations on {args.channels} channels "
        f"in {time.perf_counter() - started:.1f}s",
        file=sys.stderr,
    )
    if waiting < args.conversations * 0.9:
        print(
            f"seed_store: expected about {args.conversations} waiting, got {waiting}: "
            "check what the demo adapter's scale means",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
