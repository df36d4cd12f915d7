"""Inference of every export format side by side: latency at batch 1, throughput at batch 64, file size.

    python -m bench.inference --model=wrn-16-4 --normalization=batch_norm --init=standard --runs=50
    python -m bench.inference --pretrained=wrn-16-2-bn-fashion_mnist --formats=saved_model,litert,litert_int8,onnx

The model is exported with ``tfzoo.export`` into a temporary folder in each format of
``--formats`` (uint8 images in, normalization, the model and softmax inside, probabilities out)
and called in its own runtime as a client would: ``tf.saved_model.load`` and the
``serving_default`` signature, the LiteRT interpreter (``ai_edge_litert``, else ``tf.lite``),
ONNX Runtime on the CPU. Each format's probabilities are compared with Keras's on the same batch;
int8 rounds, so its difference is larger by design. A freshly built model (no ``--pretrained``)
is calibrated for int8 on random images; a pretrained one on its training split. The PyTorch
twin (``bench.torch_wrn``) gets the same weights and does the same work in ``torch.inference_mode``.
The CPU model and its relevant flags are part of the output; the last line is JSON.
"""

if __name__ == "__main__":  # run as a program: oneDNN's CPU kernels unless the user chose, before the imports start TensorFlow
    import os

    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as tfzoo.cli.prefer_onednn, which importing tfzoo would be too late for

import os
import statistics
import tempfile
from pathlib import Path

import numpy as np

from bench import common
from bench.cli import FlagParser
from tfzoo.models.schemes import INIT_SCHEMES, NORMALIZATIONS

FORMATS = ("saved_model", "litert", "litert_int8", "onnx")


def load_served(path, format, threads=None):
    """``serve(uint8 images) -> probabilities`` of an export, in its own runtime."""
    from tfzoo import inference

    if format == "saved_model":
        import tensorflow as tf

        signature = tf.saved_model.load(str(path)).signatures["serving_default"]
        return lambda images: signature(images=tf.constant(images))["probabilities"].numpy()
    if format == "onnx":
        session = inference.onnx_session(path, threads)
        return lambda images: inference.run_onnx(session, images)
    interpreter = inference.litert_interpreter(path, threads)
    return lambda images: inference.run_litert(interpreter, images)


def file_bytes(path):
    path = Path(path)
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


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


def make_source(args):
    """(tfzoo.export.Source, dataset spec): a pretrained model, a trained one (a .keras file or run
    folder), or a freshly built one."""
    import keras

    import tfzoo
    from tfzoo import export
    from tfzoo.precision import precision_scope

    if args.pretrained or args.model.endswith(".keras") or Path(args.model).is_dir():
        source = export.load_source(model=None if args.pretrained else args.model, pretrained=args.pretrained,
                                    dataset=None if args.pretrained else args.dataset)
        return source, source.spec
    from tfzoo.data import get_spec

    spec = get_spec(args.dataset or "cifar10")
    keras.utils.set_random_seed(args.seed)
    with precision_scope(args.precision):
        model = tfzoo.create_model(args.model, normalization=args.normalization, init=args.init,
                                   num_classes=spec.num_classes, input_shape=spec.image_shape)
    return export.source_from_model(model, spec.name), spec


def measure(args):
    from tfzoo import export

    source, spec = make_source(args)
    rng = np.random.RandomState(args.seed)
    images_b = rng.randint(0, 256, size=(args.batch_size, *spec.image_shape), dtype=np.uint8)
    images_1 = images_b[:1]
    expected = export.predict(source, images_b)
    result = {"model": args.pretrained or args.model, "dataset": spec.name, "batch_size": args.batch_size,
              "runs": args.runs, "threads": args.threads, "formats": {}}
    trained = source.path is not None or args.pretrained
    if not trained:
        result.update(normalization=args.normalization, init=args.init, precision=args.precision)
    calibration = None if trained else rng.randint(0, 256, size=(64, *spec.image_shape), dtype=np.uint8)
    if args.test_accuracy:
        from tfzoo.data import load_arrays

        test_images, test_labels = load_arrays(spec.name, "test", args.data_dir)
        keras_test = export.predict(source, test_images)
        result["keras_test_accuracy"] = float(np.mean(keras_test.argmax(axis=1) == test_labels))
    with tempfile.TemporaryDirectory(prefix="tfzoo-bench-") as directory:
        for format in args.formats:
            written = export.export(source, Path(directory) / format, format, calibration_images=calibration)
            serve = load_served(written["path"], format, args.threads)
            entry = latency_and_throughput(serve, images_1, images_b, args.runs)
            entry["file_bytes"] = file_bytes(written["path"])
            entry["max_abs_probability_difference_vs_keras"] = float(np.max(np.abs(serve(images_b) - expected)))
            if args.test_accuracy:
                classes = np.concatenate([serve(test_images[i:i + 1000]).argmax(axis=1)
                                          for i in range(0, len(test_images), 1000)])
                entry["test_accuracy"] = float(np.mean(classes == test_labels))
                entry["top1_agreement_vs_keras"] = float(np.mean(classes == keras_test.argmax(axis=1)))
            result["formats"][format] = entry
    if "saved_model" in result["formats"]:  # the SavedModel's figures at the top level, as before
        result.update({k: v for k, v in result["formats"]["saved_model"].items() if k != "file_bytes"})
    if trained or not args.torch:
        return result
    try:
        torch_fn = torch_serve(source.model, args, spec)
    except ImportError as error:
        result["torch_skipped"] = f"torch is not installed ({error})"
        return result
    result["torch_eager"] = latency_and_throughput(torch_fn, images_1, images_b, args.runs)
    result["max_abs_probability_difference_vs_torch"] = float(np.max(np.abs(expected - torch_fn(images_b))))
    return result


def table(result):
    """The formats side by side, one line each, then PyTorch eager where it ran."""
    key = f"batch{result['batch_size']}_images_per_second"
    throughput = f"batch {result['batch_size']} img/s"
    lines = [f"{'format':<12} {'batch 1 ms':>10} {'p90 ms':>8} {throughput:>14} {'size MB':>8} {'max |p - Keras|':>16}"
             + ("  test accuracy  agreement" if "keras_test_accuracy" in result else "")]
    for format, entry in result["formats"].items():
        lines.append(f"{format:<12} {entry['batch1_latency_ms']:>10.2f} {entry['batch1_latency_p90_ms']:>8.2f} "
                     f"{entry[key]:>14.1f} {entry['file_bytes'] / 1e6:>8.2f} "
                     f"{entry['max_abs_probability_difference_vs_keras']:>16.1e}"
                     + (f"  {entry['test_accuracy']:>13.4f}  {entry['top1_agreement_vs_keras']:>9.4f}"
                        if "test_accuracy" in entry else ""))
    if "torch_eager" in result:
        torch = result["torch_eager"]
        lines.append(f"{'torch eager':<12} {torch['batch1_latency_ms']:>10.2f} {torch['batch1_latency_p90_ms']:>8.2f} "
                     f"{torch[key]:>14.1f} {'':>8} {result['max_abs_probability_difference_vs_torch']:>16.1e}")
    return "\n".join(lines)


def main(argv=None):
    parser = FlagParser("python -m bench.inference", __doc__.split("\n")[0])
    parser.add_argument("--model", default="wrn-16-4", help="a registered name, or a .keras file or run folder")
    parser.add_argument("--pretrained", default=None, help="a pretrained model's name instead of a fresh --model")
    parser.add_argument("--normalization", default="batch_norm", choices=tuple(NORMALIZATIONS))
    parser.add_argument("--init", default="standard", choices=tuple(INIT_SCHEMES))
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "fp16"))
    parser.add_argument("--dataset", default=None, help="input shape, classes and normalization of the export "
                        "(default: cifar10 for a fresh model, the run's for a trained one)")
    parser.add_argument("--data_dir", default=None, help="where the data set lies (--test_accuracy, int8 calibration)")
    parser.add_argument("--test_accuracy", action="store_true", help="each format's accuracy on the test split")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated: " + ", ".join(FORMATS))
    parser.add_argument("--batch_size", type=int, default=64, help="batch of the throughput figure")
    parser.add_argument("--runs", type=int, default=50, help="timed batch-1 calls (batched: runs // 5, at least 3)")
    parser.add_argument("--threads", type=int, default=None, help="LiteRT and ONNX Runtime threads (default: theirs)")
    parser.add_argument("--torch", default=True, boolean=True, help="also time the PyTorch twin")
    parser.add_argument("--torch_memory_format", default="channels_last", choices=("channels_last", "contiguous"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.batch_size < 1 or args.runs < 1:
        parser.error("--batch_size and --runs must be >= 1")
    args.formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in args.formats if f not in FORMATS]
    if unknown or not args.formats:
        parser.error(f"--formats must name some of {', '.join(FORMATS)}. Received: {unknown or args.formats}")
    if args.precision != "fp32" and ({"litert", "litert_int8", "onnx"} & set(args.formats)):
        parser.error("--precision=bf16/fp16 applies to --formats=saved_model only (LiteRT and ONNX convert float32)")
    result = {**measure(args), **common.environment()}
    print(f"CPU: {result['cpu']} ({result['cpu_count']} logical), flags {' '.join(result['cpu_flags'])}; "
          f"threads {os.environ.get('OMP_NUM_THREADS', 'default')}")
    print(table(result))
    if "keras_test_accuracy" in result:
        print(f"Keras (float32) test accuracy {result['keras_test_accuracy']:.4f}")
    return common.print_result(result)


if __name__ == "__main__":
    main()
