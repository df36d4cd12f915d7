"""The paper's training protocol (``001`` section 3): SGD + momentum, L2, schedules, ghost batches."""

from tfzoo.training.config import TrainConfig
from tfzoo.training.loop import EXIT_DIVERGED, train
from tfzoo.training.optimizer import accumulation_steps, add_l2, make_optimizer
from tfzoo.training.schedules import SCHEDULES, EpochSchedule, lr_at_epoch

__all__ = [
    "EXIT_DIVERGED", "SCHEDULES", "EpochSchedule", "TrainConfig", "accumulation_steps", "add_l2",
    "lr_at_epoch", "make_optimizer", "train",
]
