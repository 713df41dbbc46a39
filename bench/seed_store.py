"""Seed a store with many waiting conversations, for the scale benchmark.

    python -m bench.seed_store --path DB --channels 20 --conversations 100000 \\
        --config-out DIR/config.yaml

Writes a config (the shipped config.yaml with its store at ``--path`` and
``--channels`` demo channels, profiles cycled, each with ``scale`` =
conversations / channels, ``rate`` 0 and a poll interval of a day, so that nothing
changes while the benchmark measures), then fills the store the way the
collector does, by polling every channel once with the real collector. The polls
are recorded, so the app started on that config within the poll interval shows
the store as it is instead of polling again.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.configs import (
    SHIPPED_CONFIG,
    ConfigProblem,
    demo_config,
    load_yaml,
    write_yaml,
)


async def seed(config_path: Path) -> int:
    """Poll every channel of the config at ``config_path`` once, as the collector does."""
    from sportello.core.collector import Collector
    from sportello.core.config import load_config
    from sportello.core.store import Store

    config = load_config(config_path)
    async with await Store.open(config.store_path) as store:
        collector = Collector(config, store)
        try:
            await collector.poll_once()
        finally:
            await collector.aclose()
        summary = await store.waiting_summary()
    return sum(count for count, _ in summary.values())


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
        waiting = asyncio.run(seed(args.config_out))
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
