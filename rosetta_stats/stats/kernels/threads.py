"""How many threads the compiled kernels run on."""
from __future__ import annotations

import os


def thread_count(requested: int | None) -> int:
    """``requested`` threads, or one per core when it is None or not positive (joblib's -1)."""
    if requested and requested > 0:
        return requested
    return os.cpu_count() or 1
