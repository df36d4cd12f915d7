"""Residual network families built from a scheme: Wide-ResNets and ResNet-V1/V2."""

from tfzoo.models.registry import create_model, list_models, register
from tfzoo.models.schemes import INIT_SCHEMES, NORMALIZATIONS, Scheme, resolve_scheme

__all__ = ["INIT_SCHEMES", "NORMALIZATIONS", "Scheme", "create_model", "list_models", "register", "resolve_scheme"]
