"""Replicate reproducibility: the paper's statistic, its null, and calibrated p-values.

Paper definition (exactly): features are linearly interpolated down the
columns; for each perturbation with at least two rows, duplicate rows are
dropped and the statistic is the mean Pearson correlation over all pairs of
its replicate rows. The null takes one random row of every perturbation
(singletons included) and correlates all pairs of those rows; its 90th
percentile is the threshold, and *percent replicating* is the share of
perturbations with >= 2 replicates above it.

Size-matched null (for p-values): for a perturbation with k replicates the
null statistic is the same mean correlation over k rows drawn from k
different perturbations; ``p = (1 + #{null >= observed}) / (1 + n_null)``
and q-values come from Benjamini-Hochberg (statsmodels).
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ...data.cleaning import interpolate_down, standardize_within
from ..core.parallel import map_blocks
from ..core.resampling import distinct_draws, permutation_p_values, smallest_p_note
from ..kernels.pairwise import pairwise_quantile
from ..kernels.similarity import (
    add_group_sums,
    draws_mean_correlation,
    first_occurrences,
    mean_correlation_from_sums,
    row_range,
    unit_rows,
)
from ...common.feature_matrix import FeatureRows
from ...common.presets import resolve_preset
from ...common.matching import control_mask
from ...common.validation import check_choice, check_columns
from ...data.profiles import Profiles
from ...common.result import Result, json_safe, merged_inputs
from ..core.multiple_testing import bh_qvalues
from ..core.inputs import degenerate_row_mask, profile_inputs

NULLS = ("paper", "size_matched", "well_matched")
STATISTICS = ("pearson_mean", "spearman_median")
WELL_COLUMNS = ("Metadata_Well", "det_well", "well", "Metadata_well_position", "well_position")


class ReplicateResult(Result):
    """Per-perturbation reproducibility (``table``); the null's sample for plots in ``extras['null_sample']``."""

    title = "Replicate reproducibility"

    def headline(self) -> list[str]:
        e, s = self.estimates, self.settings
        if s.get("statistic") == "spearman_median":
            lines = [f"{e['n_perturbations']} perturbations ({e['n_with_replicates']} with >= 2 replicates); "
                     f"percent replicating {e['percent_replicating']:.1f}% (median Spearman, p < 0.05 against "
                     f"the {s['null'].replace('_', '-')} null)"]
        else:
            lines = [f"{e['n_perturbations']} perturbations ({e['n_with_replicates']} with >= 2 replicates); "
                     f"percent replicating {e['percent_replicating']:.1f}% above the null's "
                     f"{s['null_percentile']:g}th percentile ({e['threshold']:.4f})"]
        if self.table["q_value"].notna().any():
            lines.append(f"q < 0.05: {int((self.table['q_value'] < 0.05).sum())} perturbations")
        return lines

    @property
    def null_sample(self) -> np.ndarray:
        return self.extras.get("null_sample", np.empty(0))

    def to_json(self) -> str:
        return json.dumps(json_safe(self.summary_dict()), indent=2)


def replicate_reproducibility(
    profiles_or_frame,
    perturbation: str | None = None,
    features=None,
    null: str | None = None,
    n_null: int = 1000,
    percentile: float = 90,
    plate: str | None = None,
    seed: int | None = 0,
    client=None,
    progress: bool = False,
    controls=None,
    include_controls: bool | None = None,
    preset=None,
    statistic: str | None = None,
    well: str | None = None,
    dose: str | None = None,
    compound: str | None = None,
) -> ReplicateResult:
    """Replicate correlation per perturbation, the paper's threshold, and p/q-values.

    Parameters
    ----------
    profiles_or_frame : Profiles or DataFrame (replicate level: one row per well)
    perturbation : the column naming the perturbation (default: the Profiles' own)
    features : feature columns (default: the Profiles' own)
    null : "paper" (threshold only; p-values are not computed) or "size_matched"
    n_null : null draws per replicate count (size-matched null)
    percentile : the null percentile used as the threshold (paper: 90)
    plate : standardise features within each plate first (the paper's per-plate option)
    seed : seeds both nulls; the same seed gives the same numbers
    client : a ``dask.distributed.Client`` whose workers compute the null's pair blocks and
        the size-matched null (same seed, same numbers)
    progress : show a progress bar over the null's blocks
    controls : the negative-control rows (``{column: value(s)}`` or a boolean mask); a
        Profiles object brings its own. They are not perturbations: they are left
        out of the table, the null and percent replicating unless ``include_controls``.
    preset : "paper" scores controls like perturbations and computes the threshold only
        (``null="paper"``), as the paper did; "way2022" takes Way et al.'s definitions:
        the median pairwise Spearman correlation, the well-matched null, p < 0.05.
    statistic : "pearson_mean" (the paper's) or "spearman_median" (Way et al.'s)
    null : also "well_matched": profiles from the query's well positions (see ``well``)
    well : the well-position column of the well-matched null (default: Metadata_Well,
        det_well or well, whichever the table has)
    dose, compound : columns for percent replicating per dose over the compounds measured at
        every dose (``tables["by_dose"]``; Way et al.'s per-dose figures)

    Returns
    -------
    ReplicateResult with ``table`` columns: perturbation, n_replicates,
    replicate_correlation, p_value, q_value, above_threshold.
    """
    preset = resolve_preset(preset)
    null = preset.pick(null, "replicate_null")
    include_controls = preset.pick(include_controls, "include_controls")
    statistic = preset.pick(statistic, "statistic")
    check_choice(null, NULLS, "null")
    check_choice(statistic, STATISTICS, "statistic")
    if int(n_null) < 1:
        raise ValueError(f"n_null must be at least 1; got {n_null}")
    if not 0 < float(percentile) < 100:
        raise ValueError(f"percentile must lie between 0 and 100; got {percentile}")
    is_profiles = isinstance(profiles_or_frame, Profiles)
    frame, perturbation, features = profile_inputs(profiles_or_frame, perturbation, features)
    notes = list(profiles_or_frame.notes) if is_profiles else []
    if plate is not None:  # all wells of a plate, controls included, as the paper scaled them
        check_columns(frame.columns, [plate], "plate")
        frame = standardize_within(frame, features, plate)
        notes.append(f"features z-scored within each {plate} (all wells, controls included)")
    if controls is not None:
        control = control_mask(frame, controls, "controls")[0]
    else:
        control = profiles_or_frame.controls if is_profiles else np.zeros(len(frame), dtype=bool)
    n_controls = int(control.sum())
    keep = frame[perturbation].notna().to_numpy()
    if n_controls and not include_controls:
        keep &= ~control
        notes.append(f"left out {n_controls} negative-control row(s) (include_controls=True scores them)")
    source = FeatureRows.of(frame, features, np.flatnonzero(keep))  # read in blocks; float32 stays float32
    labels = frame[perturbation].to_numpy()[keep]
    ranges = _row_ranges(source)
    if np.isnan(ranges[0]).any():  # as the paper: linear, down each column, forward only
        source = FeatureRows.of_matrix(_interpolate_columns(source.take(slice(None)), features))
        ranges = _row_ranges(source)
    bad = _degenerate_rows(labels, ranges, notes)
    if bad is not None:
        source, labels, ranges = source.subset(~bad), labels[~bad], (ranges[0][~bad], ranges[1][~bad])
    codes, names = pd.factorize(labels, sort=True)
    if len(names) < 2:
        raise ValueError(f"need at least 2 perturbations in {perturbation!r}; found {len(names)}")
    if statistic == "spearman_median" or null == "well_matched":
        kept_rows = np.flatnonzero(keep)[~bad] if bad is not None else np.flatnonzero(keep)
        return _way2022(frame, source, codes, names, kept_rows, statistic, null, n_null, seed, well, dose,
                        compound, notes, plate, include_controls, preset, profiles_or_frame, is_profiles)
    n_rows_per = np.bincount(codes, minlength=len(names))
    order = np.argsort(codes, kind="stable")  # rows grouped by perturbation, found through ``order``
    starts = np.r_[0, np.cumsum(n_rows_per)[:-1]]
    rng = np.random.default_rng(seed)
    picks = order[starts + (rng.random(len(names)) * n_rows_per).astype(int)]

    # the statistic: duplicate rows within a perturbation are dropped first
    unique = first_occurrences(source, codes, ranges)
    n_dupes = int((~unique).sum())
    if n_dupes:
        notes.append(f"dropped {n_dupes} duplicate row(s) within perturbations")
    sums, picked = _unit_sums_and_picks(source, ranges, codes, unique, len(names), picks)
    u_counts = np.bincount(codes[unique], minlength=len(names))
    replicate_correlation = mean_correlation_from_sums(sums, u_counts)
    del sums
    if not (u_counts >= 2).any():
        raise ValueError(f"no perturbation in {perturbation!r} has 2 or more distinct replicates")
    identical = int(((n_rows_per >= 2) & (u_counts < 2)).sum())
    if identical:
        notes.append(f"{identical} perturbation(s) whose wells are all identical have no statistic and are "
                     "left out of percent replicating")

    mapper = None if client is None else (lambda f, blocks, shared: map_blocks(f, blocks, shared, client))
    threshold = pairwise_quantile(picked, percentile / 100.0, mapper=mapper)
    pairs = distinct_draws(len(picks), 2, 20_000, rng)
    null_sample = np.concatenate([np.einsum("ij,ij->i", picked[pairs[s:s + 2000, 0]], picked[pairs[s:s + 2000, 1]])
                                  for s in range(0, len(pairs), 2000)])
    del picked
    has_reps = u_counts >= 2
    above = replicate_correlation > threshold
    percent = 100.0 * float(np.mean(above[has_reps]))

    p_values = np.full(len(names), np.nan)
    if null == "size_matched":
        p_values = _size_matched_p(source, ranges, order, starts, n_rows_per, u_counts, replicate_correlation, n_null, rng,
                                   client=client, progress=progress)
        notes.append(smallest_p_note(int(n_null)))
        many = int(((u_counts >= 2) & (u_counts > len(n_rows_per))).sum())
        if many:
            notes.append(f"{many} perturbation(s) have more replicates than there are perturbations: their null sets "
                         "take the perturbations as evenly as they can and average only the pairs of rows from "
                         "different perturbations")
    table = pd.DataFrame({
        "perturbation": names,
        "n_replicates": n_rows_per,
        "replicate_correlation": replicate_correlation,
        "p_value": p_values,
        "q_value": bh_qvalues(p_values),
        "above_threshold": np.where(has_reps, above, False),
    })
    settings = {"statistic": statistic, "null": null, "n_null": int(n_null) if null == "size_matched" else 0,
                 "null_percentile": float(percentile), "plate": plate, "include_controls": bool(include_controls),
                 "seed": seed, "preset": preset.name}
    estimates = {"threshold": float(threshold), "percent_replicating": percent, "n_perturbations": int(len(names)),
                 "n_with_replicates": int(has_reps.sum())}
    inputs = merged_inputs(profiles_or_frame) if is_profiles else ()
    return ReplicateResult(table, settings, estimates, tuple(notes), inputs, extras={"null_sample": null_sample})


def _way2022(frame, source, codes, names, kept_rows, statistic, null, n_null, seed, well, dose, compound, notes,
             plate, include_controls, preset, profiles_or_frame, is_profiles) -> ReplicateResult:
    """The median-Spearman statistic and the well-matched null (Way et al. 2022)."""
    from .well_matched import ALPHA, observed_statistics, per_dose, spearman_units, well_matched_p_values

    if statistic != "spearman_median":
        raise ValueError("the well-matched null goes with statistic='spearman_median' (Way et al.'s definition)")
    matrix = source.take(slice(None)).astype(float)
    unique = first_occurrences(matrix, codes)
    units = spearman_units(matrix)
    order = np.argsort(codes, kind="stable")
    bounds = np.r_[0, np.cumsum(np.bincount(codes, minlength=len(names)))]
    rows_by_group = [order[bounds[g]:bounds[g + 1]] for g in range(len(names))]
    distinct_rows = [rows[unique[rows]] for rows in rows_by_group]
    observed = observed_statistics(units, distinct_rows)
    rng = np.random.default_rng(seed)
    p = np.full(len(names), np.nan)
    if null == "well_matched":
        well = well or next((c for c in WELL_COLUMNS if c in frame.columns), None)
        if well is None:
            raise ValueError("the well-matched null needs the well column: well=... (e.g. Metadata_Well)")
        check_columns(frame.columns, [well], "well")
        wells = frame[well].astype(str).str.strip().str.upper().to_numpy()[kept_rows]
        p = well_matched_p_values(units, distinct_rows, codes, wells, observed, int(n_null), rng, notes)
        notes.append(f"well-matched null: {n_null} sets per perturbation of profiles at its well positions "
                     f"({well}) from other perturbations")
    elif null == "size_matched":
        raise ValueError("the size-matched null is defined for the mean Pearson statistic; use null='well_matched'")
    replicating = np.where(np.isnan(p), False, p < ALPHA)
    counts = np.array([len(r) for r in rows_by_group])
    table = pd.DataFrame({"perturbation": names, "n_replicates": counts, "replicate_correlation": observed,
                          "p_value": p, "q_value": bh_qvalues(p), "above_threshold": replicating})
    scored = np.isfinite(p)
    settings = {"statistic": statistic, "null": null, "n_null": int(n_null), "well": well, "alpha": ALPHA,
                "plate": plate, "include_controls": bool(include_controls), "seed": seed, "preset": preset.name,
                "null_percentile": 100 * (1 - ALPHA)}
    estimates = {"threshold": float("nan"), "percent_replicating": 100.0 * float(replicating[scored].mean())
                 if scored.any() else float("nan"), "n_perturbations": int(len(names)),
                 "n_with_replicates": int((np.array([len(r) for r in distinct_rows]) >= 2).sum())}
    tables = {}
    if dose is not None:
        compound = compound or ("compound" if "compound" in frame.columns else None)
        if compound is None:
            raise ValueError("percent replicating per dose needs the compound column: compound=...")
        check_columns(frame.columns, [dose, compound], "dose/compound")
        first = kept_rows[order[bounds[:-1]]]
        tables["by_dose"] = per_dose(table, frame[dose].iloc[first], frame[compound].iloc[first])
        estimates["percent_replicating_by_dose"] = dict(zip(tables["by_dose"]["dose"].astype(str),
                                                            tables["by_dose"]["percent_replicating"].round(2)))
    notes.append("replicating: p < 0.05 against the null (Way et al. 2022); replicate_correlation is the median "
                 "pairwise Spearman correlation")
    inputs = merged_inputs(profiles_or_frame) if is_profiles else ()
    return ReplicateResult(table, settings, estimates, tuple(notes), inputs, tables=tables)


def _interpolate_columns(matrix: np.ndarray, features) -> np.ndarray:
    """Fill NaN linearly down each column (forward only, as the paper); an all-NaN column is an error."""
    missing = np.isnan(matrix)
    all_nan = np.flatnonzero(missing.all(axis=0))
    if len(all_nan):
        raise ValueError("feature column(s) entirely missing (all NaN): "
                         f"{', '.join(str(features[j]) for j in all_nan[:10])}")
    return interpolate_down(matrix, "forward")


def _row_ranges(source: FeatureRows) -> tuple[np.ndarray, np.ndarray]:
    parts = [row_range(block) for _, _, block in source.blocks()]
    if not parts:
        return np.empty(0), np.empty(0)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _degenerate_rows(labels, ranges, notes) -> np.ndarray | None:
    """Rows with NaN/inf (after interpolation) or no variance, with a note that counts them; None if none."""
    bad, note = degenerate_row_mask(None, "correlation", ranges)
    if note is None:
        return None
    affected = sorted(map(str, pd.unique(labels[bad])))
    notes.append(f"{note} from {len(affected)} perturbation(s): "
                 f"{', '.join(affected[:5])}{' ...' if len(affected) > 5 else ''}")
    if bad.all():
        raise ValueError("every row holds NaN/infinite values or is constant: nothing to correlate")
    return bad


def _unit_sums_and_picks(source, ranges, codes, unique, n_groups, picks):
    """One pass over row blocks: each block centred and scaled, its distinct rows added to their
    perturbation's sum, and the null's picked rows kept (in the order of ``picks``)."""
    sums = np.zeros((n_groups, source.width), dtype=source.dtype)
    picked = np.empty((len(picks), source.width), dtype=source.dtype)
    pick_order = np.argsort(picks)
    sorted_picks = picks[pick_order]
    for start, stop, block in source.blocks():
        units = unit_rows(block, inplace=True, ranges=(ranges[0][start:stop], ranges[1][start:stop]))
        distinct = unique[start:stop]
        add_group_sums(sums, units[distinct] if not distinct.all() else units, codes[start:stop][distinct])
        lo, hi = np.searchsorted(sorted_picks, [start, stop])
        picked[pick_order[lo:hi]] = units[sorted_picks[lo:hi] - start]
    return sums, picked


def _null_block(rows: np.ndarray, source: FeatureRows, top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Mean correlation of each draw of rows (n_draws x k), its rows read and scaled here."""
    flat = rows.ravel()
    units = unit_rows(source.take(flat), inplace=True, ranges=(top[flat], bottom[flat]))
    return draws_mean_correlation(units, np.arange(len(flat)).reshape(rows.shape))


def _size_matched_p(source, ranges, order, starts, n_rows_per, u_counts, observed, n_null, rng, client=None,
                    block_draws: int = 250, progress: bool = False) -> np.ndarray:
    """p-values from k rows of k different perturbations, one null per distinct k.

    The draws are made here (same seed, same numbers with or without a
    cluster); their correlations are computed in blocks, on ``client`` if given.
    """
    p = np.full(len(observed), np.nan)
    n_perts = len(n_rows_per)
    ks = [int(k) for k in np.unique(u_counts[u_counts >= 2]) if k <= n_perts]
    draws = []
    for k in ks:
        chosen = distinct_draws(n_perts, k, n_null, rng)
        draws.append(order[starts[chosen] + (rng.random(chosen.shape) * n_rows_per[chosen]).astype(int)])
    blocks = [(i, d[s:s + block_draws]) for i, d in enumerate(draws) for s in range(0, n_null, block_draws)]
    shared = {"source": source, "top": ranges[0], "bottom": ranges[1]}
    values = map_blocks(_null_block, [b for _, b in blocks], shared, client,
                        progress=progress, desc="size-matched null")
    for i, k in enumerate(ks):
        null_values = np.concatenate([v for (j, _), v in zip(blocks, values) if j == i])
        members = np.flatnonzero(u_counts == k)
        p[members] = permutation_p_values(null_values, observed[members])
    for k in [int(k) for k in np.unique(u_counts[u_counts >= 2]) if k > n_perts]:
        null_values = _few_perturbations_null(source, ranges, order, starts, n_rows_per, k, n_null, rng)
        members = np.flatnonzero(u_counts == k)
        p[members] = permutation_p_values(null_values, observed[members]) if null_values is not None else np.nan
    return p


def _few_perturbations_null(source, ranges, order, starts, n_rows_per, k, n_null, rng) -> np.ndarray | None:
    """When k exceeds the number of perturbations, k rows cannot come from k different ones: each draw takes
    the perturbations as evenly as it can (every one floor(k / n) rows, some one more) and its statistic is
    the mean correlation over the pairs of rows from different perturbations only, so that no pair of
    replicates enters the null. None when some perturbation has too few rows for that."""
    n_perts = len(n_rows_per)
    base, extra = divmod(k, n_perts)
    if n_rows_per.min() < base + (1 if extra else 0):
        return None
    units = unit_rows(source.take(order), ranges=(ranges[0][order], ranges[1][order]))
    null = np.empty(n_null)
    for d in range(n_null):
        counts = np.full(n_perts, base)
        counts[rng.choice(n_perts, extra, replace=False)] += 1
        total, same, n_same = np.zeros(units.shape[1]), 0.0, 0.0
        for pert in np.flatnonzero(counts):
            rows = starts[pert] + rng.choice(n_rows_per[pert], counts[pert], replace=False)
            group = np.nansum(units[rows], axis=0)
            total += group
            same += group @ group - counts[pert]
            n_same += counts[pert] * (counts[pert] - 1)
        null[d] = ((total @ total - k) - same) / (k * (k - 1) - n_same)
    return null
