"""Retrieval: mean average precision under declared positives and negatives, and across modalities."""
