"""Export a trained tfzoo Keras model as a SavedModel with serving signatures.

    python -m export.saved_model --model=runs/demo/model.keras --output=exported/demo

Signatures (both return ``probabilities`` float32 [batch, classes] and ``classes`` int64 [batch]):
- ``serving_default(images)``: uint8 ``[batch, H, W, C]`` at the model's input size; the
  normalization the model was trained with runs inside the graph. Any other dtype, size or
  channel count is rejected by the signature.
- ``serving_encoded(encoded_images)``: a string batch of PNG/JPEG/BMP/GIF bytes, decoded to C
  channels; an image of another height/width fails with an error naming both shapes.
``assets.extra/tfzoo.json`` holds the dataset, class names, input shape, mean/std and the
run's config and results. The SavedModel needs only TensorFlow to load and serve.
"""

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

METADATA = Path("assets.extra") / "tfzoo.json"
SIGNATURES = ("serving_default", "serving_encoded")


def export_saved_model(model, output, *, dataset=None, overwrite=False, extra_metadata=None):
    """Writes ``model`` (a Keras model or a ``.keras`` path) as a SavedModel at ``output``.

    ``dataset`` (a name) gives the preprocessing and class names; for a ``.keras`` path it
    defaults to the ``dataset`` of the run's ``config.json`` beside the file. The SavedModel is
    written to a temporary folder and renamed into place, so ``output`` is never half-written.
    Returns the metadata dictionary stored in ``assets.extra/tfzoo.json``.
    """
    import keras
    import tensorflow as tf

    import tfzoo  # noqa: F401  (registers the custom layers for loading)
    from tfzoo.data import get_spec, normalize

    output = Path(output)
    if output.exists() and not overwrite:
        raise FileExistsError(f"output {output} already exists; choose another --output or pass --overwrite")
    metadata = {"format": "tfzoo-savedmodel-1", "tfzoo": tfzoo.__version__}
    if isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if not path.is_file():
            raise FileNotFoundError(f"model file {path} not found (expected a .keras file written by a recipe)")
        run = _run_info(path.parent)
        dataset = dataset or run.get("config", {}).get("dataset")
        metadata.update(run, source_model=str(path), source_sha256=sha256_file(path))
        model = keras.saving.load_model(path)
    if dataset is None:
        raise ValueError("dataset is unknown: pass --dataset (no config.json beside the model says it)")
    spec = get_spec(dataset)
    if tuple(model.input_shape[1:]) != spec.image_shape:
        raise ValueError(
            f"the model takes inputs of shape {list(model.input_shape[1:])} but {dataset} images are "
            f"{list(spec.image_shape)}; pass the --dataset it was trained on"
        )
    height, width, channels = spec.image_shape
    metadata.update(
        dataset=spec.name, class_names=list(spec.class_names), num_classes=spec.num_classes,
        image_shape=list(spec.image_shape), mean=list(spec.mean), std=list(spec.std),
        model_name=model.name, **(extra_metadata or {}),
    )

    def serve_images(images):
        # A loaded signature checks the dtype but not the static shape: check it at run time.
        images = tf.ensure_shape(images, [None, height, width, channels])
        logits = model(normalize(images, spec), training=False)
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
        return {"probabilities": probabilities, "classes": tf.argmax(probabilities, axis=-1, output_type=tf.int64)}

    def decode(encoded):
        image = tf.io.decode_image(encoded, channels=channels, expand_animations=False)
        return tf.ensure_shape(image, spec.image_shape)

    def serve_encoded(encoded_images):
        images = tf.map_fn(decode, encoded_images, fn_output_signature=tf.TensorSpec(spec.image_shape, tf.uint8))
        return serve_images(images)

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serving_default", serve_images,
        input_signature=[tf.TensorSpec([None, height, width, channels], tf.uint8, name="images")],
    )
    archive.add_endpoint(
        "serving_encoded", serve_encoded, input_signature=[tf.TensorSpec([None], tf.string, name="encoded_images")]
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output.name}.tmp-", dir=output.parent))
    try:
        archive.write_out(str(tmp / "saved_model"), verbose=False)
        (tmp / "saved_model" / METADATA).parent.mkdir(parents=True, exist_ok=True)
        (tmp / "saved_model" / METADATA).write_text(json.dumps(metadata, indent=2, sort_keys=True))
        _replace_dir(tmp / "saved_model", output)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return metadata


def tf_error_line(error):
    """The one informative line of a TensorFlow runtime error (not "Graph execution error:")."""
    for line in error.message.splitlines():
        line = line.strip()
        if line and not line.startswith(("Graph execution error", "Detected at node", "<stack traces", "[[")):
            return line.split(" [Op:")[0]
    return error.message.splitlines()[0]


def read_metadata(saved_model_dir):
    """The ``assets.extra/tfzoo.json`` dictionary of an exported SavedModel."""
    path = Path(saved_model_dir) / METADATA
    if not path.is_file():
        raise FileNotFoundError(f"{saved_model_dir} is not a tfzoo SavedModel: {METADATA} is missing")
    return json.loads(path.read_text())


def sha256_file(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _run_info(run_dir):
    """The config and headline results of the recipe run that wrote a model.keras, if present."""
    info = {}
    for name, keys in (("config.json", None), ("results.json", ("test_accuracy", "test_loss", "train_loss", "epochs"))):
        path = run_dir / name
        if path.is_file():
            data = json.loads(path.read_text())
            if keys is None:
                info["config"] = data
            else:
                info["results"] = {k: data.get(k) for k in keys}
    return info


def _replace_dir(src, dst):
    """Moves ``src`` to ``dst``; an existing ``dst`` is swapped out first and deleted after."""
    old = None
    if dst.exists():
        old = dst.with_name(f".{dst.name}.old-{os.getpid()}")
        os.replace(dst, old)
    os.replace(src, dst)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _main(argv):
    from absl import flags, logging

    from recipes.cli import fail

    FLAGS = flags.FLAGS
    logging.set_verbosity(logging.WARNING)
    if len(argv) > 1:
        fail(f"unexpected arguments {argv[1:]}; every option is a --flag")
    if not FLAGS.model or not FLAGS.output:
        fail("--model (a .keras file) and --output (a folder) are required")
    try:
        metadata = export_saved_model(FLAGS.model, FLAGS.output, dataset=FLAGS.dataset, overwrite=FLAGS.overwrite)
        check = verify_export(FLAGS.model, FLAGS.output)
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        fail(error)
    print(
        f"SavedModel {FLAGS.output}: {metadata['dataset']}, input uint8 {metadata['image_shape']}, "
        f"{metadata['num_classes']} classes; signatures {', '.join(SIGNATURES)}; "
        f"max |SavedModel - Keras| = {check:.2e} on 16 images"
    )


def verify_export(keras_path, saved_model_dir, num_images=16, seed=0):
    """Largest absolute difference between SavedModel and ``tfzoo.predict_proba`` probabilities
    on ``num_images`` random uint8 images."""
    import keras
    import numpy as np
    import tensorflow as tf

    from tfzoo.inference import predict_proba

    metadata = read_metadata(saved_model_dir)
    images = np.random.RandomState(seed).randint(0, 256, size=(num_images, *metadata["image_shape"]), dtype=np.uint8)
    served = tf.saved_model.load(str(saved_model_dir)).signatures["serving_default"](images=tf.constant(images))
    expected = predict_proba(keras.saving.load_model(keras_path), images, metadata["dataset"])
    return float(np.max(np.abs(served["probabilities"].numpy() - expected)))


if __name__ == "__main__":
    from absl import flags

    from recipes import cli

    flags.DEFINE_string("model", None, "The .keras file a recipe wrote (e.g. runs/demo/model.keras).")
    flags.DEFINE_string("output", None, "The SavedModel folder to write.")
    flags.DEFINE_string("dataset", None, "Dataset the model was trained on (default: the run's config.json).")
    flags.DEFINE_boolean("overwrite", False, "Replace an existing --output.")
    cli.run(_main)
