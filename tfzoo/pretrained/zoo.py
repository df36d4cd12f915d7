"""The shipped pretrained entries: data for the registry, one ``register`` call each.

Each entry names its preset archive (``package:`` file in ``tfzoo/pretrained_models`` or an https URL) and
its sha256, and carries its model card: data set, test accuracy (re-measured from the archive by
``tests/test_pretrained.py``), epochs, the command that trained and packed it, the machine, how its
learning rate was chosen, license and paper. ``python -m export.model_cards`` renders them into
``docs/pretrained.md`` and README.md.
"""

from tfzoo.data.catalog import get_spec
from tfzoo.pretrained.registry import PretrainedModel, register

_FASHION = get_spec("fashion_mnist").class_names

# The converged Fashion-MNIST zoo (docs/results/fashion_mnist.md): configs/zoo/fashion_mnist.sh, one entry per scheme.
_ZOO_EPYC = ("AMD EPYC with AVX512-BF16, no AMX (lscpu: 'AMD EPYC', family 25 model 17), 2 cores, no GPU; "
             "TensorFlow 2.21 (oneDNN), Keras 3.15; tfzoo 0.1.0")
_ZOO_XEON = ("Intel Xeon with AVX512-BF16 and AMX-BF16 (lscpu: 'Intel(R) Xeon(R) Processor', flags include avx512_bf16 "
             "amx_bf16 amx_tile), 2 cores, no GPU; TensorFlow 2.21 (oneDNN), Keras 3.15; tfzoo 0.1.0")
_ZOO_SEARCH = ("2^{e}: the best validation accuracy of recipes.lr_search over {grid} (1 run each, 3 epochs on 15,000 "
               "training images), measured on 10,000 images held out of the training set (--validation_examples); the "
               "test set was not used. `{env}EPOCHS={epochs} bash configs/zoo/fashion_mnist.sh {scheme}` runs the search "
               "and the training")


def _zoo_entry(scheme, normalization, init, *, lr_exponent, grid, sha256, size, test_accuracy, training_seconds,
               batch_size=128, epochs=60, machine=None):
    """The entry of one scheme of the zoo, trained by ``bash configs/zoo/fashion_mnist.sh SCHEME``: WRN-16-2, 60 epochs,
    bf16 (what ``--precision=auto`` picked), at the rate of the scheme's validation-split search. The zoo trains at
    batch 128; ``batch_size=64`` is a run of ``BATCH=64 bash configs/zoo/fashion_mnist.sh SCHEME`` (the paper's WRN
    batch, its Tables 1 and 2), which trains in ``runs/zoo/SCHEME-b64``; ``epochs=120`` one of ``EPOCHS=120 ...``, in
    ``runs/zoo/SCHEME-e120``. ``machine``: the AMD EPYC unless named; what else shared
    its 2 cores during each run is told in docs/results/fashion_mnist.md."""
    name = f"wrn-16-2-{scheme}-fashion_mnist"
    run = scheme + ("" if batch_size == 128 else f"-b{batch_size}") + ("" if epochs == 60 else f"-e{epochs}")
    env = "" if batch_size == 128 else f"BATCH={batch_size} "
    ghost = 64 if normalization == "ghost_batch_norm" else batch_size
    one_step = " --accumulate_ghost_batches=false" if normalization == "ghost_batch_norm" else ""  # the layers split 128
    return PretrainedModel(
        name=name, source=f"package:{name}.tar.gz", sha256=sha256, size=size,
        dataset="fashion_mnist", model="wrn-16-2", normalization=normalization, init=init,
        input_shape=(28, 28, 1), class_names=_FASHION,
        test_accuracy=test_accuracy, test_examples=10_000, epochs=epochs, training_seconds=training_seconds,
        machine=machine or _ZOO_EPYC, precision="bf16",
        lr_selection=_ZOO_SEARCH.format(e=lr_exponent, grid=grid, epochs=epochs, scheme=scheme, env=env),
        command="python -m recipes.cifar_wrn --depth=16 "
                f"--width=2 --dataset=fashion_mnist --batch_size={batch_size} --precision=bf16 --seed=0 "
                f"--normalization={normalization} --init={init} --ghost_batch_size={ghost}{one_step} "
                f"--lr={2.0 ** lr_exponent} --epochs={epochs} --output_dir=runs/zoo/{run} && "
                f"python -m export.archive --run=runs/zoo/{run} --output=tfzoo/pretrained_models/{name}.tar.gz "
                "--evaluate",
    )


register(_zoo_entry(
    "bn", "batch_norm", "standard", lr_exponent=-3, grid="2^-4..2^0",
    sha256="0cefabbd95188c5ac93a6740df181ced3c041a311bc0e4b3a9815f3fa4061cf1", size=2_590_190,
    test_accuracy=0.9515, training_seconds=8363.4,
))
register(_zoo_entry(
    "fixup", "none", "fixup", lr_exponent=-4, grid="2^-5..2^-1",
    sha256="1fedbf901496b823b4618cf0be82d3e4d3fb08fc3bd4be4e28d6a172586a478b", size=2_578_525,
    test_accuracy=0.9489, training_seconds=8420.3,
))
register(_zoo_entry(
    "gbn", "ghost_batch_norm", "standard", lr_exponent=-3, grid="2^-4..2^0",
    sha256="6d975adb6f5b810cca57b8c1c04513a9ba350b414d51249440e6ed51b7bccbd2", size=2_590_309,
    test_accuracy=0.9497, training_seconds=10089.47,
))
register(_zoo_entry(
    "zeroinit", "none", "zeroinit", lr_exponent=-4, grid="2^-6..2^-2", epochs=120, machine=_ZOO_XEON,
    sha256="8760f1e2e3c15c2354398e76870116aef99a7e566c6ae8a578dfdcd65e596741", size=2_583_920,
    test_accuracy=0.9527, training_seconds=13306.39,
))
register(_zoo_entry(
    "skipinit", "none", "skipinit", lr_exponent=-4, grid="2^-6..2^-2", epochs=120, machine=_ZOO_XEON,
    sha256="ec324843ed09ee4b5b73de8b91f309d78be2b1661fd70b42869d6efa7404b879", size=2_578_722,
    test_accuracy=0.9462, training_seconds=9463.19,
))


# The CIFAR-10 zoo (docs/results/cifar10.md): configs/zoo/cifar10.sh, WRN-16-4 on CIFAR-10 as re-encoded in JPEG.
_CIFAR = get_spec("cifar10").class_names  # the official order, which the folder's sorted class names are too
CIFAR_TEST = ("CIFAR-10 as re-encoded in JPEG (quality 75, 4:2:0): the test/ files of cifar10-jpeg.zip, shipped as "
              "tests/fixtures/cifar10_jpeg/cifar10-jpeg-test.zip")
CIFAR_OFFICIAL = ("the first 1,017 images of the official CIFAR-10 test_batch (official pixels; "
                  "`tfzoo-evaluate --model=NAME --dataset=cifar10 --data_dir=cifar-10-batches-py`)")
_CIFAR_SEARCH = ("2^{e}: the best validation accuracy of recipes.lr_search over {grid} (1 run each, 3 epochs on 15,000 "
                 "training images), measured on 5,000 images held out of train/ (--validation_examples); test/ was not "
                 "used. `CIFAR10_DIR=cifar10-jpeg bash configs/zoo/cifar10.sh {scheme}` runs the search and the "
                 "training")


def _cifar_entry(scheme, normalization, init, *, lr_exponent, grid, sha256, size, test_accuracy, official_accuracy,
                 training_seconds, epochs=40, machine=None):
    """The entry of one scheme of the CIFAR-10 zoo, trained by ``CIFAR10_DIR=cifar10-jpeg bash configs/zoo/cifar10.sh
    SCHEME``: WRN-16-4 on all 50,000 training files, batch 128, ``epochs`` epochs, ``--precision=auto`` (bf16 on the
    CPUs used), at the rate of the scheme's validation-split search; packed with its card by ``export.archive
    --card``. ``official_accuracy``: measured once on the official pixels of ``CIFAR_OFFICIAL``."""
    name = f"wrn-16-4-{scheme}-cifar10_jpeg"
    run = f"runs/zoo/cifar10/{scheme}" + ("" if epochs == 40 else f"-e{epochs}")
    ghost = 64 if normalization == "ghost_batch_norm" else 128
    one_step = " --accumulate_ghost_batches=false" if normalization == "ghost_batch_norm" else ""
    return PretrainedModel(
        name=name, source=f"package:{name}.tar.gz", sha256=sha256, size=size,
        dataset="cifar10-jpeg", model="wrn-16-4", normalization=normalization, init=init,
        input_shape=(32, 32, 3), class_names=_CIFAR,
        test_accuracy=test_accuracy, test_examples=10_000, epochs=epochs, training_seconds=training_seconds,
        machine=machine or _ZOO_EPYC, precision="bf16", test_split=CIFAR_TEST,
        other_results=((CIFAR_OFFICIAL, official_accuracy, 1017),),
        lr_selection=_CIFAR_SEARCH.format(e=lr_exponent, grid=grid, scheme=scheme),
        data_preparation="unzip -q cifar10-jpeg.zip  # all 60,000 CIFAR-10 images: cifar10-jpeg/{train,test}/<class>/",
        command="python -m recipes.cifar_wrn --depth=16 --width=4 --dataset=folder --data_dir=cifar10-jpeg "
                f"--batch_size=128 --precision=auto --seed=0 --normalization={normalization} --init={init} "
                f"--ghost_batch_size={ghost}{one_step} --lr={2.0 ** lr_exponent} --epochs={epochs} --output_dir={run} && "
                f"python -m export.archive --run={run} --output=tfzoo/pretrained_models/{name}.tar.gz --evaluate "
                f"--data_dir=tests/fixtures/cifar10_jpeg/cifar10-jpeg-test.zip --card={name}",
    )


register(_cifar_entry(
    "zeroinit", "none", "zeroinit", lr_exponent=-4, grid="2^-6..2^-2",
    sha256="7c26bd7535db01179efac26b2427be391d9c2c824cf56d6cca3d3d4d2ee91c0c", size=10_241_700,
    test_accuracy=0.8837, official_accuracy=0.8948, training_seconds=17265.04,
))

register(_cifar_entry(
    "bn", "batch_norm", "standard", lr_exponent=-4, grid="2^-5..2^0 (2^-5 probed after the 2^-4..2^0 grid)",
    sha256="13d775fa280ac9381a3dd03c158b42c38a07691d20fecfea2b36dae63cde118e", size=10_233_731,
    test_accuracy=0.8938, official_accuracy=0.9095, training_seconds=18100.75,
))
