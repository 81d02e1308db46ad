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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, StratifiedGroupKFold, StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from tqdm.auto import tqdm

from ..common.validation import check_choice
from ..results.base import ResultShape
from .paired_inputs import paired_matrices

MODELS = ("logistic", "mlp")
MODALITIES = ("cp", "ge", "early_fusion", "late_fusion")


@dataclass(frozen=True)
class MoaPredictionResult(ResultShape):
    """Macro F1 per fold (``table``), per-class F1, paired comparisons across folds, and the settings."""

    table: pd.DataFrame  # modality, model, fold, macro_f1
    per_class: pd.DataFrame  # modality, model, moa, f1, n_compounds
    comparisons: pd.DataFrame  # model, modality_a, modality_b, mean_difference, t_statistic, p_value
    classes: tuple[str, ...]
    n_splits: int
    seed: int | None
    notes: tuple[str, ...] = field(default=())

    @property
    def chance(self) -> float:
        return float(self.table.loc[self.table["modality"] == "chance", "macro_f1"].mean())

    def mean_f1(self) -> pd.DataFrame:
        """Mean and sd of macro F1 over folds, per model and modality."""
        return (self.table.groupby(["model", "modality"], sort=False)["macro_f1"]
                .agg(["mean", "std"]).reset_index())

    def summary_dict(self) -> dict:
        means = {f"{r.model}/{r.modality}": float(r.mean) for r in self.mean_f1().itertuples()}
        return {"n_classes": len(self.classes), "n_splits": self.n_splits, "seed": self.seed,
                "chance_macro_f1": self.chance, "mean_macro_f1": means, "notes": list(self.notes)}

    def summary(self) -> str:
        lines = [f"MoA prediction: {len(self.classes)} classes, {self.n_splits}-fold StratifiedGroupKFold by compound",
                 f"  chance (class-frequency dummy): macro F1 {self.chance:.3f}"]
        for r in self.mean_f1().itertuples():
            if r.modality != "chance":
                lines.append(f"  {r.model:9s} {r.modality:13s} macro F1 {r.mean:.3f} (sd {r.std:.3f})")
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


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


def moa_prediction(cp, ge=None, key: str | None = None, moa: str = "moa", groups="compound",
                   models=MODELS, n_splits: int = 5, seed: int | None = 0, oversample: bool = True,
                   min_compounds: int = 5, drop_controls: bool = True, progress: bool = False) -> MoaPredictionResult:
    """Predict each perturbation's MoA from CP, GE, and both; macro F1 per fold.

    ``cp``/``ge``: treatment-level Profiles or DataFrames sharing ``key``, or a
    :class:`PairedProfiles`. ``moa`` is a column of the CP side (else of the GE
    side); ``groups`` the compound column (or a key-indexed Series) that keeps
    the doses of a compound in one fold.
    """
    models = (models,) if isinstance(models, str) else tuple(models)
    for m in models:
        check_choice(m, MODELS, "model")
    seed = 0 if seed is None else int(seed)
    m = paired_matrices(cp, ge, key, groups, drop_controls)
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
    x_cp, x_ge, group_codes = m.cp[keep], m.ge[keep], m.groups[keep]
    n_groups_per_class = pd.DataFrame({"y": y, "g": group_codes}).groupby("y")["g"].nunique()
    if n_groups_per_class.min() < n_splits:
        raise ValueError(f"every MoA needs at least n_splits={n_splits} compounds; "
                         f"{n_groups_per_class.idxmin()!r} has {n_groups_per_class.min()}")
    folds = list(StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed).split(x_cp, y, group_codes))
    rows, predictions = [], {}
    for fold, (train, test) in enumerate(tqdm(folds, desc="MoA folds", disable=not progress)):
        chance = DummyClassifier(strategy="stratified", random_state=seed + fold).fit(x_cp[train], y[train])
        rows.append(("chance", "dummy", fold, f1_score(y[test], chance.predict(x_cp[test]), average="macro")))
        sides = {"cp": _scaled(x_cp[train], x_cp[test]), "ge": _scaled(x_ge[train], x_ge[test])}
        sides["early_fusion"] = tuple(np.hstack([sides["cp"][i], sides["ge"][i]]) for i in range(2))
        for model in models:
            probabilities = {}
            for modality in ("cp", "ge", "early_fusion"):
                x_train, x_test = sides[modality]
                y_train = y[train]
                if oversample:
                    x_train, y_train = _oversampled(x_train, y_train, seed)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    fitted = _classifier(model, seed, int(pd.Series(y_train).value_counts().min())).fit(x_train, y_train)
                probabilities[modality] = pd.DataFrame(fitted.predict_proba(x_test), columns=fitted.classes_)
            late = (probabilities["cp"] + probabilities["ge"]) / 2
            probabilities["late_fusion"] = late
            for modality in MODALITIES:
                predicted = probabilities[modality].idxmax(axis=1).to_numpy()
                rows.append((modality, model, fold, f1_score(y[test], predicted, average="macro")))
                predictions.setdefault((modality, model), []).append((test, predicted))
    table = pd.DataFrame(rows, columns=["modality", "model", "fold", "macro_f1"])
    per_class = _per_class(predictions, y, classes, group_codes)
    comparisons = _comparisons(table, models)
    notes.append("scalers fitted on each training fold (the paper fitted them on all rows)")
    if oversample:
        notes.append("training rows randomly over-sampled to balance the MoAs")
    return MoaPredictionResult(table, per_class, comparisons, classes, int(n_splits), seed, tuple(notes))


def _labels(cp, ge, m, moa: str, key: str | None) -> pd.Series:
    """The MoA of every paired row, from the CP side (else the GE side), looked up by the pairing key."""
    from ..data.pairing import PairedProfiles

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


def _comparisons(table: pd.DataFrame, models) -> pd.DataFrame:
    rows = []
    pairs = [("early_fusion", "cp"), ("early_fusion", "ge"), ("late_fusion", "cp"), ("late_fusion", "ge"),
             ("cp", "ge"), ("early_fusion", "late_fusion")]
    for model in models:
        scores = table[table["model"] == model].pivot(index="fold", columns="modality", values="macro_f1")
        for a, b in pairs:
            difference = scores[a] - scores[b]
            if difference.std(ddof=1) > 0:
                t, p = stats.ttest_rel(scores[a], scores[b])
            else:
                t, p = np.nan, np.nan
            rows.append((model, a, b, float(difference.mean()), float(t), float(p)))
    return pd.DataFrame(rows, columns=["model", "modality_a", "modality_b", "mean_difference", "t_statistic",
                                       "p_value"])
