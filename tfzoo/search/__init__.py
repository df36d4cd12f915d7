"""The learning-rate search of "Batch normalization has multiple benefits" (section 3), on keras-tuner.

At each batch size, n runs per learning rate 2^e on a log2 grid; per batch size the optimal
learning rate for test accuracy and for training loss, each reported as the mean ± std of the
best k of n runs, with a flag when the optimum is at the grid's edge.
"""

from tfzoo.search.grid import Grid, TrialSpec
from tfzoo.search.summary import METRICS, TrialResult, best_k, optimum, summarize

__all__ = ["METRICS", "Grid", "TrialResult", "TrialSpec", "best_k", "optimum", "summarize"]
