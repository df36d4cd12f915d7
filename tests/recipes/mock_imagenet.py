"""Runs a CLI in a fresh process on TFDS's ``mock_data``: SYNTHETIC random-noise images with random
labels in place of ImageNet (no ImageNet image exists on this machine). The manual directory holds
empty placeholders for the two archives; TFDS's preparation is mocked out."""

import os
import subprocess
import sys

from tests.conftest import REPO

_SCRIPT = """
import sys
from unittest import mock
import tensorflow_datasets as tfds
with tfds.testing.mock_data(num_examples=16):
    with mock.patch("tensorflow_datasets.core.dataset_builder.DatasetBuilder.download_and_prepare", autospec=True):
        {entry}
"""


def run_on_mock_imagenet(tmp_path, entry, *flags):
    """Runs ``entry`` (one statement; ``sys.argv[1:]`` are ``--data_dir=<placeholders>`` and ``flags``)."""
    manual = tmp_path / "manual"
    manual.mkdir(exist_ok=True)
    for name in ("ILSVRC2012_img_train.tar", "ILSVRC2012_img_val.tar"):
        (manual / name).write_bytes(b"")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([sys.executable, "-c", _SCRIPT.format(entry=entry), f"--data_dir={manual}", *flags],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
