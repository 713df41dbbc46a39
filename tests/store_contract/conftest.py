"""The store contract suite: every test here runs once per backend of :data:`BACKENDS`.

The tests use only the :class:`~sportello.core.store_contract.StoreBackend` methods: no
SQL, no file, no knowledge of SQLite. A backend is a factory
``async def open_backend(tmp_path) -> StoreBackend``: the same folder opens the
same store (a second call is a second process on it), a new folder an empty one.
What only SQLite does (WAL, file modes, migrations, checkpoints, locking) is
tested in ``tests/test_store_sqlite.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from sportello.core.store import Store
from sportello.core.store_contract import StoreBackend
from tests.helpers_store import channel
from tests.store_contract.builders import Opener

OpenBackend = Callable[[Path], Awaitable[StoreBackend]]


async def open_sqlite(tmp_path: Path) -> StoreBackend:
    """The SQLite store of ``tmp_path`` (one file in it)."""
    return await Store.open(tmp_path / "store.db")


BACKENDS = [
    pytest.param(open_sqlite, id="sqlite"),
    # A PostgreSQL backend is one more factory here, skipped unless a server is
    # named, e.g.:
    #
    #   pytest.param(open_postgres, id="postgres", marks=pytest.mark.skipif(
    #       not os.environ.get("SPORTELLO_TEST_POSTGRES"),
    #       reason="SPORTELLO_TEST_POSTGRES names no PostgreSQL server"))
    #
    # where open_postgres(tmp_path) opens the PostgreSQL store on that server, in
    # a schema (or database) named after tmp_path: the same folder, the same store.
]


@pytest.fixture(params=BACKENDS)
def open_backend(request: pytest.FixtureRequest) -> OpenBackend:
    factory: OpenBackend = request.param
    return factory


@pytest.fixture
async def open_store(open_backend: OpenBackend, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens one more backend on this test's store (as another process would);
    every one opened is closed at the end."""
    opened: list[StoreBackend] = []

    async def open_one() -> StoreBackend:
        store = await open_backend(tmp_path)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.close()


@pytest.fixture
async def backend(open_store: Opener) -> StoreBackend:
    """An open store with two channels configured, "email" and "chat"."""
    store = await open_store()
    await store.sync_channels([channel("email"), channel("chat")], {})
    return store
