"""Errors of the R bridge (importable without R)."""
from __future__ import annotations


class RBackendUnavailable(RuntimeError):
    """R, rpy2, cytominer or rosettabridge is not installed or cannot start."""


class CytominerError(ValueError):
    """cytominer (through rosettabridge) rejected the call; carries R's message."""
