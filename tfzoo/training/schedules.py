"""Learning-rate schedules by epoch: the paper's, the WRN paper's, cosine; optional warm-up.

"Batch normalization has multiple benefits", section 3: "hold the learning rate constant for 100 epochs,
before dropping it by a factor of 2 every 10 epochs" (200 epochs), i.e. constant for half the budget,
then halved every 1/20 of it; section 5 uses 45 + every 5 of 90 on ImageNet. Wide Residual Networks:
x0.2 at 30%, 60%, 80%.
"""

import math

import keras
from keras import ops

SCHEDULES = ("paper", "wrn", "cosine", "constant")


def lr_at_epoch(schedule, base_lr, epoch, epochs, *, hold_epochs=None, decay_every=None, warmup_epochs=0.0):
    """The learning rate at (fractional) ``epoch`` of an ``epochs`` budget, in plain Python.

    ``paper``: ``base_lr * 0.5 ** (1 + floor((epoch - hold) / every))`` once ``epoch >= hold``;
    hold = epochs / 2 and every = epochs / 20 unless given. Warm-up ramps linearly from 0.
    """
    factor = _decay_factor(schedule, epoch, epochs, hold_epochs, decay_every, _PY)
    if warmup_epochs and epoch < warmup_epochs:
        factor *= epoch / warmup_epochs
    return base_lr * factor


class _Math:
    """floor, cos and a 0/1 gate, for Python numbers or Keras tensors."""

    def __init__(self, floor, cos, gate):
        self.floor, self.cos, self.gate = floor, cos, gate


_PY = _Math(math.floor, math.cos, float)
_OPS = _Math(ops.floor, ops.cos, lambda condition: ops.cast(condition, "float32"))


def _decay_factor(schedule, epoch, epochs, hold_epochs, decay_every, m):
    if schedule == "constant":
        return 1.0
    if schedule == "paper":
        hold = epochs / 2 if hold_epochs is None else hold_epochs
        every = epochs / 20 if decay_every is None else decay_every
        drops = m.floor((epoch - hold) / every) + 1.0
        return 0.5 ** (drops * m.gate(epoch >= hold))
    if schedule == "wrn":
        return 0.2 ** (m.gate(epoch >= 0.3 * epochs) + m.gate(epoch >= 0.6 * epochs) + m.gate(epoch >= 0.8 * epochs))
    if schedule == "cosine":
        return 0.5 * (1.0 + m.cos(math.pi * epoch / epochs))
    raise ValueError(f"Unknown schedule {schedule!r}; accepted: {', '.join(map(repr, SCHEDULES))}.")


@keras.saving.register_keras_serializable(package="tfzoo")
class EpochSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """``lr_at_epoch`` as a Keras schedule of the optimizer step.

    Step-wise schedules (``paper``, ``wrn``) change at whole epochs, as in the papers; cosine
    and warm-up are evaluated at every step. ``steps_per_epoch`` counts the optimizer's
    iterations, ghost-batch micro-steps included (Keras schedules see those).
    """

    def __init__(self, schedule, base_lr, epochs, steps_per_epoch, hold_epochs=None, decay_every=None, warmup_epochs=0.0):
        if schedule not in SCHEDULES:
            raise ValueError(f"Unknown schedule {schedule!r}; accepted: {', '.join(map(repr, SCHEDULES))}.")
        if epochs <= 0 or steps_per_epoch <= 0:
            raise ValueError(f"epochs and steps_per_epoch must be positive. Received: {epochs}, {steps_per_epoch}")
        self.schedule = schedule
        self.base_lr = float(base_lr)
        self.epochs = epochs
        self.steps_per_epoch = int(steps_per_epoch)
        self.hold_epochs = hold_epochs
        self.decay_every = decay_every
        self.warmup_epochs = float(warmup_epochs)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        exact = step / self.steps_per_epoch
        epoch = exact if self.schedule == "cosine" else ops.floor(exact)
        factor = _decay_factor(self.schedule, epoch, float(self.epochs), self.hold_epochs, self.decay_every, _OPS)
        factor = ops.cast(factor, "float32")
        if self.warmup_epochs:
            factor = factor * ops.minimum(1.0, exact / self.warmup_epochs)
        return self.base_lr * factor

    def get_config(self):
        return {
            "schedule": self.schedule,
            "base_lr": self.base_lr,
            "epochs": self.epochs,
            "steps_per_epoch": self.steps_per_epoch,
            "hold_epochs": self.hold_epochs,
            "decay_every": self.decay_every,
            "warmup_epochs": self.warmup_epochs,
        }
