"""Helpers every stage shares: argument and column checks, files written atomically."""
