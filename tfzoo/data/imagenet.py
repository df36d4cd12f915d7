"""ImageNet (ILSVRC 2012) as a tf.data stream, read through TFDS's manual download.

Users put ``ILSVRC2012_img_train.tar`` and ``ILSVRC2012_img_val.tar`` in ``data_dir``
(TFDS's ``manual_dir``); the first use prepares TFDS's records beside them, later uses
read the records (the tars may then go). The streams follow the ResNet protocol of
"Batch normalization has multiple benefits", section 5 (He et al. 2016a): training images get
the Inception-style random-resized crop (8-100 % of the area, aspect ratio 3/4-4/3, 10 tries,
else the whole image) to 224 x 224 and a horizontal flip; evaluation images are resized so the
shorter side is 256 and centre-cropped to 224 (done as a centre crop of 224/256 of the shorter
side, decoded alone, then resized: the same sampling grid, without decoding the border; only the
outer two output pixels differ, bilinear reading no pixel beyond the crop).

Like ``pipeline.py``, the training stream is a pure function of (seed, epoch, position):
epoch ``e`` reads the records in TFDS's stored order (shuffled once, when TFDS prepared
them), permutes each window of ``shuffle_window`` consecutive records by (seed, e, window),
and draws each example's crop, flip and cutout from (seed, e, position). No stateful
shuffle buffer is involved, so ``start_epoch=k`` gives exactly the tail of the stream.
"""

import os
from pathlib import Path

from tfzoo.data.augment import AugmentConfig
from tfzoo.data.pipeline import (AUGMENT, MIXUP, SHUFFLE, check_int, check_stream_args, epoch_numbers,
                                 finish_batch, fold_seed, normalize, root_seed, steps_per_epoch)
from tfzoo.data.sources import ENV_VAR, one_line
from tfzoo.data.catalog import get_spec
from tfzoo.data.specs import DataError
from tfzoo.lazy import LazyModule

tf = LazyModule("tensorflow")  # used on the TensorFlow backend only

NAME = "imagenet2012"
MANUAL_FILES = ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar")
SPLITS = {"train": "train", "test": "validation", "validation": "validation"}  # ours -> TFDS's
EVAL_RESIZE = 256  # shorter side before the centre crop
CROP_AREA = (0.08, 1.0)
CROP_ASPECT = (3 / 4, 4 / 3)
CROP_ATTEMPTS = 10
SHUFFLE_WINDOW = 10_000  # records permuted together; about 1.1 GB of JPEG bytes on ImageNet


def imagenet_builder(data_dir=None):
    """The TFDS ``imagenet2012`` builder over ``data_dir``, prepared.

    ``data_dir`` (else ``$TFZOO_DATA_DIR``, else TFDS's default folder) holds either TFDS's
    prepared records or the two tars of the manual download (in the folder itself or in
    its ``downloads/manual``). Preparing runs once and takes hours. Raises ``DataError``
    (one line naming the folder and the files) when neither is there: nothing is fetched
    from the network, so nothing waits on it.
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise DataError(f"{NAME} is read through tensorflow_datasets, which cannot be imported ({e})") from None
    root = data_dir or os.environ.get(ENV_VAR)
    root = Path(root).expanduser() if root else None
    if root is not None and root.is_file():
        raise DataError(f"data_dir={root} is a file: pass the folder holding {' and '.join(MANUAL_FILES)}")
    builder = tfds.builder(NAME, data_dir=None if root is None else os.fspath(root))
    if builder.is_prepared():
        return builder
    root = root or Path(builder.data_dir_root)
    candidates = (root, root / "downloads" / "manual")
    manual_dir = next((d for d in candidates if all((d / name).is_file() for name in MANUAL_FILES)), None)
    if manual_dir is None:
        missing = [name for name in MANUAL_FILES if not (root / name).is_file()]
        raise DataError(
            f"{NAME} is not prepared in {root} and the manual download is not there: put "
            f"{' and '.join(MANUAL_FILES)} (from https://image-net.org/download-images) in {root}; "
            f"missing: {', '.join(missing)}"
        )
    config = tfds.download.DownloadConfig(manual_dir=os.fspath(manual_dir), try_download_gcs=False)
    try:
        builder.download_and_prepare(download_config=config)
    except Exception as e:  # truncated tars, a full disk, ...: TFDS raises many types
        raise DataError(f"preparing {NAME} from {manual_dir} into {root} failed: {one_line(e)}") from None
    return builder


def imagenet_num_examples(source=None, split="train", max_examples=None):
    """Examples in ``split`` ("train", "test" = TFDS's "validation"), at most ``max_examples``."""
    builder = _builder(source)
    return _count(builder, _records(builder, split, max_examples), split, max_examples)


def make_imagenet_train_dataset(source=None, *, batch_size, seed, augment=AugmentConfig(), start_epoch=0,
                                num_epochs=None, max_examples=None, shuffle_window=SHUFFLE_WINDOW):
    """Augmented training batches ``(float32 [B, 224, 224, 3] normalized, float32 one-hot [B, 1000])``.

    ``source``: a prepared builder (``imagenet_builder``) or its ``data_dir``. Epochs
    ``start_epoch, ...`` (``num_epochs`` of them, or forever), each ``N // batch_size``
    batches of the first ``max_examples`` (default all) training images. Per example:
    random-resized crop, flip (``augment.flip``, default on); per batch: normalize,
    cutout, mixup as ``augment`` says. ``augment.pad`` does not apply: the crop replaces it.
    """
    spec = get_spec(NAME)
    check_stream_args(spec, seed=seed, augment=augment, start_epoch=start_epoch, num_epochs=num_epochs)
    check_int("shuffle_window", shuffle_window, minimum=1)
    builder = _builder(source)
    records = _records(builder, "train", max_examples)
    steps = steps_per_epoch(_count(builder, records, "train", max_examples), batch_size)
    flip_enabled = spec.flip if augment.flip is None else augment.flip
    height, width, _ = spec.image_shape
    root = root_seed(seed)

    def epoch_examples(epoch):
        def permute(window_index, window):
            jpegs, labels = window
            order = tf.random.experimental.stateless_shuffle(
                tf.range(tf.shape(labels)[0]), fold_seed(root, SHUFFLE, epoch, window_index))
            return tf.gather(jpegs, order), tf.gather(labels, order)

        examples = records.batch(shuffle_window).enumerate().map(permute).unbatch().take(steps * batch_size)
        return examples.enumerate().map(lambda position, example: (epoch, position, *example))

    def decode(epoch, position, jpeg, label):
        seeds = tf.random.experimental.stateless_split(fold_seed(root, AUGMENT, epoch, position), 3)
        crop_seed, flip_seed, cutout_seed = tf.unstack(seeds)
        image = _resize(tf.image.decode_and_crop_jpeg(jpeg, random_crop_window(jpeg, crop_seed), channels=3))
        if flip_enabled:
            image = tf.where(tf.random.stateless_uniform([], flip_seed) < 0.5, tf.reverse(image, [1]), image)
        centre = tf.random.stateless_uniform([], cutout_seed, minval=0, maxval=height * width, dtype=tf.int32)
        return {"image": image, "label": label, "centre": centre, "epoch": epoch, "step": position // batch_size}

    def finish(batch):
        mixup_seed = fold_seed(root, MIXUP, batch["epoch"][0], batch["step"][0])
        return finish_batch(batch["image"], batch["label"], spec, augment, batch["centre"], mixup_seed)

    dataset = epoch_numbers(start_epoch, num_epochs).flat_map(epoch_examples)
    dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.batch(batch_size, drop_remainder=True)
    dataset = dataset.map(finish, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def make_imagenet_eval_dataset(source=None, *, batch_size, split="test", max_examples=None):
    """Batches ``(float32 [B, 224, 224, 3] normalized, float32 one-hot [B, 1000])`` in stored order,
    remainder kept: shorter side resized to 256, centre crop 224. ``split`` "test" is TFDS's
    "validation" (the 50,000 images ImageNet results are reported on); "train" for the training loss."""
    spec = get_spec(NAME)
    check_int("batch_size", batch_size, minimum=1)
    records = _records(_builder(source), split, max_examples)
    dataset = records.map(lambda jpeg, label: (decode_center_crop(jpeg), label),
                          num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.batch(batch_size)
    dataset = dataset.map(lambda x, y: (normalize(x, spec), tf.one_hot(y, spec.num_classes)),
                          num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def random_crop_window(jpeg, seed):
    """``[top, left, height, width]`` (int32) of an Inception-style crop of the encoded image:
    area in ``CROP_AREA`` of the image, aspect ratio in ``CROP_ASPECT``, ``CROP_ATTEMPTS`` tries,
    else the whole image; drawn from the stateless ``seed``."""
    begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.io.extract_jpeg_shape(jpeg),
        bounding_boxes=tf.constant([0.0, 0.0, 1.0, 1.0], shape=[1, 1, 4]),
        seed=seed,
        min_object_covered=0.0,
        aspect_ratio_range=CROP_ASPECT,
        area_range=CROP_AREA,
        max_attempts=CROP_ATTEMPTS,
        use_image_if_no_bounding_boxes=True,
    )
    return tf.stack([begin[0], begin[1], size[0], size[1]])


def decode_center_crop(jpeg):
    """float32 [224, 224, 3] (0..255): the centre square of side 224/256 of the shorter side, resized."""
    shape = tf.io.extract_jpeg_shape(jpeg)
    height, width = shape[0], shape[1]
    side = get_spec(NAME).image_shape[0]
    crop = tf.maximum(1, tf.cast(tf.round(tf.cast(tf.minimum(height, width), tf.float32) * side / EVAL_RESIZE),
                                 tf.int32))
    window = tf.stack([(height - crop) // 2, (width - crop) // 2, crop, crop])
    return _resize(tf.image.decode_and_crop_jpeg(jpeg, window, channels=3))


def _resize(image):
    return tf.image.resize(image, get_spec(NAME).image_shape[:2], method="bilinear")


def _builder(source):
    return source if hasattr(source, "as_dataset") else imagenet_builder(source)


def _tfds_split(split, max_examples):
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r} for {NAME}; accepted: {', '.join(SPLITS)}")
    if max_examples is None:
        return SPLITS[split]
    check_int("max_examples", max_examples, minimum=1)
    return f"{SPLITS[split]}[:{max_examples}]"


def _count(builder, records, split, max_examples):
    count = int(records.cardinality())
    if count < 0:  # unknown to tf.data: the split's metadata knows
        count = builder.info.splits[_tfds_split(split, max_examples)].num_examples
    return count


def _records(builder, split, max_examples):
    """(encoded JPEG bytes, int64 label) of the split in TFDS's stored order, not decoded."""
    import tensorflow_datasets as tfds

    dataset = builder.as_dataset(split=_tfds_split(split, max_examples), shuffle_files=False,
                                 decoders={"image": tfds.decode.SkipDecoding()})
    return dataset.map(lambda example: (example["image"], example["label"]))
