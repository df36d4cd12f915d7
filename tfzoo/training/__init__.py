"""The training protocol of "Batch normalization has multiple benefits" (section 3): SGD + momentum, L2,
schedules, ghost batches.

Names are imported on first use, so that ``tfzoo.training.schedules`` (Keras only; imported where a
``model.keras`` is loaded, to register the schedule saved inside it) does not pull in
TensorFlow and the data pipelines.
"""

from tfzoo.lazy import lazy_exports

_EXPORTS = {
    "TrainConfig": "config",
    "EXIT_DIVERGED": "loop",
    "train": "loop",
    "prepare": "preparation",
    "PreparedRun": "preparation",
    "make_deterministic": "determinism",
    "accumulation_steps": "optimizer",
    "add_l2": "optimizer",
    "make_optimizer": "optimizer",
    "recipe_metrics": "metrics",
    "SCHEDULES": "schedules",
    "EpochSchedule": "schedules",
    "lr_at_epoch": "schedules",
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
