"""Thin command-line programs over ``tfzoo.export``: ``python -m export`` (``tfzoo-export``),
``export.saved_model``, ``export.predict`` (``tfzoo-predict``) and ``export.archive``."""
