"""tf.distribute strategies from a flag: ``default``, ``mirrored``, ``multi_worker``, ``tpu``.

TensorFlow-specific, so it lives here and not in layers/ or models/ (DESIGN.md). Build the
model, optimizer and ``compile`` inside ``strategy.scope()`` and ``model.fit`` runs on every
replica; each replica gets ``batch_size / num_replicas`` examples of every global batch.
Two things Keras 3.15 does not do under a strategy are done here: gradient accumulation
(``accumulate_gradients``) and averaging BN moving statistics over replicas (``scope``).
With Keras on JAX or PyTorch only ``default`` exists: ``make_strategy`` gives a ``SingleDevice``, which every
function here treats as TensorFlow's default strategy, and TensorFlow is not imported.
"""

import contextlib
import json
import os
import socket
import tempfile
import urllib.parse

import keras

from tfzoo.lazy import LazyModule

tf = LazyModule("tensorflow")  # used on the TensorFlow backend only

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")
TPU_CONNECT_TIMEOUT_S = 5.0
_MOVING_STATISTICS = ("moving_mean", "moving_variance")
_made = {}


class StrategyError(ValueError):
    """A strategy that these flags or this machine cannot give; the message says why."""


class SingleDevice:
    """The strategy of Keras on JAX or PyTorch: one process, the backend's default device, nothing to distribute
    (tf.distribute is TensorFlow's; on those backends only ``default`` runs)."""

    num_replicas_in_sync = 1

    def scope(self):
        return contextlib.nullcontext()


def _on_tensorflow():
    return keras.backend.backend() == "tensorflow"


# TensorFlow's default strategy's type, read outside any strategy's scope (inside one, get_strategy returns that one).
_DEFAULT_TYPE = type(tf.distribute.get_strategy()) if _on_tensorflow() else SingleDevice


def check_options(name, tpu=None, virtual_cpu_devices=None):
    """Raises StrategyError for a bad strategy name, TPU address or device count; touches no device."""
    if name not in STRATEGIES:
        raise StrategyError(f"Unknown strategy {name!r}; accepted: {', '.join(STRATEGIES)}.")
    if virtual_cpu_devices is not None and (
        isinstance(virtual_cpu_devices, bool) or not isinstance(virtual_cpu_devices, int) or virtual_cpu_devices < 1
    ):
        raise StrategyError(
            f"virtual_cpu_devices must be a positive integer. Received: virtual_cpu_devices={virtual_cpu_devices!r}"
        )
    if tpu and name != "tpu":
        raise StrategyError(f"tpu={tpu!r} is only used with strategy='tpu'. Received: strategy={name!r}")
    if name != "default" and not _on_tensorflow():
        raise StrategyError(f"strategy={name!r} is a tf.distribute strategy and needs KERAS_BACKEND=tensorflow; "
                            f"on {keras.backend.backend()} only strategy='default' runs (one device)")


def make_strategy(name="default", tpu=None, virtual_cpu_devices=None):
    """The ``tf.distribute.Strategy`` called ``name``, made once per process and then reused.

    ``mirrored``: one replica per local GPU, or per logical CPU when there is no GPU or
    ``virtual_cpu_devices`` is given.
    ``multi_worker``: ``MultiWorkerMirroredStrategy`` over the cluster in ``$TF_CONFIG``.
    ``tpu``: ``TPUStrategy`` on the TPU at ``tpu`` (``grpc://host:port`` or a Cloud TPU name;
    none: this TPU VM's own). ``virtual_cpu_devices=N`` splits the CPU into N logical devices
    first, which must happen before TensorFlow initialises its devices.
    """
    check_options(name, tpu, virtual_cpu_devices)
    if not _on_tensorflow():
        return SingleDevice()
    key = (name, tpu or None, virtual_cpu_devices)
    if key not in _made:
        if virtual_cpu_devices:
            configure_virtual_cpus(virtual_cpu_devices)
        _made[key] = _BUILDERS[name](tpu, virtual_cpu_devices)
    return _made[key]


def configure_virtual_cpus(count):
    """Splits the CPU into ``count`` logical devices (``/cpu:0`` ... ``/cpu:{count-1}``)."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:
        existing = len(tf.config.list_logical_devices("CPU"))
        if existing != count:
            raise StrategyError(
                f"virtual_cpu_devices={count} came too late: TensorFlow has already initialised its devices "
                f"({existing} logical CPU). Make the strategy before anything runs a TensorFlow op "
                "(recipes do it in train_flags.check_or_exit, before training)."
            ) from None


def _default(tpu, virtual_cpu_devices):
    return tf.distribute.get_strategy()


def _mirrored(tpu, virtual_cpu_devices):
    if virtual_cpu_devices:
        devices = tf.config.list_logical_devices("CPU")
    else:
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([device.name for device in devices])


def _multi_worker(tpu, virtual_cpu_devices):
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise StrategyError("strategy='multi_worker' reads the cluster from $TF_CONFIG, which is not set.")
    try:
        config = json.loads(raw)
        workers = config["cluster"]["worker"]
        task = config["task"]
        if task["type"] not in config["cluster"] or not 0 <= int(task["index"]) < len(config["cluster"][task["type"]]):
            raise ValueError(f"task {task} is not in the cluster")
    except (ValueError, KeyError, TypeError) as error:
        raise StrategyError(f"$TF_CONFIG is not a valid cluster for strategy='multi_worker' ({error}): {raw}") from None
    if len(workers) + len(config["cluster"].get("chief", [])) < 2:
        raise StrategyError(f"$TF_CONFIG lists a single task; strategy='multi_worker' needs two or more: {raw}")
    return tf.distribute.MultiWorkerMirroredStrategy()


def _tpu(address, virtual_cpu_devices):
    where = f"the TPU at {address}" if address else "this machine's TPU"
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=address or "local")
        master = resolver.master()  # grpc://host:port; a Cloud TPU name resolves to one
    except (ImportError, ValueError, RuntimeError) as error:
        raise StrategyError(f"cannot use {where}: {_first_line(error)}") from None
    if master:
        check_reachable(master)
    try:
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as error:
        raise StrategyError(f"cannot use {where}: {_first_line(error)}") from None
    return tf.distribute.TPUStrategy(resolver)


def _first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


_BUILDERS = {"default": _default, "mirrored": _mirrored, "multi_worker": _multi_worker, "tpu": _tpu}


def check_reachable(address, timeout=TPU_CONNECT_TIMEOUT_S):
    """Raises StrategyError unless a TCP connection to ``grpc://host:port`` opens within ``timeout`` s.

    Names without a port (Cloud TPU names) are left to the resolver. Without this check
    TensorFlow would wait for an unreachable TPU for minutes.
    """
    parsed = urllib.parse.urlparse(address if "://" in address else f"grpc://{address}")
    try:
        port = parsed.port
    except ValueError:
        raise StrategyError(f"bad TPU address {address!r}: the port is not a number") from None
    if port is None:
        return
    try:
        socket.create_connection((parsed.hostname, port), timeout=timeout).close()
    except OSError as error:
        reason = f"no answer within {timeout:g} s" if isinstance(error, TimeoutError) else (error.strerror or str(error))
        raise StrategyError(f"cannot reach the TPU at {address}: {reason}") from None


def is_default(strategy):
    """True for TensorFlow's default (no-op) strategy, or ``SingleDevice``: one replica, no scope needed."""
    return isinstance(strategy, (SingleDevice, _DEFAULT_TYPE))


def is_chief(strategy):
    """True unless this process is a non-chief worker of a multi-worker cluster.

    The chief is the task of type "chief", or worker 0 when the cluster has no chief
    (the convention of TensorFlow's multi-worker tutorials).
    """
    if is_default(strategy) or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    resolver = strategy.cluster_resolver
    if resolver.task_type in (None, "chief"):
        return True
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in resolver.cluster_spec().as_dict()


def writable_dir(output_dir, chief):
    """``output_dir`` for the chief; a temporary directory, removed on exit, for other workers.

    Every worker runs the same saving code (Keras's multi-worker pattern); only the chief's
    files are kept.
    """
    if chief:
        return contextlib.nullcontext(str(output_dir))
    return tempfile.TemporaryDirectory(prefix="tfzoo-worker-")


def same_on_all_workers(strategy, value, what):
    """Raises ValueError unless every worker passes the same integer ``value`` (one all-gather)."""
    if is_default(strategy) or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return
    values = strategy.gather(strategy.run(lambda: tf.constant([int(value)], tf.int64)), axis=0).numpy().tolist()
    if len(set(values)) > 1:
        raise ValueError(
            f"the workers disagree on {what}: {values} (one per replica); output_dir must be one "
            "directory that every worker sees (a shared filesystem)."
        )


def shard_by_example(dataset, strategy):
    """Multi-worker auto-sharding by example (each worker takes its replicas' slice of every
    global batch), not by file; in-memory datasets have no files."""
    if is_default(strategy):
        return dataset
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


@contextlib.contextmanager
def scope(strategy):
    """``strategy.scope()``, in which BN moving statistics are averaged over replicas.

    Keras 3.15 creates moving statistics with aggregation "none": under a strategy each replica
    would keep its own moving averages, evaluation would mix them and saving would keep replica
    0's. Created with MEAN, every update averages the replicas' values, so all copies stay
    equal: the moving average of the statistics of every replica's (ghost) batches.
    """
    with strategy.scope():
        if is_default(strategy):
            yield
            return
        with tf.variable_creator_scope(_mean_moving_statistics):
            yield


def _mean_moving_statistics(next_creator, **kwargs):
    name = (kwargs.get("name") or "").rsplit("/", 1)[-1].split(":")[0]
    if name in _MOVING_STATISTICS and kwargs.get("aggregation") in (None, tf.VariableAggregation.NONE):
        kwargs["aggregation"] = tf.VariableAggregation.MEAN
    return next_creator(**kwargs)


def prepare_fit(model, strategy, dataset, accumulation=1):
    """Readies a compiled model for ``fit`` under ``strategy``; nothing under the default one.

    Installs ``accumulate_gradients(model, accumulation)``. Under MultiWorkerMirroredStrategy
    also works around two failures of Keras 3.15 (keras-team/keras#20585). Build: Keras builds
    the compiled loss, metrics and optimizer from a first batch that it reduces over the
    replicas, which fails; they are built from ``dataset``'s element spec instead. Logs: Keras
    averages each replica's metric values along axis 0, which scalars lack; the steps return
    them with a leading axis of 1 (the values are equal on every replica).
    """
    if is_default(strategy):
        return
    accumulate_gradients(model, accumulation)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return
    with strategy.scope():
        model._symbolic_build(data_batch=dataset.element_spec)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    model.train_step = _with_leading_axis(model.train_step)
    model.test_step = _with_leading_axis(model.test_step)


def _with_leading_axis(step):
    return lambda data: tf.nest.map_structure(lambda value: tf.reshape(value, [1]), step(data))


def accumulate_gradients(model, steps):
    """Makes ``model.fit`` split each replica's batch into ``steps`` micro-batches, add their
    gradients and apply their mean in one update: gradient accumulation under a strategy.

    Keras's own (``SGD(gradient_accumulation_steps=...)``) puts the cross-replica gradient sum
    inside a ``cond``, which tf.distribute refuses. Here the micro-batches are unrolled and the
    optimizer sums the gradients over replicas once per update, outside any ``cond``. The loss
    metric averages the micro-batch losses, as Keras's accumulation does.
    """
    if steps == 1:
        return model

    def train_step(data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if sample_weight is not None:
            raise ValueError("accumulate_gradients does not support sample weights.")
        tracker = next(metric for metric in model.metrics if metric.name == "loss")
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        variables = model.trainable_variables
        total = [None] * len(variables)
        for x_part, y_part in zip(tf.split(x, steps), tf.split(y, steps)):
            with tf.GradientTape() as tape:
                y_pred = model(x_part, training=True)
                # Keras divides by the replica count so that the replicas' gradients sum to the mean.
                loss = model.compute_loss(x=x_part, y=y_part, y_pred=y_pred, training=True)
            tracker.update_state(loss * replicas, sample_weight=tf.shape(x_part)[0])
            grads = tape.gradient(model.optimizer.scale_loss(loss), variables)
            total = [g if t is None else t if g is None else t + g for t, g in zip(total, grads)]
            model.compute_metrics(x_part, y_part, y_pred)
        model.optimizer.apply_gradients([(g / steps, v) for g, v in zip(total, variables) if g is not None])
        return model.get_metrics_result()

    model.train_step = train_step
    return model
