"""``python -m bench``: run the benchmarks, print ``name=value`` lines.

Figures go to stdout, one ``name=value`` per line; everything else (per-run
figures, why a scenario could not run) goes to stderr. A scenario that cannot
measure prints no value.
"""

from __future__ import annotations

import argparse
import compileall
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from bench.configs import REPO_ROOT
from bench.scale_live import run_bytes, run_scale_live
from bench.scenarios import SCENARIOS, Options, ScenarioFailed, note
from bench.writes import run_writes


def run_isolation(opts: Options) -> None:
    """Key → frame with one channel blocking its thread and one raising (bench/isolation.py)."""
    from bench.isolation import run_isolation as isolation

    isolation(opts)


def run_fanout(opts: Options) -> None:
    """50 HTTP channels on loopback, 10 never answering: the others' pace (bench/fanout.py)."""
    from bench.fanout import run_fanout as fanout

    fanout(opts)


BENCHES: dict[str, Callable[[Options], None]] = {
    **SCENARIOS,
    "isolation": run_isolation,
    "fanout": run_fanout,
    "writes": run_writes,
    "scale_live": run_scale_live,
    "bytes": run_bytes,
}


def _options(args: argparse.Namespace) -> Options:
    idle = os.environ.get("BENCH_IDLE_SECONDS")
    if args.quick:
        return Options(
            runs=args.runs or 2,
            quick=True,
            idle_seconds=float(idle) if idle else 5.0,
            nav_presses=10,
            filter_rounds=1,
            sort_presses=4,
            bare_presses=15,
        )
    return Options(runs=args.runs or 5, idle_seconds=float(idle) if idle else 60.0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHES),
        help="run only this scenario (repeatable)",
    )
    parser.add_argument("--runs", type=int, default=0, help="runs per side for medians (5)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run, fewer samples")
    args = parser.parse_args(argv)
    if args.runs < 0:
        parser.error("--runs must be positive")

    # Measure sportello as installed: pip writes bytecode for the packages it
    # installs (Textual's is there), an editable install leaves ours to be compiled
    # at each start when PYTHONDONTWRITEBYTECODE is set. Changed files only.
    for package in ("tui", "adapters"):
        if not compileall.compile_dir(REPO_ROOT / package, quiet=1):
            note(f"bench: could not compile {package}/ to bytecode; start-up includes compiling")
    # The pty reader thread stamps each read; let it take the GIL promptly.
    sys.setswitchinterval(0.0005)
    opts = _options(args)
    if opts.quick:
        note("bench: quick mode, few samples: figures are a smoke test, not a verdict")
    status = 0
    for name, scenario in BENCHES.items():
        if args.only and name not in args.only:
            continue
        try:
            scenario(opts)
        except ScenarioFailed as exc:
            note(f"{name}: could not run: {exc}")
        except Exception:
            note(f"{name}: the benchmark itself failed:\n{traceback.format_exc()}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
