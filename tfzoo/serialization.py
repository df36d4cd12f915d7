"""Every object tfzoo serializes, registered with Keras on import, as ``import keras_hub`` does for its own.

``import tfzoo`` imports this module, so that ``keras.saving.load_model("RUN/model.keras")`` finds tfzoo's layers
and the learning-rate schedule a run's optimizer holds, with Keras's ``safe_mode`` left on.
"""

from tfzoo import layers  # noqa: F401  (BatchNormalization, GhostBatchNormalization, ScalarBias, ...)
from tfzoo.training import schedules  # noqa: F401  (EpochSchedule, inside a run's saved optimizer)
