"""Benchmarks: training and input-pipeline throughput, SavedModel inference, FLOPs and matmul peak.

Every figure is printed next to a reference measured in the same run (PyTorch eager, the
machine's matmul peak), so that ratios, not absolute numbers, carry between machines. The tools of the
investigations behind docs/performance.md (oneDNN kernel timing, one BN layer) live in ``tools/``.
"""
