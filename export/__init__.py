"""SavedModel export with serving signatures, and the predict CLI."""
