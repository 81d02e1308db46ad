"""Build rosetta_stats/data/annotations/l1000_genes.csv from the paper's probe -> gene table.

    .venv/bin/python tools/build_gene_table.py ../shared/reference/l1000_probe_to_gene.csv

Keeps the three columns the package needs (probe id, the gene name the
paper's tables use, the current HGNC symbol); the test suite checks the
built table against the reference whenever the reference is present.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

source = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference/l1000_probe_to_gene.csv")
table = pd.read_csv(source, dtype=str)[["probe_id", "gene", "symbol"]]
table = table.rename(columns={"gene": "paper_gene"}).sort_values("probe_id")
out = Path(__file__).resolve().parents[1] / "rosetta_stats" / "data" / "annotations" / "l1000_genes.csv"
table.to_csv(out, index=False)
print(f"{len(table)} probes -> {out}")
