"""Mean average precision (mAP): can a group's profiles retrieve each other among declared negatives?

Each query row ranks its candidates (its positives and its negatives, see
:mod:`.design`) by similarity; its average precision (AP) is the mean of the
precision at each positive, ties counting against the positive as sklearn
ranks them; a group's mAP is the mean AP of its queries. ``normalized_map``
is the mean of ``(AP - mu0) / (1 - mu0)``, mu0 being the AP a random ranking
has on average for that query's numbers of positives and candidates (0 =
random, 1 = perfect), so groups of 2 and of 8 replicates compare.

p-values (``null="rankings"``, the default): the mAP framework's null, in
which a query's positives take a uniformly random set of positions among
its candidates. It depends only on those two numbers, not on the other
profiles' correlation, so it does not inherit their structure. A group's
mAP is compared with the AP of one random ranking of its configuration;
when its queries differ in configuration, with the mean of their quantiles
(the queries of a group share their positives, so their APs move together).
The rankings are enumerated, and the p-value is exact, when there are no
more than ``n_null`` of them (``p_value="auto"``); otherwise ``n_null`` are
drawn, and ``p = (1 + #{null >= mAP}) / (1 + n_null)``, except that a
perfect mAP gets its exact p, ``1 / C(candidates, positives)``. q-values are
Benjamini-Hochberg over groups; ``hierarchical_by`` adds the two-stage FDR
over families (:func:`..core.multiple_testing.hierarchical_fdr`).

``null="random_sets"``: sets of k wells of k different perturbations scored
as a real group; kept for comparison (it inherits the wells' structure: on
real plates random sets of treated wells often beat the controls).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ...common.matching import PairRule, control_mask
from ...common.presets import resolve_preset
from ...common.validation import check_choice, check_columns
from ...data.cleaning import standardize_within
from ...data.profiles import Profiles
from ...common.result import Result, merged_inputs
from ..core.inputs import feature_matrix, profile_inputs
from ..core.multiple_testing import bh_qvalues, hierarchical_fdr
from ..core.parallel import map_blocks
from ..core.resampling import (average_precision_null, distinct_draws, expected_average_precision, n_rankings,
                               permutation_p_values, smallest_p_note)
from ..kernels.ranking import average_precision_among_all, average_precision_of_groups, group_columns
from ..kernels.similarity import SIMILARITIES, degenerate_rows, row_range, similarity_rows
from .design import build_design
from .engine import score_queries

NULLS = ("rankings", "random_sets")
P_VALUES = ("auto", "exact", "sampled")
EXACT_LIMIT = 2_000_000  # rankings enumerated at most, whatever p_value says


class AveragePrecisionResult(Result):
    """Per-group mAP (``table``); per-query scores in ``extras['queries']``."""

    title = "Mean average precision"

    def headline(self) -> list[str]:
        e = self.estimates
        return [f"{e.get('n_groups', 0)} groups scored; average mAP {e.get('mean_map', float('nan')):.3f}; "
                f"{e.get('fraction_q_below_0.05', float('nan')):.1%} with q < 0.05"]


def _null_block(draws, units, reference, query_codes, group_starts, group_counts, others: bool) -> np.ndarray:
    """mAP of each drawn set of rows, scored exactly as a real group (draws: n_sets x k row indices)."""
    n_sets, k = draws.shape
    members = units[draws.ravel()]
    member_codes = query_codes[draws]
    starts = np.arange(0, n_sets * k, k)
    excluded = None
    if others:
        def excluded(flat_rows):
            return group_columns(member_codes[flat_rows // k], group_starts, group_counts)
    ap, _ = average_precision_of_groups(members, starts, np.full(n_sets, k), reference, excluded, block_rows=256)
    return ap.reshape(n_sets, k).mean(axis=1)


def _classic(positives: PairRule, negatives, multilabel, reference_given, k_values, perturbation) -> bool:
    """Designs the specialised kernels compute: replicates of one column against controls or all others."""
    return (multilabel is None and not reference_given and not k_values and isinstance(negatives, str)
            and positives.same == (perturbation,) and not positives.different)


def mean_average_precision(profiles_or_frame, perturbation: str | None = None, features=None,
                           negatives="negcon", controls=None, n_null: int = 1000, seed: int | None = 0,
                           null: str = "rankings", progress: bool = False, client=None, *,
                           positives=None, reference=None, similarity: str = "pearson",
                           multilabel: str | None = None, normalized: bool = True, p_value: str = "auto",
                           hierarchical_by: str | None = None, fdr: float = 0.05, stage1: str = "simes",
                           stage2: str = "half",
                           k=None, plate: str | None = None, pairwise: bool = False,
                           preset=None) -> AveragePrecisionResult:
    """mAP of each group's queries retrieving their positives among their negatives, with p- and q-values.

    Parameters
    ----------
    profiles_or_frame : Profiles or DataFrame (one row per well, or per treatment for consistency)
    perturbation : the column whose values make the groups (default: the Profiles' own)
    negatives : "negcon" (the negative controls), "others" (every other perturbation's rows), or
        ``dict(same=[...], different=[...])`` (rows of the pool that satisfy it)
    controls : the negative-control rows (a dict of column values or a boolean mask; a Profiles
        object brings its own). They are never queries or positives.
    positives : ``dict(same=[...], different=[...])``; default ``same=[perturbation]``.
        ``dict(same=["Metadata_broad_sample"], different=["Metadata_Plate"])``: replicates on other plates.
    reference : the rows negatives are drawn from (a control rule), when not the controls
    similarity : "pearson" (default: cosine of the centred rows), "cosine" or "spearman"
    multilabel : a column listing labels separated by ``|`` (MoAs ``a|b`` count for both)
    normalized : add ``normalized_map`` (0 = random ranking, 1 = perfect)
    null, n_null, p_value : the null (see the module); "exact" enumerates even past ``n_null``
    hierarchical_by : a column grouping the groups into families (doses of a compound): two-stage FDR
    fdr, stage1, stage2 : the level of the hierarchical calls, the first stage's combination ("simes",
        "bonferroni") and the second stage's share of the level (:func:`rosetta_stats.hierarchical_fdr`)
    k : an int or list of ints: ``precision_at_k`` and ``recall_at_k`` columns
    plate : z-score features within this plate column first (all wells of a plate, controls included)
    pairwise : add ``pairwise_map`` (each positive scored alone against the negatives, averaged: the
        expected mAP of a random pair of replicates, whatever the group's size) and its normalised form

    Returns
    -------
    AveragePrecisionResult: one row per group: the group's column(s) (``perturbation`` by default),
    n_replicates (queries), n_positives, n_negatives (per query, mean), mean_average_precision
    (also as ``map``), normalized_map, p_value, p_exact, q_value (+ the hierarchical columns).
    """
    preset = resolve_preset(preset)
    if null == "per_query":
        warnings.warn("null='per_query' is deprecated (it was neither copairs' null nor calibrated); "
                      "using null='rankings'", DeprecationWarning, stacklevel=2)
        null = "rankings"
    check_choice(null, NULLS, "null")
    check_choice(p_value, P_VALUES, "p_value")
    check_choice(similarity, SIMILARITIES, "similarity")
    if int(n_null) < 1:
        raise ValueError(f"n_null must be at least 1; got {n_null}")
    k_values = [] if k is None else sorted({int(v) for v in ([k] if np.isscalar(k) else k)})
    if any(v < 1 for v in k_values):
        raise ValueError(f"k must be at least 1; got {k}")
    is_profiles = isinstance(profiles_or_frame, Profiles)
    if positives is not None and perturbation is None and not is_profiles:
        perturbation = PairRule.of(positives).same[0] if PairRule.of(positives).same else None
    frame, perturbation, features = profile_inputs(profiles_or_frame, perturbation, features)
    positives = PairRule.of(positives) if positives is not None else PairRule((perturbation,))
    notes = list(profiles_or_frame.notes) if is_profiles else []
    if plate is not None:
        check_columns(frame.columns, [plate], "plate")
        frame = standardize_within(frame, features, plate)
        notes.append(f"features z-scored within each {plate} (all wells, controls included)")
    if controls is not None:
        control, found = control_mask(frame, controls, "controls")
        notes.append(found)
    elif is_profiles:
        control = profiles_or_frame.controls
    else:
        control = np.zeros(len(frame), dtype=bool)
    reference_mask = control_mask(frame, reference, "reference")[0] if reference is not None else None
    classic = _classic(positives, negatives, multilabel, reference is not None, k_values or pairwise, perturbation)
    # float32 profiles stay float32 against the controls (products near a threshold redone in float64)
    single = classic and isinstance(negatives, str) and negatives == "negcon" and similarity != "spearman"
    matrix = feature_matrix(frame, features, keep_float32=single)
    ranges = row_range(matrix)
    units = similarity_rows(matrix, similarity, ranges=ranges, inplace=True)  # matrix is not read again
    del matrix
    usable = np.isfinite(units).all(axis=1)
    if not usable.all():
        non_finite = degenerate_rows(None, ranges)[0]
        parts = [f"{int(non_finite.sum())} with NaN or infinite values"] if non_finite.any() else []
        other = int((~usable & ~non_finite).sum())
        parts += [f"{other} {'constant' if similarity != 'cosine' else 'all zero'}"] if other else []
        notes.append(f"left out {int((~usable).sum())} row(s) without a similarity ({', '.join(parts)})")
    if hierarchical_by is not None:
        check_columns(frame.columns, [hierarchical_by], "hierarchical_by")
    if null == "random_sets" and not classic:
        raise ValueError("null='random_sets' applies to replicates of one column against negcon or others; "
                         "use null='rankings' for declared positives, references, labels or k")
    design, queries = build_design(frame, positives, negatives, control, usable, reference_mask, multilabel)
    if not len(queries.rows):
        raise ValueError("no query rows: every row is a control, unusable, or lacks its group's value")
    if classic:
        ap, n_pos, n_neg = _classic_scores(units, queries, negatives == "others", design)
        scores = None
    else:
        scores = score_queries(units, design, queries.rows, queries.labels)
        ap, n_pos, n_neg = scores.ap, scores.n_positives, scores.n_negatives
    n_groups = len(queries.group_names)
    scored = ~np.isnan(ap)
    counts = np.bincount(queries.groups[scored], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        map_values = np.bincount(queries.groups[scored], weights=ap[scored], minlength=n_groups) / counts
        mean_pos = np.bincount(queries.groups[scored], weights=n_pos[scored], minlength=n_groups) / counts
        mean_neg = np.bincount(queries.groups[scored], weights=n_neg[scored], minlength=n_groups) / counts
    if not scored.any():
        raise ValueError(f"no group in {perturbation!r} has a query with both positives and negatives "
                         "(2 or more usable replicates, and negatives)")
    table = queries.group_names.copy()
    if multilabel is None and len(positives.same) == 1:
        table.columns = ["perturbation"]
    table["n_replicates"] = np.bincount(queries.groups, minlength=n_groups)
    table["n_positives"], table["n_negatives"] = mean_pos, mean_neg
    table["mean_average_precision"] = map_values
    table["map"] = map_values
    query_table = pd.DataFrame({"row": queries.rows, "group": queries.groups, "ap": ap, "n_positives": n_pos,
                                "n_negatives": n_neg})
    if normalized:
        mu0 = _expected_ap(n_pos, n_pos + n_neg)
        with np.errstate(invalid="ignore", divide="ignore"):
            query_table["normalized_ap"] = (ap - mu0) / (1 - mu0)
        table["normalized_map"] = _group_mean(query_table["normalized_ap"].to_numpy(), queries.groups, n_groups)
    if pairwise:
        single = scores.pairwise_ap()
        table["pairwise_map"] = _group_mean(single, queries.groups, n_groups)
        mu0 = _expected_ap(np.ones_like(n_neg), n_neg + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            table["normalized_pairwise_map"] = _group_mean((single - mu0) / (1 - mu0), queries.groups, n_groups)
    for v in k_values:
        precision, recall = scores.precision_recall_at(v)
        table[f"precision_at_{v}"] = _group_mean(precision, queries.groups, n_groups)
        table[f"recall_at_{v}"] = _group_mean(recall, queries.groups, n_groups)
    rng = np.random.default_rng(seed)
    if null == "rankings":
        p, exact = _rank_null_p(query_table, map_values, n_groups, int(n_null), p_value, rng)
        n_exact = int(exact.sum())
        notes.append(f"rank null: {n_exact} of {int(np.isfinite(map_values).sum())} groups have exact p-values "
                     f"(rankings enumerated); the others use {n_null} random rankings")
        notes += _floor_notes(query_table, table["n_replicates"].to_numpy(), n_groups)
    else:
        p = _random_sets_p(units, queries, design, negatives == "others", map_values, counts, int(n_null), rng,
                           client, progress, notes)
        exact = np.zeros(n_groups, dtype=bool)
        notes.append(smallest_p_note(int(n_null)))
    table["p_value"] = p
    table["p_exact"] = exact
    table["q_value"] = bh_qvalues(p)
    if hierarchical_by is not None:
        families = frame[hierarchical_by].to_numpy()[queries.rows[np.unique(queries.groups, return_index=True)[1]]]
        stages = hierarchical_fdr(p, families, q=fdr, stage1=stage1, stage2=stage2)
        table[hierarchical_by] = families
        for column in ("family_p_value", "family_q_value", "within_q_value", "significant"):
            table[column if column != "significant" else "hierarchical_significant"] = stages[column].to_numpy()
        notes.append(f"hierarchical FDR at q = {fdr:g} over {hierarchical_by}: families by the {stage1} combination "
                     f"and BH, then BH within the selected families ({stage2} of q; see hierarchical_fdr)")
    if negatives == "negcon":
        notes.append(f"{len(design.pool)} reference row(s) used as negatives")
    settings = {"positives": positives.describe(), "negatives": negatives if isinstance(negatives, str)
                else PairRule.of(negatives).describe(), "similarity": similarity, "null": null, "n_null": int(n_null),
                "p_value": p_value, "seed": seed, "multilabel": multilabel, "hierarchical_by": hierarchical_by,
                "plate": plate, "preset": preset.name}
    finite = np.isfinite(map_values)
    estimates = {"n_groups": int(finite.sum()), "n_perturbations": int(finite.sum()),
                 "mean_map": float(np.nanmean(map_values)),
                 "fraction_q_below_0.05": float((table.loc[finite, "q_value"] < 0.05).mean()),
                 "n_exact": int(exact[finite].sum())}
    if hierarchical_by is not None:
        estimates["n_hierarchical_significant"] = int(table["hierarchical_significant"].sum())
    inputs = merged_inputs(profiles_or_frame) if is_profiles else ()
    return AveragePrecisionResult(table, settings, estimates, tuple(notes), inputs,
                                  extras={"queries": query_table})


def _configs(queries: pd.DataFrame):
    """(scored queries' groups, their (positives, candidates) config codes, the distinct configs)."""
    scored = queries[queries["ap"].notna()]
    pos = scored["n_positives"].to_numpy().astype(int)
    cand = pos + scored["n_negatives"].to_numpy().astype(int)
    distinct, codes = np.unique(np.column_stack([pos, cand]), axis=0, return_inverse=True)
    return scored["group"].to_numpy().astype(int), codes.ravel(), [tuple(map(int, c)) for c in distinct]


def _floor_notes(queries: pd.DataFrame, n_replicates, n_groups) -> list[str]:
    """Which groups cannot reach p < 0.05 even with a perfect ranking (too few candidates)."""
    groups, codes, distinct = _configs(queries)
    floor = np.array([1.0 / n_rankings(pos, cand) for pos, cand in distinct])
    best = np.full(n_groups, -np.inf)
    np.maximum.at(best, groups, floor[codes])
    best[np.isneginf(best)] = np.nan
    notes = []
    for k in sorted({int(k) for k in n_replicates[np.isfinite(best)]}):
        members = np.isfinite(best) & (n_replicates == k) & (best > 0.05)
        if members.any():
            notes.append(f"{int(members.sum())} perturbation(s) with {k} replicates cannot reach p < 0.05 "
                         f"(a perfect mAP has p = {np.nanmin(best[members]):.3g})")
    return notes


def _group_mean(values, groups, n_groups):
    ok = ~np.isnan(values)
    counts = np.bincount(groups[ok], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.bincount(groups[ok], weights=values[ok], minlength=n_groups) / counts


def _expected_ap(n_pos, n_candidates):
    """The AP of a random ranking for each query, computed once per distinct (positives, candidates)."""
    n_pos, n_candidates = np.asarray(n_pos, dtype=float), np.asarray(n_candidates, dtype=float)
    out = np.full(len(n_pos), np.nan)
    ok = np.isfinite(n_pos) & np.isfinite(n_candidates) & (n_pos >= 1)
    if ok.any():
        pairs, inverse = np.unique(np.column_stack([n_pos[ok], n_candidates[ok]]).astype(np.int64), axis=0,
                                   return_inverse=True)
        values = np.array([expected_average_precision(int(p), int(n)) for p, n in pairs])
        out[ok] = values[inverse.ravel()]
    return out


def _classic_scores(units, queries, others: bool, design):
    """(ap, positives, negatives) per query through the specialised kernels."""
    order = np.argsort(queries.groups, kind="stable")
    rows = queries.rows[order]
    codes = queries.groups[order]
    counts = np.bincount(codes, minlength=codes.max(initial=-1) + 1)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    if others:
        ap_sorted, neg_sorted = average_precision_among_all(units[rows], codes, starts, counts)
    else:  # the rows are read in blocks through the order (no sorted copy of the matrix)
        ap_sorted, neg_sorted = average_precision_of_groups(units, starts, counts, units[design.pool], index=rows)
    ap, n_neg, n_pos = (np.empty(len(rows)) for _ in range(3))
    ap[order], n_neg[order] = ap_sorted, neg_sorted
    n_pos[order] = counts[codes] - 1.0
    return ap, n_pos, n_neg


def _rank_null_p(queries: pd.DataFrame, map_values, n_groups, n_null, mode, rng):
    """p-value and exactness per group under the rank null.

    A group whose queries share one (positives, candidates) configuration is
    judged against that configuration's null, all such groups at once; a
    group mixing configurations against the average of their nulls' quantiles,
    weighted by how many of its queries have each."""
    p = np.full(n_groups, np.nan)
    exact = np.zeros(n_groups, dtype=bool)
    cache: dict = {}
    groups, codes, distinct = _configs(queries)
    if not len(groups):
        return p, exact
    nulls = [_null(pos, cand, n_null, mode, rng, cache) for pos, cand in distinct]
    lowest = np.full(n_groups, len(distinct))
    highest = np.full(n_groups, -1)
    np.minimum.at(lowest, groups, codes)
    np.maximum.at(highest, groups, codes)
    single = (lowest == highest) & (highest >= 0)
    for code, null in enumerate(nulls):
        members = np.flatnonzero(single & (lowest == code))
        if len(members):
            p[members] = null.p_values(map_values[members])
            exact[members] = null.exact
    grid = (np.arange(n_null) + 0.5) / n_null  # the quantiles of every configuration, averaged
    for group in np.flatnonzero(~single & (highest >= 0)):
        mine = codes[groups == group]
        mean_null = np.zeros(n_null)
        for code, count in zip(*np.unique(mine, return_counts=True)):
            values = nulls[code].values
            mean_null += count / len(mine) * values[np.minimum((grid * len(values)).astype(int), len(values) - 1)]
        p[group] = permutation_p_values(mean_null, map_values[group])
    return p, exact


def _null(pos, candidates, n_null, mode, rng, cache):
    total = n_rankings(pos, candidates)
    if mode == "exact" and total > EXACT_LIMIT:
        raise ValueError(f"p_value='exact': {total:,} rankings of {pos} positives among {candidates} candidates "
                         f"are too many to enumerate (limit {EXACT_LIMIT:,}); use p_value='auto'")
    size = max(n_null, total) if mode == "exact" else (0 if mode == "sampled" else n_null)
    if mode == "sampled":
        return _sampled(pos, candidates, n_null, rng, cache)
    return average_precision_null(pos, candidates, size, rng, cache)


def _sampled(pos, candidates, n_null, rng, cache):
    from ..core.resampling import AveragePrecisionNull, random_average_precision

    key = ("sampled", pos, candidates, n_null)
    if key not in cache:
        values = np.sort(random_average_precision(pos, candidates - pos, n_null, rng))
        cache[key] = AveragePrecisionNull(pos, candidates, values, False)
    return cache[key]


def _random_sets_p(units, queries, design, others, map_values, counts, n_null, rng, client, progress, notes):
    order = np.argsort(queries.groups, kind="stable")
    rows = queries.rows[order]
    codes = queries.groups[order]
    sizes = np.bincount(codes, minlength=len(map_values))
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    grouped = units[rows]
    reference = grouped if others else units[design.pool]
    p = np.full(len(map_values), np.nan)
    ks = sorted({int(k) for k in sizes if k >= 2})
    sizes_ok = [k for k in ks if k <= len(sizes)]
    blocks, owners = [], []
    for k in sizes_ok:
        chosen = distinct_draws(len(sizes), k, n_null, rng)
        picked = starts[chosen] + (rng.random(chosen.shape) * sizes[chosen]).astype(int)
        for s in range(0, n_null, 250):
            blocks.append(picked[s:s + 250])
            owners.append(k)
    shared = {"units": grouped, "reference": reference, "query_codes": codes, "group_starts": starts,
              "group_counts": sizes, "others": others}
    values = map_blocks(_null_block, blocks, shared, client, progress=progress, desc="mAP null")
    for k in sizes_ok:
        null_values = np.concatenate([v for o, v in zip(owners, values) if o == k])
        members = np.flatnonzero((sizes == k) & np.isfinite(map_values))
        p[members] = permutation_p_values(null_values, map_values[members])
    if len(sizes_ok) < len(ks):
        notes.append(f"replicate counts above the number of perturbations ({len(sizes)}) have no null")
    return p
