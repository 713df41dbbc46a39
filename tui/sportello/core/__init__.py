"""The non-visual core: config, store, collector, metrics. Never imports Textual."""
