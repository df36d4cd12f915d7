"""Package exports imported on first use (PEP 562), so that importing a package does not import what only some of
its modules need (TensorFlow, for the data pipelines and the training loop)."""

import importlib


def lazy_exports(package, exports):
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps each exported name to the submodule that defines
    it, imported when the name is first read (a full ``tfzoo.`` path names a module elsewhere in tfzoo)."""

    def __getattr__(name):
        if name in exports:
            module = exports[name] if exports[name].startswith("tfzoo.") else f"{package}.{exports[name]}"
            return getattr(importlib.import_module(module), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted({*vars(importlib.import_module(package)), *exports})

    return __getattr__, __dir__


class LazyModule:
    """A module imported when one of its attributes is first read: ``tf = LazyModule("tensorflow")``.

    A module whose TensorFlow code runs only on the TensorFlow backend imports it this way, so that it can be imported
    where TensorFlow is absent (Keras on JAX or PyTorch) as long as that code is not reached (as Keras does for its own
    optional TensorFlow uses)."""

    def __init__(self, name):
        self._name = name
        self._module = None

    def __getattr__(self, attr):
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)
