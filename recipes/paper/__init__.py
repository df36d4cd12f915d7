"""Reproductions of the tables and figures of "Batch normalization has multiple benefits",
one CLI each."""
