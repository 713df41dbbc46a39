"""The outbox survives its collector's death: real processes, real SIGKILLs.

A child process (tests/outbox_child.py) takes the store's lead and runs the real
collector and deliverer on two demo channels that record every action they
accept (``honour_keys: false``: a second delivery of a key would be a second line
of the record). It SIGKILLs itself at one point of one delivery: after the claim
is committed and before the channel is called, after the channel accepted and
before the sent mark is committed, inside the mark's transaction, or from a
thread while the mark is being committed. Then a child without faults runs until
nothing is left to deliver, and each action must have reached its channel
exactly once, or be 'unknown' in the store (never more than once), and none may
be lost. With ``--no-lookup`` the demo channel cannot be asked by key, so what was
cut off must become 'unknown'; with lookup it must end sent, once.

The soak (many kills at random moments) is tests/test_outbox_soak.py.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sportello.core.config import load_config
from sportello.core.desk import Desk
from sportello.core.store import Store
from tests.outbox_procs import (
    check_invariants,
    last_json,
    ok,
    outcomes,
    pick,
    run_child,
    seed_store,
    spawn_child,
    tally,
    write_config,
)

FAULTS = ("before_act", "after_accept", "mark_tx", "mark_thread")
PER_CHANNEL = 3
EACH = 100  # replies made by each of three enqueuers


@pytest.fixture(scope="module")
def polled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store polled once, copied into each test's folder (a poll is a process start)."""
    folder = tmp_path_factory.mktemp("polled")
    write_config(folder)
    ok(run_child(folder, "poll"))
    yield folder


def shop(folder: Path, polled: Path) -> Path:
    config = write_config(folder)
    seed_store(folder, polled)
    return config


async def make_replies(config_path: Path, per_channel: int) -> list[str]:
    """Replies committed through the desk, one per conversation, before any delivery."""
    config = load_config(config_path)
    async with await Store.open(config.store_path) as store:
        desk = Desk(config, lambda: store, clock=time.time, who="anna@shop")
        items = pick(await store.waiting(), per_channel)
        assert len(items) == 2 * per_channel
        return [(await desk.reply(item, f"Risposta {n}")).key for n, item in enumerate(items)]


@pytest.mark.parametrize("lookup", [True, False], ids=["lookup", "no-lookup"])
@pytest.mark.parametrize("fault", FAULTS)
async def test_a_collector_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, polled: Path, fault: str, lookup: bool
) -> None:
    shop(tmp_path, polled)
    keys = await make_replies(tmp_path / "config.yaml", PER_CHANNEL)
    no_lookup = [] if lookup else ["--no-lookup"]
    fault_file = tmp_path / "fault.json"
    killed = run_child(
        tmp_path,
        "deliver",
        "--fault",
        fault,
        "--at",
        "2",  # one delivery goes through first
        "--fault-file",
        str(fault_file),
        *no_lookup,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    cut = last_json(fault_file.read_text())["key"]
    assert cut in keys
    before = outcomes(tmp_path)
    assert before[cut].state in ("sending", "sent")  # the mark may have committed (thread)

    ok(run_child(tmp_path, "deliver", "--until-idle", *no_lookup))

    found = outcomes(tmp_path)
    check_invariants(found, keys)
    assert {o.state for o in found.values()} <= {"sent", "unknown"}, tally(found)
    cut_off = found[cut]
    if lookup:  # asked by key: settled, delivered once
        assert all(o.state == "sent" for o in found.values()), tally(found)
        assert cut_off.deliveries == 1
        assert cut_off.attempts == (2 if fault == "before_act" else 1)
    elif fault == "before_act":  # the channel never got it, and nobody can tell
        assert (cut_off.state, cut_off.deliveries) == ("unknown", 0)
    elif fault == "mark_thread" and before[cut].state == "sent":  # killed after COMMIT
        assert (cut_off.state, cut_off.deliveries) == ("sent", 1)
    else:  # the channel has it; the store cannot know
        assert (cut_off.state, cut_off.deliveries) == ("unknown", 1)
    if cut_off.state == "unknown":
        assert cut_off.error == "its collector stopped while sending it"


async def test_enqueuers_in_several_processes_beside_a_delivery_all_commit(
    tmp_path: Path, polled: Path
) -> None:
    shop(tmp_path, polled)
    deliverer = spawn_child(tmp_path, "deliver")
    try:
        start_at = f"{time.time() + 1.5:.3f}"  # every enqueuer has started by then
        enqueuers = [
            spawn_child(
                tmp_path,
                "enqueue",
                "--who",
                f"p{i}@shop",
                "--count",
                str(EACH),
                "--start-at",
                start_at,
            )
            for i in range(3)
        ]
        results = []
        for process in enqueuers:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err[-3000:]
            results.append(last_json(out))
    finally:
        deliverer.send_signal(signal.SIGKILL)
        deliverer.wait(timeout=30)
    for result in results:
        assert result["errors"] == []  # no StoreError, no "database is locked"
        assert len(result["keys"]) == EACH
    keys = [key for result in results for key in result["keys"]]
    ok(run_child(tmp_path, "deliver", "--until-idle"))
    found = outcomes(tmp_path)
    check_invariants(found, keys)
    assert len(found) == 3 * EACH
