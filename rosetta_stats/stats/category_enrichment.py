"""Which feature categories are over-represented among predictable (or otherwise selected) features.

Features of one category are correlated (the intensities of one channel move
together), so their selections are not independent draws: Fisher's exact test
on the 2 x 2 table counts a category of correlated features as many
independent successes and, on null data with a within-category correlation
of 0.8, calls most categories enriched. Both tests here take ``rho``, the
mean correlation between the category's features across the profiles' rows
(floored at 0), into account:

* a :func:`feature_predictability` result with permutations: the mean R^2
  inside the category minus the mean outside, against the same difference
  in each of the result's permutations (which moved every feature's rows
  together, so the correlations are kept): (k + 1) / (n + 1).
* a selection (True/False per feature): the number selected in the category
  is tested against a beta-binomial law, the binomial made overdispersed by
  the intra-category correlation ``rho``, whose rate is itself uncertain:
  it is drawn from the share selected outside the category, counted in
  effective features (each category's count divided by its design effect
  ``1 + (m - 1) rho``). The correlation of two selections is at most that
  of the features they come from, so this errs on the safe side.
* a continuous per-feature score (R^2, a z statistic): the competitive test
  of limma's ``cameraPR`` (Wu & Smyth 2012), the mean score inside against
  the rest with the variance of the inside mean inflated by
  ``VIF = 1 + (m - 1) * rho``.

Fisher's exact test remains available (``method="fisher"``) and is what runs
when no correlation is known, with a warning. q-values are
Benjamini-Hochberg over categories; ``ratio`` is the paper's Fig 3b
quantity: selected / total within the category.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..common.result import TableResult
from ..common.validation import check_choice
from ..data.feature_categories import feature_categories
from .core.multiple_testing import bh_qvalues
from .core.resampling import permutation_p_values

METHODS = ("auto", "permutation", "betabinomial", "camera", "fisher")
# the rate of the outside features is integrated over these quantiles of its posterior
_RATE_NODES = (np.arange(200) + 0.5) / 200


class EnrichmentResult(TableResult):
    """One row per feature category: counts, ratio, correlation, p- and q-values (most enriched first)."""

    title = "Feature-category enrichment"


def mean_correlation(matrix: np.ndarray) -> float:
    """Mean off-diagonal Pearson correlation of the columns of ``matrix`` (rows = observations), in O(n m):
    the variance of the sum of standardised columns is m + m (m - 1) rho. Constant columns are left out."""
    matrix = np.asarray(matrix, dtype=float)
    sd = matrix.std(axis=0, ddof=1)
    keep = np.isfinite(sd) & (sd > 0)
    m = int(keep.sum())
    if m < 2 or len(matrix) < 3:
        return float("nan")
    z = (matrix[:, keep] - matrix[:, keep].mean(axis=0)) / sd[keep]
    total = z.sum(axis=1)
    return float((total.var(ddof=1) - m) / (m * (m - 1)))


def camera_pr(statistic: np.ndarray, members: np.ndarray, correlation: float) -> tuple[float, float]:
    """limma's cameraPR for one set: (t statistic, one-sided p for a higher mean inside the set)."""
    statistic = np.asarray(statistic, dtype=float)
    g, m = len(statistic), int(members.sum())
    m2 = g - m
    vif = 1 + (m - 1) * correlation
    delta = g / m2 * (statistic[members].mean() - statistic.mean())
    pooled = ((g - 1) * statistic.var(ddof=1) - delta ** 2 * m * m2 / g) / (g - 2)
    if not pooled > 0:
        return float("nan"), float("nan")
    t = delta / np.sqrt(pooled * (vif / m + 1 / m2))
    return float(t), float(stats.t.sf(t, df=g - 2))


def beta_binomial_p(n_selected: int, m: int, rate: float, correlation: float) -> float:
    """P(X >= n_selected) for X ~ beta-binomial(m) with mean ``rate`` and intra-class correlation
    ``correlation`` (the binomial when it is 0)."""
    if correlation <= 0:
        return float(stats.binom.sf(n_selected - 1, m, rate))
    if rate <= 0:
        return 1.0 if n_selected == 0 else 0.0
    if rate >= 1:
        return 1.0
    spread = (1 - correlation) / correlation  # alpha + beta
    return float(stats.betabinom.sf(n_selected - 1, m, rate * spread, (1 - rate) * spread))


def predictive_beta_binomial_p(n_selected: int, m: int, correlation: float, selected_outside: float,
                                n_outside: float) -> float:
    """P(X >= n_selected) for X ~ beta-binomial(m, rate, correlation), averaged over the rate's posterior
    Beta(selected_outside + 1/2, n_outside - selected_outside + 1/2) (counts may be effective, fractional)."""
    rates = stats.beta.ppf(_RATE_NODES, selected_outside + 0.5, n_outside - selected_outside + 0.5)
    return float(np.mean([beta_binomial_p(n_selected, m, rate, correlation) for rate in rates]))


def permutation_difference_p(observed: np.ndarray, null: np.ndarray, inside: np.ndarray) -> tuple[float, float]:
    """(mean inside - mean outside, its (k + 1) / (n + 1) p-value over the rows of ``null``)."""
    def difference(values):
        return values[..., inside].mean(axis=-1) - values[..., ~inside].mean(axis=-1)
    statistic = float(difference(observed))
    null_statistics = difference(null)
    return statistic, float(permutation_p_values(null_statistics, statistic))


def _scores_and_selection(selected, alpha: float):
    """(per-feature score, boolean selection, output matrix or None, null scores or None) from a Series or a
    predictability result."""
    table = getattr(selected, "table", None)
    if table is not None:  # a feature_predictability result: selected = q < alpha, its outputs give correlations
        if "feature" not in table.columns or "q_value" not in table.columns:
            raise ValueError("category_enrichment() takes a feature_predictability() result (a table with "
                             "feature and q_value columns) or a Series indexed by feature")
        if table["q_value"].isna().all():
            raise ValueError("category_enrichment(): the result has no q-values (n_permutations=0), so no feature "
                             "is called predictable; rerun it with permutations")
        chosen = table.set_index("feature")["q_value"] < alpha
        extras = getattr(selected, "extras", {})
        matrix, null = extras.get("output_matrix"), extras.get("null_r2")
        profiles = pd.DataFrame(matrix, columns=chosen.index) if matrix is not None else None
        null = null if null is not None and len(null) else None
        return pd.Series(table["r2"].to_numpy(), index=chosen.index), chosen, profiles, null
    series = pd.Series(selected)
    if series.index.has_duplicates:
        raise ValueError("category_enrichment(): the features (the index of `selected`) repeat")
    if series.dtype == bool:
        return series.astype(float), series, None, None
    numeric = pd.to_numeric(series, errors="coerce")
    if numeric.isna().any():
        raise ValueError("category_enrichment(): `selected` must be boolean or numeric, without missing values")
    if set(np.unique(numeric)) <= {0.0, 1.0}:
        return numeric, numeric.astype(bool), None, None
    return numeric, None, None, None


def _profile_matrix(profiles, features) -> pd.DataFrame:
    data = getattr(profiles, "data", profiles)
    if not isinstance(data, pd.DataFrame):
        raise TypeError("profiles= must be Profiles or a DataFrame with one column per feature")
    missing = [f for f in features if f not in data.columns]
    if missing:
        raise ValueError(f"profiles= lacks {len(missing)} of the features, e.g. {', '.join(missing[:3])}")
    return data[list(features)]


def category_enrichment(selected, by: str = "category", profiles=None, method: str = "auto",
                        correlation=None, alpha: float = 0.05) -> EnrichmentResult:
    """Per category, is the selection (or a per-feature score) higher inside than outside?

    ``selected``: a boolean Series indexed by feature name (True = predictable),
    a numeric Series (a per-feature score, higher = more selected) or a
    :func:`feature_predictability` result (selected: q < ``alpha``, shown in
    the counts; tested by its permutations, or by its profiles' correlations
    when it has none).
    ``profiles``: Profiles or a DataFrame (rows = perturbations or wells, one
    column per feature) from which each category's mean inter-feature
    correlation is estimated; or give ``correlation`` (one number, or a
    mapping category -> number). ``method``: "permutation" (a result with
    permutations), "betabinomial" (a selection) or "camera" (a score), the
    last two needing a correlation; "fisher" (features taken as
    independent); "auto" picks by the input, and Fisher with a warning when
    no correlation is known.

    Returns one row per category: category, n_selected, n_features, ratio,
    correlation, vif, p_value (one-sided, enrichment), q_value (and
    statistic for camera, odds_ratio for Fisher).
    """
    check_choice(method, METHODS, "method")
    scores, chosen, carried, null = _scores_and_selection(selected, alpha)
    profiles = carried if profiles is None else profiles
    known = profiles is not None or correlation is not None
    if method == "permutation" and null is None:
        raise ValueError("method='permutation' needs a feature_predictability() result with permutations "
                         "(n_permutations > 0)")
    if method == "auto" and null is not None:
        method = "permutation"
    if method == "auto":
        method = ("betabinomial" if chosen is not None else "camera") if known else "fisher"
        if not known:
            warnings.warn("category_enrichment(): no profiles= or correlation= given, so Fisher's test treats "
                          "the features as independent; correlated features of one category make it call null "
                          "categories enriched", UserWarning, stacklevel=2)
    if method in ("camera", "betabinomial") and not known:
        raise ValueError(f"method={method!r} needs profiles= (to estimate each category's feature correlation) "
                         "or correlation=")
    if method in ("fisher", "betabinomial") and chosen is None:
        raise ValueError(f"method={method!r} needs a boolean selection; a numeric score needs method='camera'")
    features = scores.index
    categories = feature_categories(features).set_index("feature")[by]
    matrix = _profile_matrix(profiles, features) if profiles is not None else None
    g = len(features)
    if g < 3:
        raise ValueError(f"category_enrichment() needs at least 3 features; got {g}")
    groups = list(categories.groupby(categories, dropna=False, sort=True))
    rhos = {}
    if method in ("betabinomial", "camera"):
        for category, members in groups:
            rho = _category_correlation(correlation, category, matrix, features.isin(members.index))
            rhos[category] = min(max(rho, 0.0), 1 - 1e-9) if np.isfinite(rho) else 0.0
    rows = []
    for category, members in groups:
        inside = features.isin(members.index)
        m = int(inside.sum())
        n_selected = int(chosen[inside].sum()) if chosen is not None else np.nan
        row = {by: category, "n_selected": n_selected, "n_features": m,
               "ratio": n_selected / m if chosen is not None else np.nan}
        if method == "fisher":
            total_selected = int(chosen.sum())
            table = [[n_selected, m - n_selected], [total_selected - n_selected, g - m - total_selected + n_selected]]
            row["odds_ratio"], row["p_value"] = stats.fisher_exact(table, alternative="greater")
        elif m == g:
            row.update(statistic=np.nan, p_value=np.nan)
        elif method == "permutation":
            row["statistic"], row["p_value"] = permutation_difference_p(scores.to_numpy(), null, inside)
        else:
            rho = rhos[category]
            row["correlation"], row["vif"] = rho, 1 + (m - 1) * rho
            if method == "camera":
                row["statistic"], row["p_value"] = camera_pr(scores.to_numpy(), inside, rho)
            else:  # the outside's selections, counted in effective features
                effects = {c: 1 + (int((categories == c).sum()) - 1) * r for c, r in rhos.items() if c != category}
                selected_out = sum(int(chosen[(categories == c).to_numpy()].sum()) / d for c, d in effects.items())
                n_out = sum(int((categories == c).sum()) / d for c, d in effects.items())
                row["p_value"] = predictive_beta_binomial_p(n_selected, m, rho, selected_out, n_out)
        rows.append(row)
    table = pd.DataFrame(rows)
    table["q_value"] = bh_qvalues(table["p_value"].to_numpy())
    table = table.sort_values(["p_value", "ratio"], ascending=[True, False], kind="stable",
                              na_position="last").reset_index(drop=True)
    test = {"fisher": "Fisher's exact, one-sided (features taken as independent)",
            "permutation": "mean R^2 inside minus outside against the result's permutations, one-sided",
            "camera": "cameraPR (competitive, variance inflated by the within-category correlation), one-sided",
            "betabinomial": "beta-binomial (selections overdispersed by the within-category correlation, "
                            "rate from the outside's effective counts), one-sided"}[method]
    settings = {"by": by, "method": method, "test": test, "alpha": alpha}
    estimates = {"n_features": g, "n_selected": int(chosen.sum()) if chosen is not None else None,
                 "n_q_below_0.05": int((table["q_value"] < 0.05).sum())}
    notes = () if method != "fisher" else (
        "Fisher's test takes features as independent: with correlated features it is anticonservative",)
    return EnrichmentResult(table, settings, estimates, notes)


def _category_correlation(correlation, category, matrix, inside) -> float:
    if correlation is not None:
        if np.isscalar(correlation):
            return float(correlation)
        if category not in correlation:
            raise ValueError(f"correlation= has no value for category {category!r}")
        return float(correlation[category])
    return mean_correlation(matrix.loc[:, inside].to_numpy())
