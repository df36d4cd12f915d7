"""Runnable experiments: thin absl-flag CLIs over the tfzoo library."""
