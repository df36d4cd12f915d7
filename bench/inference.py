"""SavedModel inference: latency at batch 1 and throughput at batch 64, beside PyTorch eager.

    python -m bench.inference --model=wrn-16-4 --normalization=batch_norm --init=standard --runs=50

The model is exported as a SavedModel into a temporary folder with ``export.saved_model.
export_saved_model`` (the ``serving_default`` signature: uint8 images in, normalization, the
model, softmax probabilities and classes out), loaded back with ``tf.saved_model.load`` and
called as a server would. Where ``export/`` is absent it falls back to Keras's
``model.export`` (float32 in), normalizing outside the SavedModel but inside the timed call.
The PyTorch twin (``bench.torch_wrn``) gets the same weights and does the same work
(normalize, forward, softmax) in ``torch.inference_mode``; its probabilities are checked
against the SavedModel's. The last line of the output is JSON.
"""

import argparse
import statistics
import tempfile
from pathlib import Path

import numpy as np

from bench import common


def export_and_load(model, directory, dataset):
    """``serve(uint8 images) -> probabilities`` from a SavedModel written to ``directory``; and the exporter."""
    import tensorflow as tf

    from tfzoo.data import get_spec, normalize

    path = str(Path(directory) / "saved_model")
    try:
        from export.saved_model import export_saved_model
    except ImportError:
        model.export(path, format="tf_saved_model", verbose=False)
        endpoint = tf.saved_model.load(path).serve
        spec = get_spec(dataset)

        def serve(images):
            return tf.nn.softmax(tf.cast(endpoint(normalize(images, spec)), tf.float32)).numpy()

        return serve, "keras.Model.export"
    export_saved_model(model, path, dataset=dataset)
    signature = tf.saved_model.load(path).signatures["serving_default"]

    def serve(images):
        return signature(images=tf.constant(images))["probabilities"].numpy()

    return serve, "export.saved_model.export_saved_model"


def torch_serve(keras_model, args, spec):
    """The torch twin with the Keras weights: ``serve(uint8 NHWC images) -> probabilities``."""
    import torch

    from bench import torch_wrn

    model = torch_wrn.create_torch_model(args.model, normalization=args.normalization, init=args.init,
                                         num_classes=spec.num_classes, input_shape=spec.image_shape)
    torch_wrn.load_keras_weights(model, keras_model)
    memory_format = torch.channels_last if args.torch_memory_format == "channels_last" else torch.contiguous_format
    model.eval().to(memory_format=memory_format)
    mean = torch.tensor(spec.mean, dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(spec.std, dtype=torch.float32).view(1, -1, 1, 1)

    def serve(images):
        with torch.inference_mode():
            x = torch.from_numpy(images).permute(0, 3, 1, 2).float()
            x = ((x - mean) / std).contiguous(memory_format=memory_format)
            return torch.softmax(model(x), dim=-1).numpy()

    return serve


def latency_and_throughput(serve, images_1, images_b, runs):
    """Batch-1 latency (median and 90th percentile, ms) and batch-B images per second."""
    latency = common.time_calls(lambda: serve(images_1), steps=runs, warmup=5)
    batched = common.time_calls(lambda: serve(images_b), steps=max(3, runs // 5), warmup=2)
    return {
        "batch1_latency_ms": round(1e3 * statistics.median(latency), 3),
        "batch1_latency_p90_ms": round(1e3 * float(np.percentile(latency, 90)), 3),
        f"batch{len(images_b)}_images_per_second": round(len(images_b) / statistics.median(batched), 1),
    }


def measure(args):
    import keras

    import tfzoo
    from tfzoo.data import get_spec
    from tfzoo.precision import precision_scope

    spec = get_spec(args.dataset)
    keras.utils.set_random_seed(args.seed)
    with precision_scope(args.precision):
        model = tfzoo.create_model(args.model, normalization=args.normalization, init=args.init,
                                   num_classes=spec.num_classes, input_shape=spec.image_shape)
    rng = np.random.RandomState(args.seed)
    images_b = rng.randint(0, 256, size=(args.batch_size, *spec.image_shape), dtype=np.uint8)
    images_1 = images_b[:1]
    result = {"model": args.model, "normalization": args.normalization, "init": args.init,
              "precision": args.precision, "dataset": spec.name, "batch_size": args.batch_size, "runs": args.runs}
    with tempfile.TemporaryDirectory(prefix="tfzoo-bench-") as directory:
        serve, exporter = export_and_load(model, directory, spec.name)
        result.update(exporter=exporter, **latency_and_throughput(serve, images_1, images_b, args.runs))
        served = serve(images_b)
    throughput_key = f"batch{args.batch_size}_images_per_second"
    try:
        torch_fn = torch_serve(model, args, spec)
    except ImportError as error:
        result["torch_skipped"] = f"torch is not installed ({error})"
        return result
    result["torch_eager"] = latency_and_throughput(torch_fn, images_1, images_b, args.runs)
    result["max_abs_probability_difference_vs_torch"] = float(np.max(np.abs(served - torch_fn(images_b))))
    result["torch_over_savedmodel_batch1_latency"] = round(
        result["torch_eager"]["batch1_latency_ms"] / result["batch1_latency_ms"], 3)
    result["savedmodel_over_torch_throughput"] = round(
        result[throughput_key] / result["torch_eager"][throughput_key], 3)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.inference", description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="wrn-16-4")
    parser.add_argument("--normalization", default="batch_norm", choices=("batch_norm", "ghost_batch_norm", "none"))
    parser.add_argument("--init", default="standard", choices=("standard", "skipinit", "zeroinit", "fixup"))
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "fp16"))
    parser.add_argument("--dataset", default="cifar10", help="input shape, classes and normalization of the export")
    parser.add_argument("--batch_size", type=int, default=64, help="batch of the throughput figure")
    parser.add_argument("--runs", type=int, default=50, help="timed batch-1 calls (batched: runs // 5, at least 3)")
    parser.add_argument("--torch_memory_format", default="channels_last", choices=("channels_last", "contiguous"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.batch_size < 1 or args.runs < 1:
        parser.error("--batch_size and --runs must be >= 1")
    result = measure(args)
    print(f"SavedModel: batch 1 {result['batch1_latency_ms']:.1f} ms, batch {args.batch_size} "
          f"{result[f'batch{args.batch_size}_images_per_second']:.1f} img/s ({result['exporter']})")
    if "torch_eager" in result:
        print(f"PyTorch:    batch 1 {result['torch_eager']['batch1_latency_ms']:.1f} ms, batch {args.batch_size} "
              f"{result['torch_eager'][f'batch{args.batch_size}_images_per_second']:.1f} img/s")
    return common.print_result({**result, **common.environment()})


if __name__ == "__main__":
    main()
