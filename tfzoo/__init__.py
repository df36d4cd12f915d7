"""tfzoo: residual image classifiers trained with and without normalization.

``create_model("wrn-16-4", normalization="none", init="zeroinit")`` builds the models of
"Batch normalization has multiple benefits" (BN, ghost BN, Fixup, SkipInit, ZeroInit).
"""

from tfzoo import layers
from tfzoo.models import INIT_SCHEMES, NORMALIZATIONS, ModelOptions, create_model, list_models

__version__ = "0.1.0"
__all__ = ["INIT_SCHEMES", "NORMALIZATIONS", "ModelOptions", "create_model", "layers", "list_models", "load_model", "predict_proba",
           "pretrained"]


def __getattr__(name):
    # Imported on first use: these need TensorFlow, which the model code alone does not.
    if name in ("predict_proba", "load_model"):
        from tfzoo import inference

        return getattr(inference, name)
    if name == "pretrained":
        import importlib

        return importlib.import_module("tfzoo.pretrained")
    raise AttributeError(f"module 'tfzoo' has no attribute {name!r}")
