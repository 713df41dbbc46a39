"""The store contract suite: what any backend of :mod:`tui.core.store_contract` must do."""
