"""tests/bench: every test leaves Keras's global dtype policy as it found it (float32)."""

import keras
import pytest


@pytest.fixture(autouse=True)
def _float32_policy():
    yield
    policy = keras.config.dtype_policy().name
    keras.config.set_dtype_policy("float32")
    assert policy == "float32", f"a test left the global dtype policy at {policy!r}"
