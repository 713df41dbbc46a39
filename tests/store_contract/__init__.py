"""The store contract suite: what any backend of :mod:`sportello.core.store_contract` must do."""
