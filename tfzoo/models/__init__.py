"""Residual network families built from a scheme: Wide-ResNets and ResNet-V1/V2."""

from tfzoo.models.options import ModelOptions
from tfzoo.models.registry import build_model, list_models, register
from tfzoo.models.schemes import INIT_SCHEMES, NORMALIZATIONS, Normalization, Scheme, resolve_scheme

__all__ = ["INIT_SCHEMES", "NORMALIZATIONS", "ModelOptions", "Normalization", "Scheme", "build_model", "list_models",
           "register", "resolve_scheme"]
