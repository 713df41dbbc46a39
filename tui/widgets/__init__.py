"""Reusable widgets of the dashboard (they import Textual; tui.core does not)."""

from tui.widgets.queue_table import QueueTable

__all__ = ["QueueTable"]
