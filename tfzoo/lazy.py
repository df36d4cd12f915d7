"""Package exports imported on first use (PEP 562), so that importing a package does not import what only some of
its modules need (TensorFlow, for the data pipelines and the training loop)."""

import importlib


def lazy_exports(package, exports):
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps each exported name to the submodule that defines
    it, imported when the name is first read."""

    def __getattr__(name):
        if name in exports:
            return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted({*vars(importlib.import_module(package)), *exports})

    return __getattr__, __dir__
