"""The demo channel: a simulated shop, written against :mod:`sportello_sdk` only."""

from sportello_demo.adapter import DemoAdapter

__all__ = ["DemoAdapter"]
