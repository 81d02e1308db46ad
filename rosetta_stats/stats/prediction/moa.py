"""Mechanism-of-action (MoA) prediction from Cell Painting, L1000, and both (early and late fusion).

The paper's procedure (Fig 4b/c), with one deliberate difference:

* labels: lower-cased; multi-label MoAs (``a|b``) dropped; MoAs with fewer
  than ``min_compounds`` distinct compounds dropped;
* folds: ``StratifiedGroupKFold`` by compound (every dose of a compound in
  one fold);
* per modality ``StandardScaler`` then ``MinMaxScaler``, **fitted on the
  training fold** (the paper fitted them on all rows, which lets the test
  rows shape the scaling); training rows randomly over-sampled to balance
  the classes (imbalanced-learn);
* models: ``logistic`` (multinomial, class-balanced, C in {1, 10, 1000} by a
  3-fold grid inside the training fold) and ``mlp`` (sklearn's
  ``MLPClassifier``, its size by a 3-fold grid);
* modalities: ``cp``, ``ge``, ``early_fusion`` (the two feature sets side by
  side) and ``late_fusion`` (the mean of the CP and GE models' class
  probabilities);
* score: macro F1 per fold; ``chance`` rows give a class-frequency dummy on
  the same folds. ``comparisons`` holds a paired t-test across folds for each
  pair of modalities.
"""
from __future__ import annotations

import warnings
import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from tqdm.auto import tqdm

from ...common.deprecation import renamed_arguments
from ...common.validation import check_choice
from ...common.result import Result
from ..core.paired import paired_matrices
from ..core.resampling import permutation_p_values

MODELS = ("logistic", "mlp")
MODALITIES = ("cp", "ge", "early_fusion", "late_fusion")


class MoaPredictionResult(Result):
    """Macro F1 per fold (``table``); per-class F1 and the comparisons in ``tables``."""

    title = "MoA prediction"

    @property
    def chance(self) -> float:
        return float(self.table.loc[self.table["modality"] == "chance", "macro_f1"].mean())

    @property
    def per_class(self) -> pd.DataFrame:
        return self.tables["moa_per_class_f1"]

    @property
    def comparisons(self) -> pd.DataFrame:
        return self.tables["moa_comparisons"]

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.settings["classes"])

    def mean_f1(self) -> pd.DataFrame:
        """Mean and sd of macro F1 over folds, per model and modality."""
        return (self.table.groupby(["model", "modality"], sort=False)["macro_f1"]
                .agg(["mean", "std"]).reset_index())

    def headline(self) -> list[str]:
        lines = [f"{len(self.classes)} classes, {self.settings['n_splits']}-fold StratifiedGroupKFold by compound; "
                 f"chance (class-frequency dummy): macro F1 {self.chance:.3f}"]
        for r in self.mean_f1().itertuples():
            if r.modality != "chance":
                lines.append(f"{r.model:9s} {r.modality:13s} macro F1 {r.mean:.3f} (sd {r.std:.3f})")
        return lines


def harmonize_moa_labels(labels: pd.Series, compounds: pd.Series, min_compounds: int = 5) -> tuple[pd.Series, list]:
    """Lower-cased labels; multi-label and rare MoAs (fewer than ``min_compounds`` compounds) set to NaN."""
    text = labels.astype("string").str.strip().str.lower()
    text = text.mask(text.isin(["", "nan", "none", "-666"]))
    multi = text.str.contains("|", regex=False).fillna(False)
    text = text.mask(multi)
    per_moa = pd.DataFrame({"moa": text, "compound": compounds}).dropna().groupby("moa")["compound"].nunique()
    rare = per_moa.index[per_moa < min_compounds]
    notes = []
    if multi.any():
        notes.append(f"dropped {int(multi.sum())} row(s) with several MoAs ('|')")
    if len(rare):
        notes.append(f"dropped {len(rare)} MoA(s) with fewer than {min_compounds} compounds")
    return text.mask(text.isin(rare)).astype(object), notes


def _classifier(model: str, seed: int, n_train_min: int):
    inner = StratifiedKFold(3, shuffle=True, random_state=seed) if n_train_min >= 3 else 2
    if model == "logistic":
        base = LogisticRegression(class_weight="balanced", max_iter=2000)
        return GridSearchCV(base, {"C": [1, 10, 1000]}, cv=inner, scoring="f1_macro")
    base = MLPClassifier(max_iter=500, random_state=seed)
    return GridSearchCV(base, {"hidden_layer_sizes": [(50,), (100,)]}, cv=inner, scoring="f1_macro")


def _scaled(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scaler = make_pipeline(StandardScaler(), MinMaxScaler()).fit(train)
    return scaler.transform(train), scaler.transform(test)


def _oversampled(x: np.ndarray, y: np.ndarray, seed: int):
    from imblearn.over_sampling import RandomOverSampler

    return RandomOverSampler(random_state=seed).fit_resample(x, y)


@renamed_arguments(drop_controls=("include_controls", lambda drop: not drop))
def moa_prediction(cp, ge=None, key: str | None = None, moa: str = "moa", groups="compound",
                   models=MODELS, n_splits: int = 5, seed: int | None = 0, oversample: bool = True,
                   min_compounds: int = 5, include_controls: bool = False, progress: bool = False,
                   modalities=MODALITIES, n_permutations: int = 1000) -> MoaPredictionResult:
    """Predict each perturbation's MoA from CP, GE, and both; macro F1 per fold.

    ``cp``/``ge``: treatment-level Profiles or DataFrames sharing ``key``, or a
    :class:`PairedProfiles`; with ``modalities=("cp",)`` (or ``("ge",)``) one
    treatment-level Profiles alone. ``moa`` is a column of the CP side (else
    of the GE side); ``groups`` the compound column (or a key-indexed Series)
    that keeps the doses of a compound in one fold. ``comparisons`` test each
    pair of modalities by swapping their out-of-fold predictions perturbation
    by perturbation (``n_permutations`` swaps; folds are not independent, so
    a t-test across them is not used).
    """
    models = (models,) if isinstance(models, str) else tuple(models)
    for m in models:
        check_choice(m, MODELS, "model")
    modalities = (modalities,) if isinstance(modalities, str) else tuple(modalities)
    if not modalities:
        raise ValueError("name at least one modality: cp, ge, early_fusion, late_fusion")
    for modality in modalities:
        check_choice(modality, MODALITIES, "modality")
    seed = 0 if seed is None else int(seed)
    single = set(modalities) <= {"cp"} or set(modalities) <= {"ge"}
    if single and ge is None and not hasattr(cp, "cp"):
        m = single_matrices(cp, modalities[0], groups, include_controls)
        labels = _single_labels(cp, m, moa)
    else:
        m = paired_matrices(cp, ge, key, groups, include_controls)
        labels = _labels(cp, ge, m, moa, key or "perturbation")
    compounds = pd.Series(m.groups)
    labels, notes = harmonize_moa_labels(labels, compounds, min_compounds)
    keep = labels.notna().to_numpy()
    if keep.sum() == 0:
        raise ValueError(f"no MoA has {min_compounds} or more compounds after harmonisation")
    y = labels[keep].to_numpy().astype(str)
    classes = tuple(sorted(set(y)))
    if len(classes) < 2:
        raise ValueError(f"MoA prediction needs at least 2 classes; found {len(classes)}: {classes}")
    x_cp = m.cp[keep] if m.cp is not None else None
    x_ge, group_codes = (m.ge[keep] if m.ge is not None else None), m.groups[keep]
    n_groups_per_class = pd.DataFrame({"y": y, "g": group_codes}).groupby("y")["g"].nunique()
    if n_groups_per_class.min() < n_splits:
        raise ValueError(f"every MoA needs at least n_splits={n_splits} compounds; "
                         f"{n_groups_per_class.idxmin()!r} has {n_groups_per_class.min()}")
    x_any = x_cp if x_cp is not None else x_ge
    folds = list(StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed).split(x_any, y, group_codes))
    rows, predictions = [], {}
    for fold, (train, test) in enumerate(tqdm(folds, desc="MoA folds", disable=not progress)):
        chance = DummyClassifier(strategy="stratified", random_state=seed + fold).fit(x_any[train], y[train])
        rows.append(("chance", "dummy", fold, f1_score(y[test], chance.predict(x_any[test]), average="macro")))
        sides = {}
        if {"cp", "early_fusion", "late_fusion"} & set(modalities):
            sides["cp"] = _scaled(x_cp[train], x_cp[test])
        if {"ge", "early_fusion", "late_fusion"} & set(modalities):
            sides["ge"] = _scaled(x_ge[train], x_ge[test])
        if "early_fusion" in modalities:
            sides["early_fusion"] = tuple(np.hstack([sides["cp"][i], sides["ge"][i]]) for i in range(2))
        for model in models:
            probabilities = {}
            for modality in [m_ for m_ in ("cp", "ge", "early_fusion") if m_ in sides]:
                x_train, x_test = sides[modality]
                y_train = y[train]
                if oversample:
                    x_train, y_train = _oversampled(x_train, y_train, seed)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    fitted = _classifier(model, seed, int(pd.Series(y_train).value_counts().min())).fit(x_train, y_train)
                probabilities[modality] = pd.DataFrame(fitted.predict_proba(x_test), columns=fitted.classes_)
            if "late_fusion" in modalities:
                probabilities["late_fusion"] = (probabilities["cp"] + probabilities["ge"]) / 2
            for modality in modalities:
                predicted = probabilities[modality].idxmax(axis=1).to_numpy()
                rows.append((modality, model, fold, f1_score(y[test], predicted, average="macro")))
                predictions.setdefault((modality, model), []).append((test, predicted))
    table = pd.DataFrame(rows, columns=["modality", "model", "fold", "macro_f1"])
    per_class = _per_class(predictions, y, classes, group_codes)
    comparisons = _comparisons(table, predictions, y, models, modalities, n_permutations,
                               np.random.default_rng(seed))
    notes.append("scalers fitted on each training fold (the paper fitted them on all rows)")
    if oversample:
        notes.append("training rows randomly over-sampled to balance the MoAs")
    settings = {"models": list(models), "modalities": list(modalities), "n_splits": int(n_splits), "seed": seed,
                "oversample": oversample, "min_compounds": min_compounds, "n_permutations": n_permutations,
                "classes": list(classes)}
    means = table.groupby(["model", "modality"], sort=False)["macro_f1"].mean()
    estimates = {"n_classes": len(classes), "n_perturbations": int(keep.sum()),
                 "chance_macro_f1": float(table.loc[table["modality"] == "chance", "macro_f1"].mean()),
                 **{f"mean_macro_f1_{model}_{modality}": float(v) for (model, modality), v in means.items()
                    if modality != "chance"}}
    return MoaPredictionResult(table, settings, estimates, tuple(m.notes) + tuple(notes), m.inputs,
                               tables={"moa_per_class_f1": per_class, "moa_comparisons": comparisons},
                               extras={"folds": folds, "groups": group_codes})


def _labels(cp, ge, m, moa: str, key: str | None) -> pd.Series:
    """The MoA of every paired row, from the CP side (else the GE side), looked up by the pairing key."""
    from ...data.pairing import PairedProfiles

    if isinstance(cp, PairedProfiles):
        sides, key = [cp.cp.data, cp.ge.data], cp.key
    else:
        sides = [getattr(cp, "data", cp), getattr(ge, "data", ge)]
    for side in sides:
        if isinstance(side, pd.DataFrame) and moa in side.columns and key in side.columns:
            unique = side.drop_duplicates(key)
            lookup = pd.Series(unique[moa].to_numpy(), index=unique[key].astype(str).to_numpy())
            return pd.Series(lookup.reindex(pd.Index(m.keys).astype(str)).to_numpy())
    raise ValueError(f"MoA column {moa!r} not found on either side (with the key column {key!r})")


def _per_class(predictions, y, classes, group_codes) -> pd.DataFrame:
    rows = []
    n_compounds = pd.DataFrame({"y": y, "g": group_codes}).groupby("y")["g"].nunique()
    for (modality, model), parts in predictions.items():
        truth = np.concatenate([y[test] for test, _ in parts])
        guessed = np.concatenate([p for _, p in parts])
        scores = f1_score(truth, guessed, labels=list(classes), average=None, zero_division=0)
        rows += [(modality, model, c, float(s), int(n_compounds[c])) for c, s in zip(classes, scores)]
    return pd.DataFrame(rows, columns=["modality", "model", "moa", "f1", "n_compounds"])


def _comparisons(table: pd.DataFrame, predictions, y, models, modalities, n_permutations: int, rng) -> pd.DataFrame:
    """Each pair of modalities: the mean fold difference in macro F1, and a paired permutation p-value.

    The pooled out-of-fold predictions of the two modalities are swapped, perturbation by perturbation, at
    random; under "no difference" each swap is as likely as the observed assignment. The statistic is the
    difference in macro F1 of the pooled predictions; p is two-sided, (1 + #{|null| >= |observed|}) / (1 + n).
    """
    rows = []
    pairs = [(a, b) for a, b in [("early_fusion", "cp"), ("early_fusion", "ge"), ("late_fusion", "cp"),
                                 ("late_fusion", "ge"), ("cp", "ge"), ("early_fusion", "late_fusion")]
             if a in modalities and b in modalities]
    for model in models:
        scores = table[table["model"] == model].pivot(index="fold", columns="modality", values="macro_f1")
        for a, b in pairs:
            order_a = np.concatenate([test for test, _ in predictions[(a, model)]])
            guess_a = np.concatenate([g for _, g in predictions[(a, model)]])
            guess_b = np.concatenate([g for _, g in predictions[(b, model)]])  # same folds, same order
            truth = y[order_a]
            observed = f1_score(truth, guess_a, average="macro") - f1_score(truth, guess_b, average="macro")
            null = np.empty(n_permutations)
            for i in range(n_permutations):
                swap = rng.random(len(truth)) < 0.5
                one, two = np.where(swap, guess_b, guess_a), np.where(swap, guess_a, guess_b)
                null[i] = f1_score(truth, one, average="macro") - f1_score(truth, two, average="macro")
            p = permutation_p_values(np.abs(null), abs(observed)) if n_permutations else np.nan
            difference = scores[a] - scores[b]
            rows.append((model, a, b, float(difference.mean()), float(observed), float(p)))
    return pd.DataFrame(rows, columns=["model", "modality_a", "modality_b", "mean_difference",
                                       "pooled_difference", "p_value"])


def single_matrices(profiles, modality: str, groups, include_controls: bool):
    """One modality's treatment-level profiles as the matrices MoA prediction uses (no pairing)."""
    from ..core.paired import PairedMatrices

    if not hasattr(profiles, "features"):
        raise ValueError("with one modality, give its treatment-level Profiles")
    data = profiles.data if include_controls else profiles.data[~profiles.controls]
    values = data[list(profiles.features)].to_numpy(dtype=float)
    if isinstance(groups, str) and groups in data.columns:
        group_values = data[groups].astype(str).to_numpy()
    else:
        group_values = data[profiles.perturbation].astype(str).to_numpy()
    matrices = PairedMatrices(values if modality == "cp" else None, values if modality == "ge" else None,
                              list(profiles.features), list(profiles.features),
                              data[profiles.perturbation].to_numpy(), pd.factorize(group_values)[0],
                              int(len(profiles.data) - len(data)), tuple(profiles.notes), inputs=profiles.sources)
    return matrices


def _single_labels(profiles, m, moa: str) -> pd.Series:
    data = profiles.data if len(profiles.data) == len(m.keys) else profiles.data[~profiles.controls]
    if moa not in data.columns:
        raise ValueError(f"MoA column {moa!r} not found")
    return pd.Series(data[moa].to_numpy())
