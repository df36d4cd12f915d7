"""bench.image_folder: the check's files per second, the read's seconds and peak memory, the stream's images per
second beside the model's, as JSON; a broken folder or a bad flag one ``error:`` line and exit 2."""

import json

import numpy as np
import pytest
from PIL import Image

from bench import image_folder


def _folder(root, count=6, broken=False):
    rng = np.random.RandomState(0)
    for i in range(count):
        split = "test" if i % 3 == 2 else "train"
        path = root / split / ("a" if i % 2 else "b") / f"{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.randint(0, 256, (16, 12, 3), np.uint8)).save(path)
    if broken:
        (root / "train" / "a" / "bad.png").write_bytes(b"")
    return root


def test_prints_the_check_the_read_the_stream_and_the_model_as_json(tmp_path, capsys):
    root = _folder(tmp_path / "images", count=30)
    result = image_folder.main([f"--data_dir={root}", "--image_size=8", "--batch_size=4", "--stream_batches=3",
                                "--model=wrn-10-1", "--model_steps=1"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert json.loads(lines[-1]) == json.loads(json.dumps(result, sort_keys=True))
    assert lines[0].startswith("check: 30 files in ") and lines[1].startswith("read: 30 images in ")
    assert lines[2].startswith("stream: set up in ") and lines[3].startswith("model: wrn-10-1 fp32 trains ")
    assert result["check"]["files"] == 30 and result["check"]["files_per_second"] > 0
    assert result["read"]["images"] == 30 and result["read"]["peak_rss_mb"] > 50  # a Python with TensorFlow
    stream = result["stream"]
    assert (stream["batches"], stream["batch_size"], stream["num_train"]) == (3, 4, 20)
    assert stream["images_per_second"] > 0 and stream["busy_cores"] > 0 and stream["peak_rss_mb"] > 50
    assert result["model"]["images_per_second"] > 0 and result["model"]["batch_size"] == 4
    assert result["stream_over_model"] == round(stream["images_per_second"] / result["model"]["images_per_second"], 2)
    assert result["image_size"] == [8, 8] and result["crop"] == "auto" and "cpu" in result and "cpu_flags" in result


@pytest.mark.parametrize("flags, message", [
    (["--image_size=0"], "--image_size must be H or H,W, positive integers. Received: --image_size=0"),
    (["--read=false"], "1 broken image file in "),
    (["--stream_batches=0"], "--stream_batches must be a positive integer. Received: --stream_batches=0"),
    (["--crop=centre"], "--crop"),
])
def test_bad_input_is_one_error_line(tmp_path, capsys, flags, message):
    root = _folder(tmp_path / "images", broken=True)
    with pytest.raises(SystemExit) as stop:
        image_folder.main([f"--data_dir={root}", *flags])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
