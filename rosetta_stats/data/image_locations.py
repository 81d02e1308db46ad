"""Where to look: the plates and wells whose images show a perturbation, or a gene's top perturbations.

Profiles are one row per well; this module reads back, for chosen
perturbations, the plate, well and (when the profiles carry it) site of
every replicate, and the Broad Bioimage Benchmark Collection accession of
the dataset, whose image sets are public. The Rosetta files hold no image
paths, so no image address is made up: the table says which plate and well
to open in the accession's image set. For a gene, give an
:func:`effect_sizes` result of the L1000 profiles (or a list of
perturbations): its top perturbations for that gene are looked up.
"""
from __future__ import annotations

import re


from ..common.result import Result

SITE_COLUMNS = ("Metadata_Site", "Metadata_site", "site")


class ImageLocations(Result):
    """One row per replicate well of the chosen perturbations."""

    title = "Image locations"


def image_locations(profiles, perturbations=None, gene: str | None = None, effects=None, n: int = 5,
                    plate: str | None = None, well: str | None = None) -> ImageLocations:
    """Plate, well (and site) of each replicate of ``perturbations`` (or of ``gene``'s top ``n``
    perturbations in ``effects``), with the dataset's image accession when it has one."""
    data = profiles.data
    key = profiles.perturbation
    plate = plate or profiles.plate or next((c for c in ("Metadata_Plate", "Metadata_plate") if c in data), None)
    well = well or next((c for c in ("Metadata_Well", "Metadata_well", "det_well") if c in data), None)
    if plate is None or well is None:
        raise ValueError("the profiles have no plate or well column; name them (plate=..., well=...)")
    if gene is not None:
        if effects is None:
            raise ValueError("a gene needs an effect_sizes() result of the L1000 profiles (effects=...)")
        perturbations = effects.top_perturbations(gene, n=n)["perturbation"].tolist()
    if perturbations is None:
        raise ValueError("give perturbations=[...] or gene= with effects=")
    perturbations = [str(p) for p in ([perturbations] if isinstance(perturbations, str) else perturbations)]
    rows = data[data[key].astype(str).isin(perturbations)]
    missing = sorted(set(perturbations) - set(rows[key].astype(str)))
    if len(missing) == len(perturbations):
        raise ValueError(f"none of the perturbations is in the profiles (e.g. {perturbations[0]!r})")
    columns = [key, plate, well] + [c for c in SITE_COLUMNS if c in data]
    table = rows[columns].rename(columns={key: "perturbation", plate: "plate", well: "well"})
    accession = _accession(profiles)
    table = table.assign(image_set=accession or "").sort_values(["perturbation", "plate", "well"], kind="stable")
    notes = []
    if missing:
        notes.append(f"not in the profiles: {', '.join(missing[:5])}")
    notes.append(f"images: the {accession} image set, plate and well as listed" if accession else
                 "the registry knows no public image set for these profiles")
    settings = {"gene": gene, "n": n if gene is not None else None}
    return ImageLocations(table.reset_index(drop=True), settings, {"n_wells": len(table)}, tuple(notes),
                          getattr(profiles, "inputs", ()))


def _accession(profiles) -> str | None:
    """The BBBC accession in the dataset's folder name (e.g. BBBC037), when the profiles came from one."""
    for source in getattr(profiles, "sources", ()) or ():
        found = re.search(r"BBBC\d{3}", str(source.get("path", "")))
        if found:
            return found.group(0)
    return None
