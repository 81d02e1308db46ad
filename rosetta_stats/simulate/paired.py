"""Paired Cell Painting + L1000 profiles with planted truth.

Every perturbation has a latent state ``z`` (``latent_dim`` numbers) shared by
both modalities:

* Cell Painting: a reproducible perturbation moves the features by ``B z``;
  a non-reproducible one does not move them at all (its replicates are noise);
* L1000: a reproducible perturbation moves *predictable* genes by ``a . z``
  (linear) or by a centred square of ``a . z`` (non-linear), and *noise*
  genes by an effect of its own that morphology cannot predict.

Plates add an offset to every feature (drawn independently for the two
modalities, with replicates placed on plates independently too), negative-
control wells (``negcon`` in the match column, ``pert_type == "control"``,
``control_type == "negcon"``, as in today's release) have no perturbation effect, and every well has independent noise. The
frames use the column names of a chosen Rosetta dataset (``style``), so they
go through the same loaders and pairing as the real files.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.registry import get_dataset
from .cells import cell_feature_names, well_name


@dataclass(frozen=True)
class PairedTruth:
    """What ``simulate_paired`` planted."""

    perturbations: tuple[str, ...]
    reproducible_cp: frozenset[str]
    reproducible_ge: frozenset[str]
    linear_genes: tuple[str, ...]  # predictable from morphology, linearly
    nonlinear_genes: tuple[str, ...]  # predictable, but not linearly
    noise_genes: tuple[str, ...]  # carry perturbation effects morphology cannot predict
    latent: pd.DataFrame  # perturbation x latent dimension

    @property
    def predictable_genes(self) -> tuple[str, ...]:
        return self.linear_genes + self.nonlinear_genes


@dataclass(frozen=True)
class SimulatedPair:
    cp: pd.DataFrame  # replicate level, laid out like the style's CP file
    ge: pd.DataFrame  # replicate level, laid out like the style's L1000 file
    truth: PairedTruth
    style: str

    def to_profiles(self):
        """Replicate-level (cp, ge) Profiles, keyed and control-marked as the loaders do it."""
        from ..common.matching import resolve_controls
        from ..data.profiles import Profiles

        ds = get_dataset(self.style)
        out = []
        for frame, modality in ((self.cp, "cp"), (self.ge, "ge")):
            rule, note = resolve_controls(frame, ds.controls(modality), label=f"simulated {modality}")
            profiles = Profiles.from_frame(frame, modality, ds.match_column(modality), ds.plate_column(modality))
            out.append(profiles.with_data(profiles.data, note=note, control_rule=rule))
        return tuple(out)


def gene_names(n_genes: int) -> list[str]:
    """L1000 landmark probe ids (``200814_at``, ...), in the annotation table's order, so that simulated
    genes carry real symbols; past the 978 landmarks, probe-like names of no real gene."""
    from ..data.gene_symbols import landmark_probes

    probes = landmark_probes()[:n_genes]
    return probes + [f"{900000 + i}_at" for i in range(n_genes - len(probes))]


def simulate_paired(
    n_perturbations: int = 200,
    n_replicates: int = 4,
    n_cp_features: int = 60,
    n_genes: int = 100,
    n_plates: int = 4,
    negcon_per_plate: int = 8,
    latent_dim: int = 8,
    reproducible_cp: float = 0.6,
    reproducible_ge: float = 0.6,
    linear_genes: float = 0.3,
    nonlinear_genes: float = 0.1,
    effect_size: float = 1.0,
    noise: float = 1.0,
    plate_effect: float = 0.3,
    style: str = "taorf",
    seed: int = 0,
) -> SimulatedPair:
    """Simulate replicate-level CP and GE frames of the same perturbations.

    Parameters
    ----------
    n_perturbations, n_replicates : treatments and wells per treatment (per modality).
    n_cp_features, n_genes : feature counts.
    n_plates, negcon_per_plate : layout; replicates are spread over plates.
    latent_dim : size of the shared latent state.
    reproducible_cp, reproducible_ge : fraction of perturbations with an effect in each modality.
    linear_genes, nonlinear_genes : fraction of genes predictable from morphology;
        the remaining genes are noise genes.
    effect_size, noise, plate_effect : signal, well noise and plate offset scales.
    style : a dataset short name whose column names the frames use, or "generic"
        (columns ``match``, ``plate``, ``well``; the Rosetta-like writer dresses these).
    seed : the same seed gives the same frames.
    """
    if n_perturbations < 2 or n_replicates < 1 or n_cp_features < 1 or n_genes < 1:
        raise ValueError("need n_perturbations >= 2 and at least one replicate, feature and gene")
    if linear_genes + nonlinear_genes > 1:
        raise ValueError("linear_genes + nonlinear_genes must be at most 1")
    ds = None if style == "generic" else get_dataset(style)
    rng = np.random.default_rng(seed)
    perts = [f"BRD-{i:05d}" for i in range(n_perturbations)]
    z = rng.normal(size=(n_perturbations, latent_dim))
    active_cp = rng.random(n_perturbations) < reproducible_cp
    active_ge = rng.random(n_perturbations) < reproducible_ge

    cp_names = cell_feature_names(n_cp_features)
    loadings = rng.normal(size=(latent_dim, n_cp_features)) / np.sqrt(latent_dim)
    cp_effect = effect_size * (z @ loadings) * active_cp[:, None]

    genes = gene_names(n_genes)
    n_linear = int(round(linear_genes * n_genes))
    n_nonlinear = int(round(nonlinear_genes * n_genes))
    order = rng.permutation(n_genes)
    linear_idx, nonlinear_idx = order[:n_linear], order[n_linear:n_linear + n_nonlinear]
    noise_idx = order[n_linear + n_nonlinear:]
    gene_loadings = rng.normal(size=(latent_dim, n_genes)) / np.sqrt(latent_dim)
    projected = z @ gene_loadings
    ge_effect = np.empty((n_perturbations, n_genes))
    ge_effect[:, linear_idx] = projected[:, linear_idx]
    ge_effect[:, nonlinear_idx] = (projected[:, nonlinear_idx] ** 2 - 1) / np.sqrt(2)
    ge_effect[:, noise_idx] = rng.normal(size=(n_perturbations, len(noise_idx)))
    ge_effect = effect_size * ge_effect * active_ge[:, None]

    cp = _replicate_frame(ds, "cp", perts, cp_effect, cp_names, n_replicates, n_plates,
                          negcon_per_plate, noise, plate_effect, rng)
    ge = _replicate_frame(ds, "ge", perts, ge_effect, genes, n_replicates, n_plates,
                          negcon_per_plate, noise, plate_effect, rng)
    truth = PairedTruth(
        perturbations=tuple(perts),
        reproducible_cp=frozenset(np.asarray(perts)[active_cp]),
        reproducible_ge=frozenset(np.asarray(perts)[active_ge]),
        linear_genes=tuple(genes[i] for i in sorted(linear_idx)),
        nonlinear_genes=tuple(genes[i] for i in sorted(nonlinear_idx)),
        noise_genes=tuple(genes[i] for i in sorted(noise_idx)),
        latent=pd.DataFrame(z, index=pd.Index(perts, name="perturbation"),
                            columns=[f"z{i}" for i in range(latent_dim)]),
    )
    return SimulatedPair(cp=cp, ge=ge, truth=truth, style=ds.short if ds is not None else style)


def _replicate_frame(ds, modality, perts, effect, names, n_replicates, n_plates,
                     negcon_per_plate, noise, plate_effect, rng) -> pd.DataFrame:
    """Wells of one modality: treated replicates spread over plates, plus negcon wells."""
    n_perts, n_features = effect.shape
    pert_index = np.repeat(np.arange(n_perts), n_replicates)
    # plates drawn independently per modality: a shared layout would give both modalities the same
    # plate signature and make "noise" genes look predictable from morphology
    plates = rng.permutation(len(pert_index)) % n_plates
    control_plates = np.repeat(np.arange(n_plates), negcon_per_plate)
    plate_of_row = np.concatenate([plates, control_plates])
    is_control = np.r_[np.zeros(len(pert_index), bool), np.ones(len(control_plates), bool)]
    signal = np.vstack([effect[pert_index], np.zeros((len(control_plates), n_features))])
    offsets = rng.normal(size=(n_plates, n_features)) * plate_effect
    values = signal + offsets[plate_of_row] + rng.normal(size=signal.shape) * noise

    match = ds.match_column(modality) if ds is not None else "match"
    plate_column = ds.plate_column(modality) if ds is not None else "plate"
    well_column = ("Metadata_Well" if modality == "cp" else "det_well") if ds is not None else "well"
    keys = np.concatenate([np.asarray(perts)[pert_index], np.full(len(control_plates), "negcon")])
    plate_names = np.array([f"{'SQ' if modality == 'cp' else 'REP.A'}{p + 1:04d}" for p in range(n_plates)])
    wells = _well_names(plate_of_row)
    meta = {
        plate_column: plate_names[plate_of_row],
        well_column: wells,
        match: keys,
        "pert_type": np.where(is_control, "control", "trt"),  # today's labels (2022-04-25 rewrite)
        "control_type": np.where(is_control, "negcon", ""),
    }
    frame = pd.DataFrame(meta)
    frame = pd.concat([frame, pd.DataFrame(values, columns=names)], axis=1)
    return frame.sample(frac=1.0, random_state=int(rng.integers(2**31))).reset_index(drop=True)


def _well_names(plate_of_row: np.ndarray) -> np.ndarray:
    position = np.zeros(len(plate_of_row), dtype=int)
    for plate in np.unique(plate_of_row):
        members = np.flatnonzero(plate_of_row == plate)
        position[members] = np.arange(len(members))
    return np.array([well_name(i) for i in position])
