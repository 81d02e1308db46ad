"""GO enrichment of a set of L1000 genes (predictable, top-effect, ...) against the landmarks, offline.

Gene -> GO terms (with every ancestor term) come from Bioconductor's
org.Hs.eg.db and GO.db through the R session, read once and cached on disk
(``$XDG_CACHE_HOME/rosetta_stats``, keyed by the two packages' versions).
Each term with ``min_size`` to ``max_size`` genes in the universe (by
default the 978 landmarks; the genes of a result when one is given) is
tested with the hypergeometric tail ``P(X >= k)``: k selected genes in the
term, out of N selected, n in the term, M in the universe. q-values are
Benjamini-Hochberg over the terms tested. ``keywords`` (by default the
paper's cell-compartment map) labels each term whose name mentions a
compartment, to summarise enriched terms by compartment as the paper did.
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pandas as pd
from scipy import stats

from ..common.atomic_files import atomic_path
from ..common.result import Result
from ..common.validation import check_choice
from ..data.gene_symbols import gene_table
from ..stats.core.multiple_testing import bh_qvalues

ONTOLOGIES = ("BP", "MF", "CC", "all")
# the paper's compartment keywords (Extended Data 5/6), matched in term names
PAPER_COMPARTMENTS = {
    "nucleus": ("nucle", "chromatin", "chromosom", "DNA"),
    "mitochondrion": ("mitochond",),
    "endoplasmic reticulum": ("endoplasmic reticulum",),
    "Golgi": ("Golgi",),
    "cytoskeleton": ("cytoskelet", "actin", "microtubule"),
    "plasma membrane": ("plasma membrane", "cell surface"),
}


class GoEnrichmentResult(Result):
    """One row per GO term tested: sizes, overlap, fold enrichment, p, q (most enriched first)."""

    title = "GO enrichment"

    def headline(self) -> list[str]:
        return [f"{self.estimates['n_selected']} of {self.estimates['n_universe']} genes selected; "
                f"{self.estimates['n_terms_tested']} terms tested, {self.estimates['n_q_below_0.05']} with q < 0.05"]


def _cache_folder() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rosetta_stats"


def go_annotations(refresh: bool = False) -> pd.DataFrame:
    """(probe_id, symbol, entrez, go_id, ontology, term) for the landmark genes; cached after the first read."""
    from ..bridge.go_annotations import annotation_versions, go_table

    genes = gene_table()
    genes = genes[genes["landmark"] & genes["entrez"].notna()]
    versions = annotation_versions()
    name = "go_landmarks_" + "_".join(f"{k}-{v}" for k, v in sorted(versions.items())) + ".csv.gz"
    path = _cache_folder() / name
    if path.is_file() and not path.is_symlink() and not refresh:
        with contextlib.suppress(Exception):
            table = pd.read_csv(path, dtype=str)
            if list(table.columns) == ["entrez", "go_id", "ontology", "term"] and len(table):
                return _with_probes(table, genes)
    entrez = sorted({str(int(float(e))) for e in genes["entrez"]})
    table = go_table(entrez)
    with contextlib.suppress(OSError):  # an unwritable cache folder only costs the next read
        with atomic_path(path) as tmp:
            table.to_csv(tmp, index=False, compression="gzip")
    return _with_probes(table, genes)


def _with_probes(table: pd.DataFrame, genes: pd.DataFrame) -> pd.DataFrame:
    keys = genes.assign(entrez=genes["entrez"].map(lambda e: str(int(float(e)))))[["probe_id", "symbol", "entrez"]]
    return keys.merge(table, on="entrez", how="inner", validate="many_to_many")


def _selection(selected, universe, q: float):
    """(selected probe ids, universe probe ids) from a list, a boolean Series, or a predictability result."""
    table = getattr(selected, "table", None)
    if table is not None:
        if "gene" not in table.columns:
            raise ValueError("go_enrichment() takes a gene_predictability() result, a list of genes or a boolean "
                             "Series indexed by gene")
        column = "highly_predictable" if "highly_predictable" in table.columns and table["q_value"].isna().all() \
            else None
        chosen = table["gene"][table[column].astype(bool)] if column else table["gene"][table["q_value"] < q]
        return list(chosen), list(universe if universe is not None else table["gene"])
    if isinstance(selected, pd.Series) and selected.dtype == bool:
        return list(selected.index[selected]), list(universe if universe is not None else selected.index)
    return list(selected), list(universe) if universe is not None else None


def go_enrichment(selected, universe=None, ontology: str = "BP", min_size: int = 5, max_size: int = 500,
                  q: float = 0.05, keywords=None, annotations: pd.DataFrame | None = None) -> GoEnrichmentResult:
    """Hypergeometric enrichment of GO terms among ``selected`` genes (probe ids or symbols).

    ``selected``: a list of genes, a boolean Series indexed by gene, or a
    :func:`gene_predictability` result (genes with q < ``q``; the paper's
    highly-predictable call when it has no q-values). ``universe``: the
    background (default: the result's or Series' genes, else the 978
    landmarks). ``ontology``: "BP", "MF", "CC" or "all". ``keywords``: a
    mapping compartment -> substrings of term names (``"paper"`` for the
    paper's map). ``annotations``: a gene-term table to use instead of
    :func:`go_annotations` (probe_id, go_id, ontology, term).
    """
    check_choice(ontology, ONTOLOGIES, "ontology")
    if int(min_size) < 1 or int(max_size) < int(min_size):
        raise ValueError(f"need 1 <= min_size <= max_size; got {min_size}, {max_size}")
    chosen, background = _selection(selected, universe, q)
    table = annotations if annotations is not None else go_annotations()
    to_probe = _gene_keys(table)
    chosen_probes = {to_probe.get(str(g)) for g in chosen} - {None}
    unknown = [g for g in chosen if str(g) not in to_probe]
    background = set(table["probe_id"]) if background is None else {to_probe.get(str(g)) for g in background} - {None}
    chosen_probes &= background
    if not chosen_probes:
        raise ValueError("none of the selected genes is an annotated landmark gene of the universe")
    if ontology != "all":
        table = table[table["ontology"] == ontology]
    table = table[table["probe_id"].isin(background)].drop_duplicates(["probe_id", "go_id"])
    m, n_selected = len(background), len(chosen_probes)
    table = table.assign(hit=table["probe_id"].isin(chosen_probes))
    terms = table.groupby("go_id", sort=True).agg(term=("term", "first"), ontology=("ontology", "first"),
                                                 n_term=("probe_id", "size"), n_selected_in_term=("hit", "sum"))
    terms = terms[(terms["n_term"] >= min_size) & (terms["n_term"] <= max_size)]
    if terms.empty:
        raise ValueError(f"no GO term has {min_size} to {max_size} genes in the universe")
    k, size = terms["n_selected_in_term"].to_numpy(), terms["n_term"].to_numpy()
    p = stats.hypergeom.sf(k - 1, m, size, n_selected)
    symbols = table[table["hit"]].groupby("go_id")["symbol"].agg(lambda s: ",".join(sorted(map(str, s))))
    out = terms.reset_index().assign(
        expected=size * n_selected / m, fold_enrichment=k / (size * n_selected / m), p_value=p,
        q_value=bh_qvalues(p), genes=lambda f: f["go_id"].map(symbols).fillna(""))
    if keywords is not None:
        mapping = PAPER_COMPARTMENTS if keywords == "paper" else dict(keywords)
        out["compartment"] = out["term"].map(lambda t: _compartment(str(t), mapping))
    out = out.sort_values(["p_value", "fold_enrichment"], ascending=[True, False], kind="stable").reset_index(drop=True)
    settings = {"ontology": ontology, "min_size": int(min_size), "max_size": int(max_size), "q": q,
                "test": "hypergeometric, one-sided (enrichment)", "keywords": None if keywords is None else
                (keywords if isinstance(keywords, str) else json.dumps(dict(keywords), default=list))}
    estimates = {"n_selected": n_selected, "n_universe": m, "n_terms_tested": int(len(out)),
                 "n_q_below_0.05": int((out["q_value"] < 0.05).sum())}
    notes = (f"{len(unknown)} selected gene(s) without GO annotation or not landmarks: "
             f"{', '.join(map(str, unknown[:5]))}",) if unknown else ()
    return GoEnrichmentResult(out, settings, estimates, notes)


def _gene_keys(table: pd.DataFrame) -> dict[str, str]:
    """probe id and symbol -> probe id."""
    pairs = table[["probe_id", "symbol"]].drop_duplicates()
    keys = dict(zip(pairs["probe_id"].astype(str), pairs["probe_id"].astype(str)))
    keys.update({str(s): str(p) for s, p in zip(pairs["symbol"], pairs["probe_id"]) if isinstance(s, str)})
    return keys


def _compartment(term: str, mapping: dict) -> str:
    lowered = term.lower()
    found = [name for name, words in mapping.items() if any(w.lower() in lowered for w in words)]
    return ";".join(found)
