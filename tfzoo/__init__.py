"""tfzoo: residual image classifiers trained with and without normalization.

``create_model("wrn-16-4", normalization="none", init="zeroinit")`` builds the models of
"Batch normalization has multiple benefits" (BN, ghost BN, Fixup, SkipInit, ZeroInit);
``create_model(pretrained=NAME_OR_FOLDER)`` loads a zoo entry or a preset that ``save_preset`` wrote.
Importing tfzoo registers every object it serializes with Keras (``tfzoo.serialization``).
"""

from tfzoo import layers, pretrained, serialization  # noqa: F401  (serialization: registers with Keras)
from tfzoo.factory import create_model, list_models
from tfzoo.lazy import lazy_exports
from tfzoo.models import INIT_SCHEMES, NORMALIZATIONS, ModelOptions
from tfzoo.pretrained import save_preset
from tfzoo.version import __version__

__all__ = ["INIT_SCHEMES", "NORMALIZATIONS", "ModelOptions", "__version__", "create_model", "layers", "list_models",
           "load_model", "predict_proba", "pretrained", "save_preset"]

# Imported on first use: these need TensorFlow, which the model code alone does not.
__getattr__, __dir__ = lazy_exports(__name__, {"load_model": "inference", "predict_proba": "inference"})
