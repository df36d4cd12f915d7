"""Pack a training run into a pretrained archive: its Keras weights and a float32 SavedModel.

    digest, size = pack_run("runs/zoo/bn", "tfzoo/pretrained_models/NAME.tar.gz")

The archive holds ``model.weights.h5`` (what ``create_model(pretrained=...)`` loads) and
``saved_model/`` (what serving loads), both from the run's ``model.keras``. The SavedModel is
exported from a float32 build of the architecture carrying the trained weights, so a model
trained in mixed precision serves, and is loaded by ``create_model``, in float32 alike.
Archives are reproducible in their layout: sorted members owned by 0:0 with mtime 0 and a
gzip header without a timestamp.
"""

import gzip
import hashlib
import io
import json
import tarfile
import tempfile
from pathlib import Path

from tfzoo.pretrained import WEIGHTS_MEMBER
from tfzoo.training.outputs import write_bytes_atomic


class PackError(ValueError):
    """A run folder that cannot be packed; the message is one line."""


def run_architecture(run_dir):
    """(model name, ``ModelOptions``, dataset spec) of a run, from its
    config.json and the data set's spec that its results.json records."""
    from tfzoo.data import DatasetSpec, get_spec
    from tfzoo.training.config import TrainConfig

    paths = [Path(run_dir) / name for name in ("config.json", "results.json")]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise PackError(f"{run_dir} holds no {' or '.join(missing)}: not a finished run folder written by a recipe")
    try:
        config, results = (json.loads(p.read_text()) for p in paths)
        config = TrainConfig(**config)
    except (ValueError, TypeError) as error:
        raise PackError(f"{run_dir}: unreadable config.json or results.json ({error})") from None
    recorded = results.get("dataset_spec")
    if recorded:
        spec = DatasetSpec.from_dict(recorded)
    else:
        spec = get_spec(config.dataset, config.data_dir)
    return config.model, config.model_options(spec), spec


def pack_run(run_dir, output):
    """Writes the archive of ``run_dir`` (a finished run: config.json and model.keras) to
    ``output`` atomically; returns (sha256, size in bytes)."""
    import keras

    import tfzoo
    from tfzoo import export as export_lib
    from tfzoo.models import folding
    from tfzoo.precision import precision_scope

    run_dir = Path(run_dir)
    if not (run_dir / "model.keras").is_file():
        raise PackError(f"{run_dir} holds no model.keras: the run has not finished")
    if Path(output).resolve().is_relative_to(run_dir.resolve()):
        raise PackError(f"output {output} lies inside the run folder {run_dir}; choose a path outside it")
    name, options, spec = run_architecture(run_dir)
    with tempfile.TemporaryDirectory(prefix="tfzoo-pack-") as tmp:
        tmp = Path(tmp)
        keras.saving.load_model(run_dir / "model.keras", compile=False).save_weights(tmp / WEIGHTS_MEMBER)
        with precision_scope("fp32"):
            model = tfzoo.create_model(name, options=options)
            # a run begun before the multiplier was folded into its convolution: its layout, converted
            folding.load_weights(model, tmp / WEIGHTS_MEMBER,
                                 lambda: tfzoo.create_model(name, options=options.replace(fold_multiplier=False)))
        export_lib.export(export_lib.source_from_model(model, spec), tmp / "saved_model", "saved_model")
        data = reproducible_tar_gz({WEIGHTS_MEMBER: tmp / WEIGHTS_MEMBER, "saved_model": tmp / "saved_model"})
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(output, data)
    return hashlib.sha256(data).hexdigest(), len(data)


def reproducible_tar_gz(members):
    """The bytes of a tar.gz holding each ``{name: path}`` (a file, or a folder with all it holds)
    under ``name``: sorted, owned by 0:0 with mtime 0 and fixed modes, so the same files give the
    same bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, top in members.items():
                top = Path(top)
                for path in [top, *sorted(top.rglob("*"))] if top.is_dir() else [top]:
                    info = tar.gettarinfo(str(path), arcname=str(Path(name) / path.relative_to(top)))
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    info.mtime = 0
                    info.mode = 0o755 if path.is_dir() else 0o644
                    if path.is_file():
                        with open(path, "rb") as f:
                            tar.addfile(info, f)
                    else:
                        tar.addfile(info)
    return buffer.getvalue()
