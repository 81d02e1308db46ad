"""Match keys that pair Cell Painting with L1000, and compound groups.

The two modalities spell the same treatment differently: LINCS Cell
Painting writes ``BRD-K12345678_10.0`` where L1000 writes
``BRD-K12345678_10``; the curated release gives ``0.041152`` µM on one side
and ``0.0411523`` on the other. Keys are therefore normalised before
matching: a trailing ``_<dose>`` is parsed as a number and rounded to two
decimals (``_10.0`` and ``_10`` both become ``_10``); ``negcon`` and keys
without a numeric suffix are left as they are. ``rule="raw"`` matches the
strings as written (the paper's way).

Compounds: every dose and salt of one compound shares the first 13
characters of its Broad id (``BRD-K12345678``); other identifiers (ORF
clone ids, alleles) are their own group.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..common.validation import check_choice
from ..common.matching import NEGCON

KEY_RULES = ("raw", "dose_suffix", "compound_dose", "auto")
_BROAD_COMPOUND = re.compile(r"^(BRD-[A-Z]\d{8})")
_DOSE_SUFFIX = re.compile(r"^(.*)_(-?\d+(?:\.\d*)?(?:[eE]-?\d+)?)$")


def format_dose(dose: float, decimals: int = 2) -> str:
    """A dose as the key writes it: rounded to ``decimals``, no trailing zeros (10.0 -> '10')."""
    value = round(float(dose), decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".")


def normalize_dose_keys(keys, decimals: int = 2) -> pd.Series:
    """``ID_DOSE`` keys with the dose parsed and rounded (``_10.0`` -> ``_10``); others unchanged."""
    text = pd.Series(keys, copy=False).astype("string").str.strip()
    parts = text.str.extract(_DOSE_SUFFIX)
    has_dose = parts[1].notna() & (text != NEGCON)
    out = text.copy()
    if has_dose.any():
        doses = pd.to_numeric(parts.loc[has_dose, 1])
        out[has_dose] = parts.loc[has_dose, 0] + "_" + doses.map(lambda d: format_dose(d, decimals))
    return out.astype(object).where(out.notna(), None)


def compound_of(ids) -> pd.Series:
    """The compound of each id: ``BRD-K12345678`` for Broad ids, else the id itself."""
    text = pd.Series(ids, copy=False).astype("string").str.strip()
    compound = text.str.extract(_BROAD_COMPOUND)[0]
    return compound.fillna(text).astype(object)


def compound_dose_keys(ids, doses, controls: np.ndarray | None = None, decimals: int = 2) -> pd.Series:
    """``<compound>_<dose>`` keys (curated release); control rows become ``negcon``."""
    compound = compound_of(ids)
    dose = pd.to_numeric(pd.Series(doses, copy=False), errors="coerce")
    usable = dose.notna() & np.isfinite(dose) & (dose != -666)
    suffix = dose.where(usable).map(lambda d: "" if pd.isna(d) else "_" + format_dose(d, decimals))
    keys = (compound.astype(str) + suffix.to_numpy()).where(compound.notna(), None)
    if controls is not None:
        keys = keys.where(~np.asarray(controls, bool), NEGCON)
    return keys


def looks_dose_suffixed(keys, share: float = 0.5) -> bool:
    """True when most keys end in ``_<decimal number>`` (``_10.0``, ``_3.33``): the ``auto`` rule's test."""
    text = pd.Series(keys, copy=False).dropna().astype(str)
    text = text[text != NEGCON]
    if text.empty:
        return False
    return bool(text.str.contains(r"_-?\d+\.\d+$").mean() >= share)


def resolve_key_rule(rule: str, *key_sets) -> str:
    """``rule`` with "auto" decided: "dose_suffix" when any of ``key_sets`` looks dose-suffixed, else "raw"."""
    check_choice(rule, ("raw", "dose_suffix", "auto"), "match")
    if rule != "auto":
        return rule
    return "dose_suffix" if any(looks_dose_suffixed(keys) for keys in key_sets) else "raw"


def match_keys(keys, rule: str = "auto", other=None) -> pd.Series:
    """Keys ready for matching under ``rule`` ("raw", "dose_suffix", or "auto": dose_suffix when either
    side's keys look dose-suffixed)."""
    rule = resolve_key_rule(rule, keys, *([] if other is None else [other]))
    if rule == "dose_suffix":
        return normalize_dose_keys(keys)
    text = pd.Series(keys, copy=False).astype("string").str.strip()
    return text.astype(object).where(text.notna(), None)


def dose_of_key(keys) -> pd.Series:
    """The numeric dose suffix of each key (NaN where there is none)."""
    parts = pd.Series(keys, copy=False).astype("string").str.extract(_DOSE_SUFFIX)
    return pd.to_numeric(parts[1], errors="coerce")
