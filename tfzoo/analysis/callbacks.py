"""``SignalLogger``: branch multipliers and residual-stream scale in TensorBoard, every epoch.

TensorFlow's summary writer is the one TensorFlow-specific piece here; the measurement itself
(``signal.measure``) is Keras and numpy, so the callback also runs under the JAX backend.
"""

import keras
import numpy as np
import tensorflow as tf

from tfzoo.analysis.signal import measure, multipliers, signal_model


class SignalLogger(keras.callbacks.Callback):
    """Logs each block's scalar multiplier and activation variance on a fixed batch.

    Tags, one value per block (``stage2_block3``): ``multiplier/<block>`` (SkipInit/ZeroInit/Fixup
    branch multipliers, "Batch normalization has multiple benefits", sections 2 and 4),
    ``variance/<block>`` (the residual stream after the block) and ``branch_variance/<block>``, plus
    ``variance/input``. The step is the number of epochs trained: step 0 is the model before its first
    epoch (the initialisation, or the checkpoint a resumed run starts from). ``images``: a fixed batch,
    normalized like the training data (a multiple of the ghost batch size for ghost BN).
    """

    def __init__(self, log_dir, images, *, training=True):
        super().__init__()
        self.log_dir = str(log_dir)
        self.images = np.asarray(images, dtype=np.float32)
        self.training = training
        self._writer = None
        self._probe = None

    def set_model(self, model):
        super().set_model(model)
        self._probe = None  # built lazily against this model

    def on_epoch_begin(self, epoch, logs=None):
        if self._writer is None:  # first epoch of this fit call: log where it starts
            self._writer = tf.summary.create_file_writer(self.log_dir)
            self._log(epoch)

    def on_epoch_end(self, epoch, logs=None):
        self._log(epoch + 1)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _log(self, step):
        """Measures the model now and writes every tag at ``step``."""
        if self._probe is None:
            self._probe = signal_model(self.model)
        signal = measure(self.model, self.images, training=self.training, probe=self._probe)
        with self._writer.as_default(step=step):
            for block, value in multipliers(self.model).items():
                tf.summary.scalar(f"multiplier/{block}", value)
            tf.summary.scalar("variance/input", signal.input_variance)
            for block, variance, branch in zip(signal.blocks, signal.variance, signal.branch_variance):
                tf.summary.scalar(f"variance/{block}", variance)
                tf.summary.scalar(f"branch_variance/{block}", branch)
        self._writer.flush()
