"""An example sportello channel: the open tickets of a JSON helpdesk (see adapter.py)."""

from sportello_example_helpdesk.adapter import HelpdeskAdapter, HelpdeskSession

__all__ = ["HelpdeskAdapter", "HelpdeskSession"]
