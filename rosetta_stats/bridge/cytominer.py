"""Aggregate, normalise and select profiles with the R package cytominer.

This is the only module of :mod:`rosetta_stats` that talks to R (the RDS
writer in :mod:`rosetta_stats.results.folders` aside). rpy2 is imported lazily, so
``import rosetta_stats`` works on a machine without R; the functions here
raise :class:`RBackendUnavailable` with the command to run when R, rpy2,
cytominer or the ``rosettabridge`` R package is missing.

Data cross the boundary as one numeric matrix plus a few plain metadata
vectors (the fast path; converting wide frames is slow), so feature names
such as ``200814_at`` come back exactly as they went in. A population may
also be a :class:`SQLiteTable` or :class:`PostgresTable`, in which case cytominer works inside the
database and only the result reaches Python.

Function and argument names follow cytominer (``population, variables,
strata, sample, operation``) so that R users recognise them.
"""
from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .r_conversion import back_map, plain_frame
from .cellprofiler_database import CellProfilerDatabase
from .database_tables import DATABASE_TABLES as _PLAIN_TABLES, PostgresTable

DATABASE_TABLES = (*_PLAIN_TABLES, CellProfilerDatabase)
from .errors import CytominerError, RBackendUnavailable  # noqa: F401 (CytominerError: part of this module's API)
from .r_session import RSession
from ..common.matching import as_control_rules, cells_matching, control_mask
from ..common.result import Result, TableResult
from ..common.validation import (
    as_name_list,
    check_choice,
    check_columns,
    check_not_empty,
    check_numeric_features,
)

AGGREGATE_OPERATIONS = ("mean", "median", "min", "max", "sd")
NORMALIZE_OPERATIONS = ("standardize", "robustize")
SELECT_OPERATIONS = ("variance_threshold", "correlation_threshold", "drop_na_columns")
LOW_DISPERSION_ACTIONS = ("drop", "error", "keep")
MISSING_CONTROL_ACTIONS = ("error", "drop")

_ROW_ID = "rosetta_row_id_"
_CONTROL = "rosetta_is_control_"


def r_available() -> bool:
    """True when R, rpy2, cytominer and rosettabridge can be used."""
    try:
        RSession.get().bridge
    except RBackendUnavailable:
        return False
    return True


# --------------------------------------------------------------------------- helpers


class AggregateResult(TableResult):
    """Aggregated rows (``table``): strata columns, then the features."""

    title = "Aggregated profiles (cytominer)"


class NormalizeResult(TableResult):
    """Normalised rows (``table``); ``tables``: normalization_parameters, dropped_features."""

    title = "Normalised profiles (cytominer)"

    @property
    def normalization_parameters(self) -> pd.DataFrame:
        return self.tables["normalization_parameters"]

    @property
    def dropped_features(self) -> pd.DataFrame:
        return self.tables["dropped_features"]


class SelectionResult(TableResult):
    """The population without the dropped features (``table``); ``tables``: dropped_features."""

    title = "Feature selection (cytominer)"

    @property
    def dropped_features(self) -> pd.DataFrame:
        return self.tables["dropped_features"]


def _population(population):
    """A DataFrame or database table from whatever holds one (a Result's table, Profiles' data)."""
    if isinstance(population, Result):
        return population.table
    data = getattr(population, "data", None)
    if isinstance(data, pd.DataFrame) and hasattr(population, "features"):
        return data
    return population


def _inputs(population) -> tuple:
    if isinstance(population, Result):
        return population.inputs
    return tuple(getattr(population, "sources", ()) or ())


def _prepare(population, variables, strata_like: Sequence[str], argument: str):
    variables = as_name_list(variables, "variables")
    if not variables:
        raise ValueError("`variables` must name at least one feature column")
    if isinstance(population, DATABASE_TABLES):
        check_columns(population.columns(), variables + list(strata_like), argument)
        return variables
    if not isinstance(population, pd.DataFrame):
        raise ValueError("`population` must be a pandas DataFrame, a SQLiteTable or a PostgresTable")
    check_not_empty(population)
    check_columns(population.columns, variables, "variables")
    check_columns(population.columns, list(strata_like), argument)
    check_numeric_features(population, variables)
    return variables


def _control_mask(population: pd.DataFrame, sample) -> np.ndarray:
    """Boolean mask of the control rows from a dict of column values or a mask."""
    return control_mask(population, sample, "sample")[0]


def _send_frame(session: RSession, population: pd.DataFrame, variables, metadata: dict):
    values = population[variables].to_numpy(dtype=float)
    return session.bridge.bridge_frame(
        session.named_list(metadata), session.matrix(values), session.ro.StrVector(variables)
    )


def _database(session: RSession, table):
    """The rosettabridge description of a database table."""
    if isinstance(table, CellProfilerDatabase):
        return session.call("sqlite_table", path=str(table.path), table=table.table, query=table.query)
    if isinstance(table, PostgresTable):
        return session.call("postgres_table", table=table.table, dbname=table.dbname, host=table.host,
                            port=int(table.port), user=table.user, password=table.password)
    return session.call("sqlite_table", path=str(table.path), table=table.table)


def _r_filter(session: RSession, table, sample) -> Any:
    """The R filter (column -> exact values) that marks the rows the control rule marks, found by applying
    the one matcher to each column's distinct values in the database."""
    rules = as_control_rules(sample)
    if rules is None or len(rules.rules) != 1:
        raise ValueError("with a database table, `sample` must be one rule: a dict of column values")
    rule = rules.rules[0]
    specs = rule.specs if hasattr(rule, "specs") else (rule,)
    check_columns(table.columns(), [spec.column for spec in specs], "sample")
    exact = {}
    for spec in specs:
        distinct = pd.Series(table.distinct_values(spec.column))
        matched = distinct[cells_matching(distinct, spec.values)]
        if matched.empty:
            shown = ", ".join(map(repr, distinct.head(5).tolist()))
            raise ValueError(f"no control rows where {spec.describe()} ({spec.column} holds {shown}, ...)")
        exact[spec.column] = [v.item() if hasattr(v, "item") else v for v in matched.tolist()]
    return session.named_list(exact)


# --------------------------------------------------------------------------- public API


def aggregate(population, variables, strata, operation: str = "mean",
              object_count: str | None = "Metadata_Object_Count", min_cells: int | None = None) -> AggregateResult:
    """Aggregate rows within strata with ``cytominer::aggregate``.

    Parameters
    ----------
    population : DataFrame, SQLiteTable or PostgresTable
        Rows to aggregate (for example single cells). A :class:`SQLiteTable`
        is aggregated inside SQLite; the cells never enter Python.
    variables : list of str
        Feature columns to aggregate.
    strata : str or list of str
        Grouping columns (for example ``["Metadata_Plate", "Metadata_Well"]``).
    operation : {"mean", "median", "min", "max", "sd"} or several joined by "+"
        With several, the output columns are suffixed (``area_mean``, ``area_sd``).

    object_count : the name of the column that counts the rows of each stratum (the cells of a
        well, counted in the database for a table); None leaves it out
    min_cells : strata with fewer rows are dropped, with a note naming how many (needs object_count)

    Returns
    -------
    AggregateResult
        ``table``: strata columns (original dtypes), the object count, then the aggregated features;
        one row per stratum, sorted by the strata. As in cytominer, a NaN in a data
        frame makes its group's mean/median NaN, while SQL skips NULLs.

    Examples
    --------
    >>> cells = pd.DataFrame({"well": ["A1", "A1", "B1"], "area": [1.0, 3.0, 10.0]})
    >>> aggregate(cells, ["area"], "well")  # doctest: +SKIP
      well  area
    0   A1   2.0
    1   B1  10.0
    """
    strata = as_name_list(strata, "strata")
    if not strata:
        raise ValueError("`strata` must name at least one grouping column")
    if not isinstance(operation, str):
        raise ValueError(f"`operation` must be a string; got {operation!r}")
    for op in operation.split("+"):
        check_choice(op, AGGREGATE_OPERATIONS, "aggregate operation")
    inputs, population = _inputs(population), _population(population)
    variables = _prepare(population, variables, strata, "strata")
    if min_cells is not None and object_count is None:
        raise ValueError("min_cells needs object_count (the column that counts each stratum's rows)")
    settings = {"variables": len(variables), "strata": strata, "operation": operation,
                "object_count": object_count, "min_cells": min_cells}
    session = RSession.get()
    notes = []
    in_database = isinstance(population, DATABASE_TABLES)
    source = _database(session, population) if in_database else _send_frame(
        session, population, variables, {s: population[s] for s in strata})
    result = session.call("aggregate_profiles", population=source, variables=session.ro.StrVector(variables),
                          strata=session.ro.StrVector(strata), operation=operation, count_column=object_count)
    aggregated = [c for c in result.names if c not in strata and c != object_count]
    parts = session.frame_parts(result, aggregated)
    if in_database:
        out = plain_frame(parts)
        notes.append(f"aggregated in the database ({population.table})")
    else:
        out = pd.DataFrame({s: back_map(population[s], parts["metadata"][s]) for s in strata})
        if object_count:
            out[object_count] = np.asarray(parts["metadata"][object_count]).astype(np.int64)
        out = pd.concat([out, pd.DataFrame(parts["values"], columns=parts["variables"])], axis=1)
    if object_count:
        out = out[[*strata, object_count, *[c for c in out.columns if c not in strata and c != object_count]]]
    table = out.sort_values(strata, kind="stable").reset_index(drop=True)
    if min_cells is not None:
        few = table[object_count] < int(min_cells)
        if few.any():
            notes.append(f"dropped {int(few.sum())} of {len(table)} strata with fewer than {min_cells} rows "
                         f"({object_count})")
            table = table[~few].reset_index(drop=True)
    estimates = {"n_rows": len(table)}
    if object_count:
        estimates["median_object_count"] = float(table[object_count].median()) if len(table) else float("nan")
    return AggregateResult(table, settings, estimates, tuple(notes), inputs)


def normalize(
    population,
    variables,
    strata,
    sample,
    operation: str = "standardize",
    min_dispersion: float = 1e-8,
    on_low_dispersion: str = "drop",
    on_missing_controls: str = "error",
) -> NormalizeResult:
    """Normalise features to control rows, stratum by stratum, with ``cytominer::normalize``.

    Parameters
    ----------
    population : DataFrame, SQLiteTable or PostgresTable
    variables : list of str
        Feature columns to normalise.
    strata : str or list of str
        Columns that define the normalisation groups (usually the plate).
    sample : dict or boolean mask
        The control rows: ``{"Metadata_pert_type": "negcon"}`` (a column and the
        value(s) it takes), or a boolean mask over the rows (DataFrame only).
    operation : {"standardize", "robustize"}
        (x - mean) / sd, or (x - median) / mad, computed on the controls.
    min_dispersion : float
        A control sd/mad at or below this value counts as zero.
    on_low_dispersion : {"drop", "error", "keep"}
        What to do with features whose control dispersion is (near) zero or
        undefined in some stratum; "drop" warns and names them.
    on_missing_controls : {"error", "drop"}
        Strata with no control rows would silently vanish in cytominer; by
        default they are an error that names them.

    Returns
    -------
    NormalizeResult
        ``table``: the population's rows (original order and metadata) with the
        features normalised; ``tables["normalization_parameters"]``: the location
        and dispersion used per stratum and feature; ``tables["dropped_features"]``:
        the dropped features and why.
    """
    strata = as_name_list(strata, "strata")
    if not strata:
        raise ValueError("`strata` must name at least one normalisation group column")
    check_choice(operation, NORMALIZE_OPERATIONS, "normalize operation")
    check_choice(on_low_dispersion, LOW_DISPERSION_ACTIONS, "on_low_dispersion")
    check_choice(on_missing_controls, MISSING_CONTROL_ACTIONS, "on_missing_controls")
    inputs, population = _inputs(population), _population(population)
    variables = _prepare(population, variables, strata, "strata")
    session = RSession.get()
    options = dict(
        variables=session.ro.StrVector(variables), strata=session.ro.StrVector(strata),
        operation=operation, min_dispersion=float(min_dispersion),
        on_low_dispersion=on_low_dispersion, on_missing_controls=on_missing_controls,
    )
    if isinstance(population, DATABASE_TABLES):
        result = session.call(
            "normalize_profiles", population=_database(session, population),
            sample=_r_filter(session, population, sample), **options,
        )
        parts = session.frame_parts(result, variables)
        out = plain_frame(parts, order=population.columns())
        strata_keys = {s: pd.Series(out[s]) for s in strata}
    else:
        mask = _control_mask(population, sample)
        metadata = {s: population[s] for s in strata}
        metadata[_CONTROL] = np.where(mask, "yes", "no")
        metadata[_ROW_ID] = np.arange(len(population), dtype=float)
        result = session.call(
            "normalize_profiles", population=_send_frame(session, population, variables, metadata),
            sample=session.named_list({_CONTROL: ["yes"]}), **options,
        )
        parts = session.frame_parts(result, variables)
        rows = np.asarray(parts["metadata"][_ROW_ID]).astype(np.int64)
        order = np.argsort(rows, kind="stable")
        kept = [c for c in population.columns if c not in variables or c in parts["variables"]]
        out = population.iloc[rows[order]][kept].copy()
        out[parts["variables"]] = parts["values"][order]
        out = out.reset_index(drop=True)
        strata_keys = {s: population[s] for s in strata}
    parameters = session.small_frame(parts["parameters"]).rename(columns={"variable": "feature"})
    for s in strata:
        parameters[s] = back_map(strata_keys[s], parameters[s])
    dropped = session.small_frame(parts["dropped"]).rename(columns={"variable": "feature"})
    dropped = dropped.reindex(columns=["feature", "reason"])
    settings = {"strata": strata, "operation": operation, "min_dispersion": float(min_dispersion),
                "on_low_dispersion": on_low_dispersion, "on_missing_controls": on_missing_controls,
                "sample": _describe_sample(sample)}
    estimates = {"n_rows": int(len(out)), "n_features": len(variables) - len(dropped), "n_dropped": int(len(dropped))}
    notes = (f"dropped {len(dropped)} feature(s) whose control dispersion is too small",) if len(dropped) else ()
    return NormalizeResult(out, settings, estimates, notes, inputs,
                           tables={"normalization_parameters": parameters, "dropped_features": dropped})


def select_features(
    population, variables, sample=None, operation: str = "variance_threshold", **options
) -> SelectionResult:
    """Drop uninformative feature columns with ``cytominer::variable_select``.

    Parameters
    ----------
    population : DataFrame, SQLiteTable or PostgresTable
    variables : list of str
        Candidate feature columns.
    sample : dict, boolean mask or None
        Rows used to judge the features (default: all rows).
    operation : {"variance_threshold", "correlation_threshold", "drop_na_columns"}
    **options
        Passed to cytominer, e.g. ``cutoff=0.9`` (correlation_threshold) or
        ``cutoff=0.05`` (drop_na_columns), ``method="pearson"``.

    Returns
    -------
    SelectionResult
        ``table``: ``population`` without the excluded features (a SQLiteTable is
        read into memory); ``tables["dropped_features"]`` lists them with the reason.
    """
    check_choice(operation, SELECT_OPERATIONS, "select operation")
    inputs, population = _inputs(population), _population(population)
    variables = _prepare(population, variables, [], "variables")
    session = RSession.get()
    extra = {k: (float(v) if isinstance(v, (int, float)) else v) for k, v in options.items()}
    if isinstance(population, DATABASE_TABLES):
        r_sample = None if sample is None else _r_filter(session, population, sample)
        result = session.call(
            "select_variables", population=_database(session, population),
            variables=session.ro.StrVector(variables), sample=r_sample, operation=operation,
            **extra,
        )
        out = plain_frame(session.frame_parts(result, variables), order=population.columns())
    else:
        metadata = {}
        r_sample = None
        if sample is not None:
            metadata[_CONTROL] = np.where(_control_mask(population, sample), "yes", "no")
            r_sample = session.named_list({_CONTROL: ["yes"]})
        result = session.call(
            "select_variables",
            population=_send_frame(session, population, variables, metadata),
            variables=session.ro.StrVector(variables), sample=r_sample, operation=operation,
            **extra,
        )
        kept = set(session.strings(result.names))
        out = population[[c for c in population.columns if c not in variables or c in kept]].copy()
    dropped = session.small_frame(session.attribute(result, "dropped")).rename(columns={"variable": "feature"})
    dropped = dropped.reindex(columns=["feature", "reason"])
    settings = {"operation": operation, "sample": _describe_sample(sample), **options}
    estimates = {"n_kept": len(variables) - len(dropped), "n_dropped": int(len(dropped))}
    return SelectionResult(out, settings, estimates, (), inputs, tables={"dropped_features": dropped})


def _describe_sample(sample) -> str:
    if sample is None:
        return "every row"
    if isinstance(sample, (np.ndarray, pd.Series, list)) and not isinstance(sample, str):
        return "a boolean mask"
    rules = as_control_rules(sample)
    return rules.describe() if rules is not None else str(sample)


def whiten(population, variables, sample, regularization_param: float = 1.0) -> pd.DataFrame:
    """PCA whitening against the ``sample`` rows with cytominer's ``transform(operation="whiten")``.

    Returns the population's metadata then ``PC1`` ... ``PCd`` (cytominer's
    names): every row centred on the sample mean and projected on the sample
    covariance's eigenvectors, each scaled by ``(eigenvalue +
    regularization_param) ** -0.5``.
    """
    population = _population(population)
    variables = _prepare(population, variables, [], "variables")
    session = RSession.get()
    if isinstance(population, DATABASE_TABLES):
        raise ValueError("whitening reads the rows into memory: give a DataFrame")
    mask = _control_mask(population, sample)
    metadata = {_CONTROL: np.where(mask, "yes", "no"), _ROW_ID: np.arange(len(population), dtype=float)}
    result = session.call("whiten_profiles", population=_send_frame(session, population, variables, metadata),
                          variables=session.ro.StrVector(variables), sample=session.named_list({_CONTROL: ["yes"]}),
                          regularization_param=float(regularization_param))
    names = [n for n in session.strings(result.names) if n.startswith("PC")]
    parts = session.frame_parts(result, names)
    rows = np.asarray(parts["metadata"][_ROW_ID]).astype(np.int64)
    order = np.argsort(rows, kind="stable")
    out = population.iloc[rows[order]][[c for c in population.columns if c not in variables]].reset_index(drop=True)
    return pd.concat([out, pd.DataFrame(parts["values"][order], columns=parts["variables"])], axis=1)
