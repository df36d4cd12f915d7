"""SavedModel export with serving signatures, and the predict CLI."""

from recipes import prefer_onednn

prefer_onednn()  # the recipes' CPU kernels (oneDNN), set before TensorFlow starts
