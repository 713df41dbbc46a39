"""sportello: the support channels of a small business on one terminal screen."""

__version__ = "0.1.0"
