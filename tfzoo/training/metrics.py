"""The metrics every run reports ("Batch normalization has multiple benefits", section 3, reports top-1
test accuracy and the training loss)."""

import keras


def recipe_metrics(num_classes):
    """Top-1 accuracy and cross-entropy (from logits); top-5 accuracy as well for 100 classes or more.

    Metric objects, not names: with a name (``"accuracy"``) Keras creates the metric's variables
    inside the first traced train step, which TensorFlow then traces a second time.
    """
    out = [keras.metrics.CategoricalAccuracy(name="accuracy"),
           keras.metrics.CategoricalCrossentropy(from_logits=True, name="cross_entropy")]
    if num_classes >= 100:
        out.append(keras.metrics.TopKCategoricalAccuracy(k=5, name="top5_accuracy"))
    return out
