"""pytest fixtures for adapter authors: the contract kit (:mod:`sportello_sdk.testing`).

Installed with sportello (entry point ``pytest11``: ``sportello_sdk.pytest_plugin``);
nothing happens in a test that does not ask for its fixtures: no hook, no autouse
fixture, and the kit is imported only when a fixture is used. Disable it with
``-p no:sportello_sdk.pytest_plugin``; name it in ``pytest_plugins`` or with ``-p``
where entry points are not loaded.

- ``contract_clock``: a :class:`~sportello_sdk.testing.FixedClock` on a weekday
  morning (Tuesday 11 March 2025, 10:00 UTC);
- ``adapter_contract``: runs the kit and fails the test with every problem found::

      def test_contract(adapter_contract, contract_clock):
          transport = httpx.MockTransport(answer)
          adapter_contract(MyAdapter, {"token": "t0k"}, transport=transport,
                           clock=contract_clock)

  ``await adapter_contract.check(...)`` in an async test; both return the
  :class:`~sportello_sdk.testing.ContractReport`.
- the marker ``@pytest.mark.sportello_contract(**settings)`` sets the kit's
  settings for the test (``blocked_s=0.5``, ``actions=False``…), which the call's
  own arguments override.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sportello_sdk.base import Adapter
    from sportello_sdk.testing import ContractReport, FixedClock

MARKER = "sportello_contract"
CONTRACT_NOW = datetime(2025, 3, 11, 10, 0, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): settings of the adapter_contract fixture "
        "(sportello_sdk.testing.check_adapter's keyword arguments)",
    )


class AdapterContract:
    """What the ``adapter_contract`` fixture gives: call it (sync tests) or await
    :meth:`check` (async tests)."""

    def __init__(self, defaults: Mapping[str, Any]) -> None:
        self.defaults = dict(defaults)

    def __call__(
        self, adapter: type[Adapter], options: Mapping[str, Any] | None = None, **settings: Any
    ) -> ContractReport:
        from sportello_sdk.testing import run_contract

        report = run_contract(adapter, options, **{**self.defaults, **settings})
        report.assert_ok()
        return report

    async def check(
        self, adapter: type[Adapter], options: Mapping[str, Any] | None = None, **settings: Any
    ) -> ContractReport:
        from sportello_sdk.testing import check_adapter

        report = await check_adapter(adapter, options, **{**self.defaults, **settings})
        report.assert_ok()
        return report


@pytest.fixture
def contract_clock() -> FixedClock:
    """A clock standing on Tuesday 11 March 2025, 10:00 UTC, until moved."""
    from sportello_sdk.testing import FixedClock

    return FixedClock(CONTRACT_NOW)


@pytest.fixture
def adapter_contract(request: pytest.FixtureRequest) -> AdapterContract:
    """Runs the contract kit over an adapter; fails the test with every problem."""
    settings: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers(MARKER))):
        settings.update(marker.kwargs)
    return AdapterContract(settings)
