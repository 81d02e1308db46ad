"""The one base class of every error rosetta_stats raises on purpose (a ValueError, so callers can catch either)."""
from __future__ import annotations


class RosettaError(ValueError):
    """Something about the input, the files or the environment that the user can fix; the message says what."""
