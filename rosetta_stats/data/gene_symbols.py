"""L1000 probe ids (``201000_at``) as gene symbols, current HGNC or as the paper's tables name them.

The table ships with the package (``annotations/l1000_genes.csv``, built by
``tools/build_gene_table.py`` from the paper's probe -> gene table), so it
works without network access. 89 of its genes have been renamed by HGNC
since the paper (``AARS`` is now ``AARS1``): ``which="paper"`` gives the names
the paper's figures use, ``which="current"`` today's symbols.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

from ..common.validation import check_choice

WHICH = ("current", "paper")


@lru_cache(maxsize=1)
def gene_table() -> pd.DataFrame:
    """probe_id, paper_gene, symbol for every probe the annotation knows."""
    with resources.files(__package__).joinpath("annotations/l1000_genes.csv").open() as handle:
        return pd.read_csv(handle, dtype=str)


def gene_symbols(probes, which: str = "current") -> pd.Series:
    """The symbol of each probe id (index: the probes, in order; NaN where the probe is unknown).

    Names that are not probe ids (already symbols) are passed through unchanged.
    """
    check_choice(which, WHICH, "which")
    if probes is None or isinstance(probes, str):
        probes = [] if probes is None else [probes]
    probes = pd.Index(pd.Series(list(probes), dtype=object).astype(str))
    table = gene_table().set_index("probe_id")
    column = "symbol" if which == "current" else "paper_gene"
    mapped = pd.Series(table[column].reindex(probes).to_numpy(), index=probes, name=which)
    not_probe = ~probes.str.endswith("_at")
    mapped[not_probe] = probes[not_probe]
    return mapped


def with_symbols(table: pd.DataFrame, column: str = "gene", which: str = "current") -> pd.DataFrame:
    """A copy of ``table`` with a ``symbol`` column after ``column`` (left alone if one exists)."""
    if "symbol" in table.columns or column not in table.columns:
        return table
    out = table.copy()
    out.insert(out.columns.get_loc(column) + 1, "symbol", gene_symbols(out[column], which).to_numpy())
    return out
