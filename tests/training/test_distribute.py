"""tf.distribute: flags, per-replica batches and ghost batches, mirrored and multi-worker
training equal to one device, chief-only outputs, resume after a kill, fast TPU errors."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.cli_cases import assert_one_error, run_cases
from tests.conftest import CIFAR10_SUBSET, REPO
from tfzoo import distribute
from tfzoo.training import TrainConfig, train

# One run, small enough for CI: WRN-10-1 without normalization or dropout (so replicas can match
# one device exactly), 4 updates of B=64 per epoch, ghost batch 16 (4 ghost batches per update).
RUN = dict(
    dataset="cifar10", data_dir=str(CIFAR10_SUBSET), model="wrn-10-1", normalization="none", init="zeroinit",
    classifier_dropout=0.0, batch_size=64, ghost_batch_size=16, lr=0.05, epochs=2, max_train_examples=256,
)
FLAGS = [f"--{key}={value}" for key, value in RUN.items() if key != "model"] + ["--depth=10", "--width=1"]
TOLERANCE = 1e-3


def _env(**extra):
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **extra)


def _cli(output_dir, *flags, timeout=600, **env):
    return subprocess.run(
        [sys.executable, "-m", "recipes.cifar_wrn", f"--output_dir={output_dir}", *flags],
        cwd=REPO, env=_env(**env), capture_output=True, text=True, timeout=timeout,
    )


def _python(script, timeout=600):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=REPO, env=_env(),
                          capture_output=True, text=True, timeout=timeout)


def _weights(path):
    return [np.asarray(w) for w in keras.saving.load_model(path).weights]


@pytest.fixture(scope="module")
def one_device(tmp_path_factory):
    """The reference: RUN on the default strategy, in this process."""
    out = tmp_path_factory.mktemp("one_device")
    results = train(TrainConfig.create(**RUN, output_dir=str(out)), verbose=0)
    keras.backend.clear_session()
    return out, results


def test_bad_options_name_the_value():
    with pytest.raises(distribute.StrategyError, match="Unknown strategy 'horovod'; accepted: default, mirrored"):
        distribute.check_options("horovod")
    for count in (0, -2, 1.5, True):
        with pytest.raises(distribute.StrategyError, match=f"virtual_cpu_devices={count!r}"):
            distribute.check_options("mirrored", virtual_cpu_devices=count)
    with pytest.raises(distribute.StrategyError, match="only used with strategy='tpu'"):
        distribute.check_options("mirrored", tpu="grpc://10.0.0.1:8470")
    with pytest.raises(ValueError, match="Unknown strategy 'tpu2'"):
        TrainConfig.create(**RUN, strategy="tpu2").validate()


def test_batch_is_global_and_ghost_batches_are_per_replica():
    config = TrainConfig.create(**{**RUN, "normalization": "ghost_batch_norm", "batch_size": 256, "ghost_batch_size": 32})
    assert [config.accumulation(r) for r in (1, 2, 4, 8)] == [8, 4, 2, 1]
    with pytest.raises(ValueError, match=r"batch_size=256 must be a multiple of the number of replicas, 3"):
        config.accumulation(3)
    with pytest.raises(ValueError, match=r"per-replica batch 16 \(batch_size=256 over 16 replicas\) is smaller than ghost"):
        config.accumulation(16)
    whole = TrainConfig.create(**{**RUN, "normalization": "ghost_batch_norm", "batch_size": 256, "ghost_batch_size": 32,
                           "accumulate_ghost_batches": False})
    assert [whole.accumulation(r) for r in (1, 2, 4, 8)] == [1, 1, 1, 1]  # each replica's layers split its batch
    uneven = TrainConfig.create(**{**RUN, "batch_size": 192, "ghost_batch_size": 64})
    assert uneven.accumulation(1) == 3 and uneven.accumulation(3) == 1
    with pytest.raises(ValueError, match=r"per-replica batch 96 .* must be a multiple of ghost_batch_size=64"):
        uneven.accumulation(2)


def test_one_device_is_its_own_chief(tmp_path):
    from tfzoo.training import prepare

    strategy = distribute.make_strategy("default")
    assert distribute.is_default(strategy) and strategy.num_replicas_in_sync == 1
    assert distribute.is_chief(strategy) and prepare(TrainConfig.create(**RUN, output_dir=str(tmp_path / "run"))).chief


def test_virtual_cpus_after_tensorflow_started_is_a_clear_error():
    tf.constant(1.0)  # TensorFlow has initialised its devices in this process by now
    with pytest.raises(distribute.StrategyError, match="virtual_cpu_devices=3 came too late"):
        distribute.configure_virtual_cpus(3)


def test_tpu_address_without_a_server_fails_before_tensorflow_connects():
    started = time.time()
    with pytest.raises(distribute.StrategyError, match=r"cannot reach the TPU at grpc://127.0.0.1:1: .*refused"):
        distribute.make_strategy("tpu", tpu="grpc://127.0.0.1:1")
    with pytest.raises(distribute.StrategyError, match=r"bad TPU address 'grpc://host:port'"):
        distribute.check_reachable("grpc://host:port")
    assert time.time() - started < 1.0


def test_tpu_address_that_never_answers_times_out(monkeypatch):
    def black_hole(address, timeout):  # what an unroutable address does on an ordinary network
        time.sleep(timeout)
        raise TimeoutError("timed out")

    monkeypatch.setattr(distribute.socket, "create_connection", black_hole)
    with pytest.raises(distribute.StrategyError, match=r"cannot reach the TPU at grpc://10.0.0.2:8470: no answer within 0.2 s"):
        distribute.check_reachable("grpc://10.0.0.2:8470", timeout=0.2)


STRATEGY_ERRORS = [
    (["--strategy=tpu", "--tpu=grpc://127.0.0.1:1"], "cannot reach the TPU at grpc://127.0.0.1:1"),
    (["--strategy=mirrored", "--virtual_cpu_devices=3"], "batch_size=64 must be a multiple of the number of replicas, 3"),
    # Unroutable: the connect check times out after 5 s, or, behind a proxy that accepts every
    # connection, TensorFlow's first call fails; either way quickly, naming the address.
    (["--strategy=tpu", "--tpu=grpc://10.255.255.1:8470"], "TPU at grpc://10.255.255.1:8470: "),
]


@pytest.fixture(scope="module")
def strategy_error_runs(tmp_path_factory):
    """[(output dir, result, seconds)] of STRATEGY_ERRORS: the first in its own ``python -m``
    process, the other two in one process (tests/cli_cases.py), in this order: the logical CPUs
    must be configured before TensorFlow starts, and a TPU connection, even a failed one, points
    the process's later calls at that address. Each case's seconds include TensorFlow's import."""
    outs = [tmp_path_factory.mktemp("strategy") / "out" for _ in STRATEGY_ERRORS]
    started = time.time()
    own = _cli(outs[0], *STRATEGY_ERRORS[0][0], timeout=120)
    runs = [(outs[0], own, time.time() - started)]
    started = time.time()
    shared = run_cases("recipes.cifar_wrn", [[f"--output_dir={out}", *flags] for out, (flags, _) in
                                              zip(outs[1:], STRATEGY_ERRORS[1:])], env=_env(), timeout=180)
    seconds = time.time() - started
    return runs + [(out, result, seconds) for out, result in zip(outs[1:], shared)]


@pytest.mark.parametrize("case", range(len(STRATEGY_ERRORS)), ids=["tpu_refused", "replicas", "tpu_unroutable"])
def test_cli_strategy_errors_are_one_line_and_exit_2(strategy_error_runs, case):
    out, result, seconds = strategy_error_runs[case]
    assert seconds < 90  # TensorFlow's import included; a hang would take minutes
    assert_one_error(result, STRATEGY_ERRORS[case][1])
    assert not out.exists()


@pytest.mark.slow
def test_ghost_batch_norm_statistics_and_updates_are_per_replica():
    """Two logical CPUs (a subprocess: they must exist before TensorFlow starts)."""
    result = _python("""
        import numpy as np
        from tfzoo import distribute
        strategy = distribute.make_strategy("mirrored", virtual_cpu_devices=2)
        import keras, tensorflow as tf
        from tfzoo.layers import GhostBatchNormalization
        from tfzoo.training import make_optimizer
        assert strategy.num_replicas_in_sync == 2

        # One training-mode call on a global batch of 16: 8 per replica, 2 ghost batches of 4 each.
        x = (np.arange(16 * 3, dtype="float32").reshape(16, 3) % 7) * np.repeat([1, 2, 5, 9], 4)[:, None]
        with distribute.scope(strategy):
            layer = GhostBatchNormalization(ghost_batch_size=4, momentum=0.5, epsilon=1e-3)
            layer.build((None, 3))
        batch = next(iter(strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(x))))
        out = tf.function(lambda b: strategy.run(lambda v: layer(v, training=True), args=(b,)))(batch)
        ghosts = x.reshape(4, 4, 3)
        expected = (ghosts - ghosts.mean(1, keepdims=True)) / np.sqrt(ghosts.var(1, keepdims=True) + 1e-3)
        for replica, value in enumerate(strategy.experimental_local_results(out)):
            np.testing.assert_allclose(value, expected.reshape(16, 3)[8 * replica: 8 * replica + 8], atol=1e-4)
        per_replica_bn = (x[:8] - x[:8].mean(0)) / np.sqrt(x[:8].var(0) + 1e-3)
        assert np.abs(per_replica_bn - expected.reshape(16, 3)[:8]).max() > 0.1  # ghosts, not the replica batch
        for name, statistic, initial in (("moving_mean", ghosts.mean(1), 0.0), ("moving_variance", ghosts.var(1), 1.0)):
            copies = strategy.experimental_local_results(getattr(layer, name).value)
            for copy in copies:  # every replica holds the average over all 4 ghost batches
                np.testing.assert_allclose(copy, 0.5 * initial + 0.5 * statistic.mean(0), rtol=1e-5)

        # Training: 2 replicas x 2 accumulated ghost batches of 8 == one device x 4 ghost batches of 8.
        rng = np.random.RandomState(0)
        images = rng.normal(size=(64, 8, 8, 3)).astype("float32")
        labels = np.eye(4, dtype="float32")[rng.randint(0, 4, 64)]
        def fit(strategy, accumulation):
            keras.utils.set_random_seed(1)
            with distribute.scope(strategy):
                model = keras.Sequential([
                    keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3), GhostBatchNormalization(ghost_batch_size=8),
                    keras.layers.ReLU(), keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(4)])
                default = distribute.is_default(strategy)
                model.compile(make_optimizer(0.1, accumulation=accumulation if default else 1),
                              keras.losses.CategoricalCrossentropy(from_logits=True))
            data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(32).repeat()
            if default:
                data = data.rebatch(32 // accumulation)
            else:
                distribute.accumulate_gradients(model, accumulation)
            model.fit(data, epochs=2, steps_per_epoch=2 * (accumulation if default else 1), verbose=0)
            return model
        # ... == 2 replicas x one step of 16 that the layer splits (--noaccumulate_ghost_batches)
        one, two, split = fit(tf.distribute.get_strategy(), 4), fit(strategy, 2), fit(strategy, 1)
        for a, b, c in zip(one.trainable_weights, two.trainable_weights, split.trainable_weights):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5, err_msg=a.path)
            np.testing.assert_allclose(np.asarray(c), np.asarray(a), atol=1e-5, err_msg=c.path)
        for variable in two.non_trainable_weights:
            first, second = strategy.experimental_local_results(variable.value)
            np.testing.assert_array_equal(first, second)
        print("OK")
    """)
    assert result.returncode == 0 and result.stdout.strip().endswith("OK"), result.stderr[-3000:]


@pytest.mark.slow
def test_mirrored_on_two_cpus_matches_one_device(tmp_path, one_device):
    reference_dir, reference = one_device
    result = _cli(tmp_path / "out", *FLAGS, "--strategy=mirrored", "--virtual_cpu_devices=2")
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert (results["strategy"], results["num_replicas"], results["per_replica_batch_size"]) == ("mirrored", 2, 32)
    assert results["accumulation_steps"] == 2 and reference["accumulation_steps"] == 4
    for key in ("train_loss", "test_loss"):
        assert results[key] == pytest.approx(reference[key], abs=TOLERANCE), key
    ours = (tmp_path / "out" / "history.csv").read_text().splitlines()
    theirs = (reference_dir / "history.csv").read_text().splitlines()
    column = ours[0].split(",").index("loss")
    for a, b in zip(ours[1:], theirs[1:], strict=True):  # the training loss of each epoch
        assert float(a.split(",")[column]) == pytest.approx(float(b.split(",")[column]), abs=TOLERANCE)
    for a, b in zip(_weights(tmp_path / "out" / "model.keras"), _weights(reference_dir / "model.keras"), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)


def _free_ports(count):
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


@contextlib.contextmanager
def _cluster(tmp_path, output_dir, tag):
    """Two worker processes of one multi-worker job on 127.0.0.1; killed on the way out if still running."""
    ports = _free_ports(2)
    workers = []
    try:
        for index in range(2):
            tf_config = {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker", "index": index}}
            tmp = tmp_path / f"tmp_{tag}_{index}"
            tmp.mkdir()
            log = open(tmp_path / f"worker_{tag}_{index}.log", "w")
            process = subprocess.Popen(
                [sys.executable, "-m", "recipes.cifar_wrn", f"--output_dir={output_dir}", *FLAGS, "--strategy=multi_worker"],
                cwd=REPO, env=_env(TF_CONFIG=json.dumps(tf_config), TMPDIR=str(tmp)),
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
            workers.append((process, tmp, log))
        yield workers
    finally:
        for process, _, log in workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            log.close()


def _wait(workers, tmp_path, tag, timeout=400):
    deadline = time.time() + timeout
    for index, (process, _, _) in enumerate(workers):
        try:
            process.wait(max(1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            pytest.fail(f"worker {index} still running after {timeout} s")
        log = (tmp_path / f"worker_{tag}_{index}.log").read_text()
        assert process.returncode == 0, log[-3000:]


@pytest.mark.slow
def test_two_workers_train_resume_after_a_kill_and_only_the_chief_writes(tmp_path, one_device):
    out = tmp_path / "out"
    checkpoint = out / "checkpoints" / "epoch_0001.json"
    with _cluster(tmp_path, out, "killed") as workers:
        chief_pids = [workers[0][0].pid]
        deadline = time.time() + 400
        while not checkpoint.exists():
            assert time.time() < deadline and all(p.poll() is None for p, _, _ in workers), "no checkpoint"
            time.sleep(0.05)
        workers[1][0].kill()  # worker 1 dies mid-epoch 2; the chief then waits on it, and is stopped too
        workers[1][0].wait()
        workers[0][0].kill()
    assert not (out / "results.json").exists()

    with _cluster(tmp_path, out, "restarted") as workers:
        _wait(workers, tmp_path, "restarted")
        chief_pids.append(workers[0][0].pid)
        for _, tmp, _ in workers:
            assert list(tmp.iterdir()) == []  # the non-chief's temporary outputs are gone
    results = json.loads((out / "results.json").read_text())
    assert (results["strategy"], results["num_replicas"], results["epochs"]) == ("multi_worker", 2, 2)
    assert results["resumed_from_epoch"] == 1
    # Only the chiefs wrote: every TensorBoard event file is named after its writer's process id.
    events = sorted(p.name for p in (out / "tensorboard").rglob("events.out.tfevents.*"))
    assert {int(name.split(".")[-3]) for name in events} == set(chief_pids), (events, chief_pids)
    assert sorted(p.name for p in out.iterdir()) == [
        "checkpoints", "config.json", "curves.png", "flagfile.txt", "history.csv", "model.keras", "results.json",
        "tensorboard"]
    _, reference = one_device
    for key in ("train_loss", "test_loss"):
        assert results[key] == pytest.approx(reference[key], abs=TOLERANCE), key
