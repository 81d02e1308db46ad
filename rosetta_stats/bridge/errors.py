"""Errors of the R bridge (importable without R)."""
from __future__ import annotations

from ..common.errors import RosettaError


class RBackendUnavailable(RosettaError, RuntimeError):
    """R, rpy2, cytominer or rosettabridge is not installed or cannot start."""


class CytominerError(RosettaError):
    """cytominer (through rosettabridge) rejected the call; carries R's message."""
