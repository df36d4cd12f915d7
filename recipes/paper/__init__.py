"""Reproductions of the paper's tables and figures (``001``), one CLI each."""
