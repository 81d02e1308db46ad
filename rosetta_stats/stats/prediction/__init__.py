"""Prediction across modalities: gene/feature predictability, its models (lasso_cv), MoA prediction."""
