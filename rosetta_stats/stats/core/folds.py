"""Cross-validation folds that keep a group (a compound, a perturbation) whole."""
from __future__ import annotations

import numpy as np
from sklearn.model_selection import GroupKFold


def grouped_folds(groups: np.ndarray, n_splits: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """GroupKFold's (train, test) index pairs; an error naming the largest usable n_splits when groups are too few."""
    n_groups = len(np.unique(groups))
    if n_groups < n_splits:
        raise ValueError(f"fewer groups ({n_groups}) than folds (n_splits={n_splits}); "
                         f"use n_splits={n_groups} or fewer")
    return list(GroupKFold(n_splits=n_splits).split(np.zeros(len(groups)), groups=groups))
