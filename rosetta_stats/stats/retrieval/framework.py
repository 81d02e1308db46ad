"""The mAP framework's three questions, as named entry points on :func:`.map.mean_average_precision`.

* activity: is a perturbation distinguishable from the negative controls?
  Its replicates retrieve each other among the control wells (optionally
  only the controls of the query's own plate, and replicates on other plates).
* distinctiveness: is it distinguishable from the other perturbations?
  Its replicates retrieve each other among every other perturbation's wells.
* consistency: do perturbations that share an annotation (a MoA, a target)
  look alike? On treatment-level (consensus) profiles, each perturbation
  retrieves the others with its label among those sharing none of its
  labels (``a|b`` carries both).

Every other argument passes to :func:`mean_average_precision` (null, n_null,
p_value, hierarchical_by, k, similarity, seed, ...).
"""
from __future__ import annotations

from ...data.profiles import Profiles
from .map import AveragePrecisionResult, mean_average_precision


def _perturbation(profiles, perturbation):
    return perturbation or (profiles.perturbation if isinstance(profiles, Profiles) else None)


def phenotypic_activity(profiles, perturbation: str | None = None, features=None, controls=None,
                        plate: str | None = None, same_plate_controls: bool = False,
                        replicates_on_other_plates: bool = False, **options) -> AveragePrecisionResult:
    """mAP of each perturbation's replicates against the negative controls (activity).

    ``plate`` names the plate column for the two plate-aware options:
    ``same_plate_controls`` (a query ranks only the controls of its own
    plate) and ``replicates_on_other_plates`` (only replicates on other
    plates count as positives).
    """
    perturbation = _perturbation(profiles, perturbation)
    if (same_plate_controls or replicates_on_other_plates) and plate is None:
        plate = getattr(profiles, "plate", None)
        if plate is None:
            raise ValueError("the plate-aware options need plate=... (the plate column)")
    positives = dict(same=[perturbation], different=[plate] if replicates_on_other_plates else [])
    if same_plate_controls:
        reference = controls if controls is not None else _rule_of(profiles)
        return mean_average_precision(profiles, perturbation, features, dict(same=[plate]), controls,
                                      positives=positives, reference=reference, **options)
    return mean_average_precision(profiles, perturbation, features, "negcon", controls, positives=positives,
                                  **options)


def phenotypic_distinctiveness(profiles, perturbation: str | None = None, features=None, controls=None,
                               plate: str | None = None, other_plates_only: bool = False,
                               **options) -> AveragePrecisionResult:
    """mAP of each perturbation's replicates against every other perturbation's wells (distinctiveness).

    ``other_plates_only`` (with ``plate``) ranks only wells of other plates as negatives.
    """
    perturbation = _perturbation(profiles, perturbation)
    if other_plates_only:
        plate = plate or getattr(profiles, "plate", None)
        if plate is None:
            raise ValueError("other_plates_only needs plate=... (the plate column)")
        return mean_average_precision(profiles, perturbation, features, dict(different=[perturbation, plate]),
                                      controls, **options)
    return mean_average_precision(profiles, perturbation, features, "others", controls, **options)


def phenotypic_consistency(profiles, label: str = "Metadata_moa", features=None, controls=None,
                           active=None, perturbation: str | None = None, **options) -> AveragePrecisionResult:
    """mAP of perturbations sharing an annotation retrieving each other (consistency), one row per label.

    ``profiles``: treatment-level (consensus) profiles; ``label``: a column of
    ``|``-separated annotations; ``active``: the perturbations to keep (a
    list of keys, or an activity result: those with q < 0.05), as the
    framework scores consistency among active perturbations only.
    """
    if isinstance(profiles, Profiles):
        frame, features = profiles.data, list(features or profiles.features)
        key = _perturbation(profiles, perturbation)
        control = profiles.controls
    else:
        frame, key, control = profiles, perturbation, None
    if active is not None:
        if hasattr(active, "table"):
            table = active.table
            active = table.loc[table["q_value"] < 0.05, table.columns[0]].tolist()
        if key is None:
            raise ValueError("active= needs the perturbation column (perturbation=...)")
        keep = frame[key].astype(str).isin(set(map(str, active))).to_numpy()
        frame = frame[keep]
        control = control[keep] if control is not None else None
    if controls is None and control is not None:
        controls = control
    result = mean_average_precision(frame, label, features, "others", controls, positives=dict(same=[label]),
                                    multilabel=label, **options)
    return result.with_notes(f"consistency of {label}" + (f" among {len(frame)} active perturbations"
                                                          if active is not None else ""))


def _rule_of(profiles):
    rule = getattr(profiles, "control_rule", None)
    if rule is not None:
        return rule
    if isinstance(profiles, Profiles):
        return profiles.controls
    raise ValueError("same_plate_controls needs controls=... (the negative-control rows)")
