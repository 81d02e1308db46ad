"""Multiple-testing control shared by every statistic."""
from __future__ import annotations

import numpy as np
from statsmodels.stats.multitest import multipletests


def bh_qvalues(p_values) -> np.ndarray:
    """Benjamini-Hochberg q-values; NaN p-values stay NaN and do not count."""
    p = np.asarray(p_values, dtype=float)
    q = np.full_like(p, np.nan)
    finite = ~np.isnan(p)
    if finite.any():
        q[finite] = multipletests(p[finite], method="fdr_bh")[1]
    return q
