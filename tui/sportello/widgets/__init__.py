"""Reusable widgets of the dashboard (they import Textual; sportello.core does not)."""

from sportello.widgets.queue_table import QueueTable

__all__ = ["QueueTable"]
