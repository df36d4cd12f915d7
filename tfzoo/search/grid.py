"""The learning-rate grid of "Batch normalization has multiple benefits" (section 3): batch sizes
x lr = 2^e x n runs, one trial each."""

import dataclasses
import itertools

MAX_ABS_EXPONENT = 64  # 2^±64 is far outside any useful learning rate, and far from float overflow


@dataclasses.dataclass(frozen=True, order=True)
class TrialSpec:
    """One training run of the search: batch size B, learning rate 2^lr_exponent, repeat ``run``.

    Run r trains with seed ``base_seed + r``, into ``trials/bs{B}_lr{e}_run{r}/``.
    """

    batch_size: int
    lr_exponent: int
    run: int

    @property
    def lr(self):
        return 2.0**self.lr_exponent

    @property
    def name(self):
        return f"bs{self.batch_size}_lr{self.lr_exponent}_run{self.run}"

    def seed(self, base_seed):
        return base_seed + self.run

    def values(self):
        """The trial as keras-tuner hyperparameter values."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Grid:
    """Every (batch size, lr exponent, run): the paper trains 15 runs per point on a log2 grid.

    Batch sizes and exponents are stored sorted; a point is at the grid's edge when its
    exponent is the first or the last one (the paper checks optima are not).
    """

    batch_sizes: tuple
    lr_exponents: tuple
    runs: int

    def __post_init__(self):
        object.__setattr__(self, "batch_sizes", _sorted_unique("batch_sizes", self.batch_sizes, minimum=1))
        object.__setattr__(self, "lr_exponents", _sorted_unique("lr_exponents", self.lr_exponents))
        bad = [e for e in self.lr_exponents if abs(e) > MAX_ABS_EXPONENT]
        if bad:
            raise ValueError(f"lr exponents must be within ±{MAX_ABS_EXPONENT}. Received: lr_exponents={bad}")
        if isinstance(self.runs, bool) or not isinstance(self.runs, int) or self.runs < 1:
            raise ValueError(f"runs must be a positive integer. Received: runs={self.runs!r}")

    def __len__(self):
        return len(self.batch_sizes) * len(self.lr_exponents) * self.runs

    def trials(self):
        """All trials in search order: batch size, then lr exponent, then run, each ascending."""
        return [TrialSpec(*t) for t in itertools.product(self.batch_sizes, self.lr_exponents, range(self.runs))]

    def is_edge(self, lr_exponent):
        return lr_exponent in (self.lr_exponents[0], self.lr_exponents[-1])

    def to_dict(self):
        return {"batch_sizes": list(self.batch_sizes), "lr_exponents": list(self.lr_exponents), "runs": self.runs}


def _sorted_unique(name, values, minimum=None):
    values = tuple(values)
    if not values:
        raise ValueError(f"{name} must not be empty.")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be integers. Received: {name}={list(values)}")
        if minimum is not None and value < minimum:
            raise ValueError(f"{name} must be >= {minimum}. Received: {name}={list(values)}")
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"{name} must be unique; repeated: {repeated}.")
    return tuple(sorted(values))
