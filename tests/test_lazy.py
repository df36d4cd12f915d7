"""tfzoo.lazy: what lets the package import where TensorFlow is absent (Keras on JAX or PyTorch)."""

import subprocess
import sys

import pytest

from tfzoo.lazy import LazyModule


def test_a_lazy_module_is_imported_at_its_first_attribute_and_only_then():
    code = ("import sys; from tfzoo.lazy import LazyModule; m = LazyModule('tabnanny'); "
            "before = 'tabnanny' in sys.modules; print(before, m.NannyNag.__name__, 'tabnanny' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[-3:] == ["False", "NannyNag", "True"]


def test_a_missing_module_fails_when_used_not_when_named():
    missing = LazyModule("no_such_module_of_tfzoo")
    with pytest.raises(ModuleNotFoundError, match="no_such_module_of_tfzoo"):
        missing.anything


def test_importing_the_training_loop_does_not_import_tensorflow_on_jax():
    pytest.importorskip("jax")
    code = ("import sys, tfzoo.training.loop, tfzoo.training.preparation, tfzoo.data.training_data, tfzoo.distribute; "
            "print('tensorflow' in sys.modules)")
    env = {"KERAS_BACKEND": "jax", "PATH": "", "PYTHONPATH": ":".join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"
