"""Export a trained tfzoo Keras model as a SavedModel with serving signatures.

    python -m export.saved_model --model=runs/demo/model.keras --output_dir=exported/demo

The same as ``python -m export --format=saved_model`` (``tfzoo.export``). Signatures (both
return ``probabilities`` float32 [batch, classes] and ``classes`` int64 [batch]):
- ``serving_default(images)``: uint8 ``[batch, H, W, C]`` at the model's input size; the
  normalization the model was trained with runs inside the graph.
- ``serving_encoded(encoded_images)``: a string batch of PNG/JPEG/BMP/GIF bytes.
``assets.extra/tfzoo.json`` holds the dataset, class names, input shape, mean/std and the
run's config and results. The SavedModel needs only TensorFlow to load and serve.
"""

from absl import flags

from export.__main__ import main  # noqa: F401  (defines the flags; tests/cli_cases.py calls main)
from tfzoo import cli

flags.FLAGS.set_default("format", "saved_model")

if __name__ == "__main__":
    cli.run(main)
