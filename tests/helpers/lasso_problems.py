"""Small centred regression problems for the lasso kernels' tests."""
import numpy as np


def correlated_problem(n=120, p=15, outputs=4, noise=1.0, seed=0, zero_column=None):
    """(x, y, X'X, X'y): mildly correlated features, sparse true coefficients; optionally one zero column."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p)) @ (np.eye(p) + 0.6 * rng.standard_normal((p, p)) / np.sqrt(p))
    if zero_column is not None:
        x[:, zero_column] = 0.0
    y = x @ (rng.standard_normal((p, outputs)) * (rng.random((p, outputs)) < 0.4)) \
        + noise * rng.standard_normal((n, outputs))
    x, y = x - x.mean(axis=0), y - y.mean(axis=0)
    return x, y, x.T @ x, x.T @ y
