"""A few classes of a built-in data set written out as an image folder: a small task to fine-tune a pretrained model on.

    python -m tools.image_folder --dataset=fashion_mnist --split=test --classes=5,7,9 --per_class=30 --output=shoes
    python -m recipes.cifar_wrn --dataset=folder --data_dir=shoes --init_from=wrn-16-2-bn-fashion_mnist --epochs=3
    python -m tools.image_folder --dataset=folder --data_dir=cifar10-jpeg --split=train --classes=0,1,2,3,4,5,6,7,8,9 \
        --per_class=500 --test_per_class=100 --resize=256 --format=jpeg --output=cifar10-256   # larger images

``--dataset=folder`` trains on ``DIR/train/<class>/*`` and tests on ``DIR/test/<class>/*`` (the
layout of ``keras.utils.image_dataset_from_directory``, ``tfzoo/data/folder.py``). This writes such
a folder from real images: of each class in ``--classes`` (indices or names of the data set's
classes), the first ``--per_class`` images of ``--split`` in the release's order go to ``train/``
and the next ``--test_per_class`` (default: as many) to ``test/``, then ``--val_per_class`` (default: none) to
``val/``, the validation split a run measures on with ``--validation``, as PNG files named by their index
in the split, so the same flags always write the same files. Class folders are the class names in
lower case with anything but letters and digits as ``_`` (``Ankle boot`` -> ``ankle_boot``).
``--dataset=folder`` takes the images of an image folder (``--data_dir``) instead. ``--resize=S`` scales each
image to S x S (bicubic; upscaled images hold no more detail than their source: a benchmark's large images,
not a data set's), and ``--format=jpeg`` writes JPEG files (quality 90) instead of PNG.

Taken from the ``test`` split, the images are ones a model trained on the data set's training split
never saw (``docs/pretrained.md``'s fine-tuning example). The folder is written beside ``--output``
and renamed into place when complete: a failed or interrupted run leaves nothing; an existing
``--output`` is an error, never overwritten.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

import os
import re
import shutil
from pathlib import Path

import numpy as np

from bench.cli import FlagParser


def folder_name(class_name):
    """``Ankle boot`` -> ``ankle_boot``, ``T-shirt/top`` -> ``t_shirt_top``: a portable folder name."""
    return re.sub(r"[^a-z0-9]+", "_", class_name.lower()).strip("_")


def pick_classes(text, class_names):
    """The class indices that ``text`` (comma-separated indices or names) names; raises ValueError naming the
    first entry that is neither, with what is accepted."""
    by_name = {folder_name(name): i for i, name in enumerate(class_names)}
    picked = []
    for entry in (part.strip() for part in text.split(",") if part.strip()):
        if entry.isdigit() and int(entry) < len(class_names):
            index = int(entry)
        elif folder_name(entry) in by_name:
            index = by_name[folder_name(entry)]
        else:
            raise ValueError(f"--classes: {entry!r} is not a class; accepted: 0..{len(class_names) - 1} or "
                             + ", ".join(folder_name(name) for name in class_names))
        if index not in picked:
            picked.append(index)
    if len(picked) < 2:
        raise ValueError(f"--classes={text!r} names {len(picked)} class; a task needs at least 2")
    return picked


def select(labels, classes, per_class, test_per_class, val_per_class=0):
    """``{class: {split: indices}}``: the first ``per_class`` examples of each class in order for "train", the
    next ``test_per_class`` for "test", then ``val_per_class`` for "val" (when > 0); raises ValueError naming the
    first class that has too few."""
    counts = {"train": per_class, "test": test_per_class, "val": val_per_class}
    needed = sum(counts.values())
    chosen = {}
    for index in classes:
        found = np.flatnonzero(labels == index)
        if len(found) < needed:
            raise ValueError(f"class {index} has {len(found)} images in this split, fewer than --per_class + "
                             f"--test_per_class + --val_per_class = {needed}")
        ends = np.cumsum(list(counts.values()))
        chosen[index] = {split: found[end - count:end] for (split, count), end in zip(counts.items(), ends) if count}
    return chosen


def write_folder(images, chosen, class_names, output, *, resize=None, image_format="png"):
    """Writes the images (PNG, or JPEG of quality 90; ``resize``: scaled to that square size, bicubic) under a
    hidden folder beside ``output`` and renames it to ``output`` once complete."""
    from PIL import Image

    output = Path(output)
    staging = output.with_name(f".{output.name}.partial-{os.getpid()}")
    try:
        for index, splits in chosen.items():
            for split, picked in splits.items():
                folder = staging / split / folder_name(class_names[index])
                folder.mkdir(parents=True)
                for i in picked:
                    image = Image.fromarray(images[i][..., 0] if images[i].shape[-1] == 1 else images[i])
                    if resize:
                        image = image.resize((resize, resize), Image.Resampling.BICUBIC)
                    if image_format == "jpeg":
                        image.save(folder / f"{i:05d}.jpg", quality=90)
                    else:
                        image.save(folder / f"{i:05d}.png")
        os.replace(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return output


def main(argv=None):
    parser = FlagParser("python -m tools.image_folder", __doc__.split("\n")[0])
    parser.add_argument("--dataset", default="fashion_mnist", help="a built-in data set (tfzoo.data.specs)")
    parser.add_argument("--data_dir", default=None, help="where its files are, if not in a standard place")
    parser.add_argument("--split", default="test", choices=("train", "test"))
    parser.add_argument("--classes", required=True, help="comma-separated class indices or names, at least 2")
    parser.add_argument("--per_class", type=int, default=30, help="training images per class")
    parser.add_argument("--test_per_class", type=int, default=None, help="test images per class (default: --per_class)")
    parser.add_argument("--val_per_class", type=int, default=0, help="validation images per class, written to val/ "
                        "(default: 0, no val/)")
    parser.add_argument("--resize", type=int, default=None, help="scale every image to this square size (bicubic)")
    parser.add_argument("--format", default="png", choices=("png", "jpeg"), help="the files written")
    parser.add_argument("--output", required=True, help="the folder to write; must not exist")
    args = parser.parse_args(argv)
    from tfzoo.data import DataError, get_spec, load_arrays
    from tfzoo.data.sources import load_class_names

    test_per_class = args.per_class if args.test_per_class is None else args.test_per_class
    if args.per_class < 1 or test_per_class < 1:
        parser.error(f"--per_class and --test_per_class must be >= 1. Received: {args.per_class}, {test_per_class}")
    if args.val_per_class < 0:
        parser.error(f"--val_per_class must be >= 0. Received: --val_per_class={args.val_per_class}")
    if args.resize is not None and args.resize < 1:
        parser.error(f"--resize must be a positive size in pixels. Received: --resize={args.resize}")
    output = Path(args.output)
    if output.exists() or output.is_symlink():
        parser.error(f"--output={args.output} exists; accepted: a path that does not (nothing is overwritten)")
    if not output.parent.is_dir():
        parser.error(f"--output={args.output}: its parent folder {output.parent} does not exist")
    try:
        if args.dataset.startswith("tfds:"):
            raise DataError(f"--dataset={args.dataset}: accepted: a built-in data set such as fashion_mnist or "
                            "cifar10, or folder")
        if args.dataset == "folder":
            class_names = get_spec("folder", args.data_dir).class_names
        else:
            class_names = load_class_names(args.dataset, args.data_dir)
        classes = pick_classes(args.classes, class_names)
        images, labels = load_arrays(args.dataset, args.split, args.data_dir)
        chosen = select(labels, classes, args.per_class, test_per_class, args.val_per_class)
    except (DataError, ValueError) as error:
        parser.error(str(error).splitlines()[0])
    write_folder(images, chosen, class_names, output, resize=args.resize, image_format=args.format)
    names = ", ".join(folder_name(class_names[i]) for i in classes)
    size = f", {args.resize} x {args.resize}" if args.resize else ""
    val = f", {args.val_per_class} validation" if args.val_per_class else ""
    print(f"{output}: {len(classes)} classes ({names}), {args.per_class} training{val} and {test_per_class} test images "
          f"each{size}, from {args.dataset}'s {args.split} split")
    return output


if __name__ == "__main__":
    main()
