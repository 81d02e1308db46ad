"""L1000 probe ids (``201000_at``) and gene symbols, both ways.

The table ships with the package (``annotations/l1000_genes.csv``, built by
``tools/build_gene_table.R``): for every probe of the paper's table, the name
the paper's figures use (``paper_gene``), and for the 978 landmarks the
gene the LINCS landmark list names (``lincs_symbol``), its Entrez id and its
current symbol, resolved with Bioconductor's org.Hs.eg.db. Eight landmarks
differ from the paper's own table, which had taken old names to the wrong
gene through aliases (``NP`` is PNP, not KLK8; ``CDC2`` is CDK1, not POLD1;
``RAGE`` is MOK, not AGER; ``CHP`` is CHP1; ``B3GNT1`` is B4GAT1; ``CD97``
is ADGRE5; ``HN1L`` is JPT2; the calmodulin probe is LINCS' CALM3).

``which``: "current" (today's symbols), "paper" (as the paper's tables name
them, so published tables still join) or "lincs" (the LINCS landmark names).
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from ..common.validation import check_choice

WHICH = ("current", "paper", "lincs")
_COLUMN = {"current": "symbol", "paper": "paper_gene", "lincs": "lincs_symbol"}


@lru_cache(maxsize=1)
def gene_table() -> pd.DataFrame:
    """probe_id, paper_gene, symbol, entrez, lincs_symbol, landmark for every probe the annotation knows."""
    with resources.files(__package__).joinpath("annotations/l1000_genes.csv").open() as handle:
        table = pd.read_csv(handle, dtype=str, keep_default_na=False, na_values=[""])
    table["landmark"] = table["landmark"].str.upper().eq("TRUE")
    return table


def landmark_probes() -> list[str]:
    """The 978 L1000 landmark probe ids."""
    table = gene_table()
    return table.loc[table["landmark"], "probe_id"].tolist()


def gene_symbols(probes, which: str = "current") -> pd.Series:
    """The symbol of each probe id (index: the probes, in order; NaN where the probe is unknown).

    Names that are not probe ids (already symbols) are passed through unchanged.
    """
    check_choice(which, WHICH, "which")
    if probes is None or isinstance(probes, str):
        probes = [] if probes is None else [probes]
    probes = pd.Index(pd.Series(list(probes), dtype=object).astype(str))
    table = gene_table().set_index("probe_id")
    mapped = pd.Series(table[_COLUMN[which]].reindex(probes).to_numpy(), index=probes, name=which)
    not_probe = ~probes.str.endswith("_at")
    mapped[not_probe] = probes[not_probe]
    return mapped


def gene_annotations(probes) -> pd.DataFrame:
    """One row per probe (index, in order): symbol, paper_gene, lincs_symbol, entrez."""
    probes = pd.Index([str(p) for p in probes], name="gene")
    table = gene_table().set_index("probe_id")[["symbol", "paper_gene", "lincs_symbol", "entrez"]]
    out = table.reindex(probes)
    not_probe = ~probes.str.endswith("_at")
    out.loc[not_probe, "symbol"] = probes[not_probe]
    return out


def _r_name(name: str) -> str:
    """What R's make.names makes of a symbol (``HLA-DMA`` -> ``HLA.DMA``)."""
    made = re.sub(r"[^A-Za-z0-9._]", ".", name)
    return "X" + made if re.match(r"^([0-9]|\.[0-9]|_)", made) else made


@lru_cache(maxsize=1)
def _symbol_index() -> dict[str, str]:
    """Every spelling of a landmark's name (current, LINCS, paper; as written and as R makes it) -> probe."""
    table = gene_table()
    table = table[table["landmark"]]
    index: dict[str, str] = {}
    for column in ("paper_gene", "lincs_symbol", "symbol"):  # later columns win a clash: current symbols last
        for probe, name in zip(table["probe_id"], table[column]):
            if isinstance(name, str) and name:
                for spelling in {name, _r_name(name), name.upper(), _r_name(name).upper()}:
                    index[spelling] = probe
    return index


def gene_probes(symbols, strict: bool = False) -> pd.Series:
    """The landmark probe id of each gene symbol (index: the symbols, in order; NaN where unknown).

    Current, LINCS and the paper's symbols are all understood, as written or
    as R's ``make.names`` writes them (``HLA.DMA`` is ``HLA-DMA``), in any
    case. ``strict=True`` raises, naming the symbols it cannot place.
    """
    if symbols is None or isinstance(symbols, str):
        symbols = [] if symbols is None else [symbols]
    names = [str(s) for s in symbols]
    index = _symbol_index()
    probes = [index.get(n, index.get(n.upper(), np.nan)) for n in names]
    out = pd.Series(probes, index=pd.Index(names, name="symbol"), name="probe_id", dtype=object)
    if strict and out.isna().any():
        unknown = out.index[out.isna()].tolist()
        raise ValueError(f"{len(unknown)} symbol(s) are not L1000 landmarks: {', '.join(unknown[:10])}")
    return out


def symbol_columns_to_probes(columns) -> dict[str, str]:
    """The rename map from symbol-named columns to probe ids (empty when the columns are not named by symbol).

    A column is taken for a gene only when at least half of the columns are
    landmark symbols, so metadata columns are never renamed by accident.
    """
    columns = [c for c in columns if isinstance(c, str)]
    probes = gene_probes(columns)
    known = probes.dropna()
    if len(known) < 100 or len(known) < 0.5 * len(columns):
        return {}
    repeated = known[known.duplicated(keep=False)]
    if len(repeated):
        raise ValueError(f"several columns name the same landmark gene: {', '.join(repeated.index[:6])}")
    return dict(known.items())


def with_symbols(table: pd.DataFrame, column: str = "gene", which: str = "current") -> pd.DataFrame:
    """A copy of ``table`` with a ``symbol`` column after ``column`` (left alone if one exists)."""
    if "symbol" in table.columns or column not in table.columns:
        return table
    out = table.copy()
    out.insert(out.columns.get_loc(column) + 1, "symbol", gene_symbols(out[column], which).to_numpy())
    return out
