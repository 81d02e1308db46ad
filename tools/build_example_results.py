"""Write the example results folder that rosettabridge ships (inst/extdata/example_results).

R users (and the README's R block) read it with
``read_results(system.file("extdata", "example_results", package = "rosettabridge"))``
without running Python first. tests/results/test_example_results.py rebuilds
it and fails when the shipped tables no longer equal what the code computes.

    .venv/bin/python tools/build_example_results.py [--out r_bridge/inst/extdata/example_results]
"""
from __future__ import annotations

import argparse
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "r_bridge" / "inst" / "extdata" / "example_results"


def build(out: Path, overwrite: bool = False) -> Path:
    import rosetta_stats as rs

    sim = rs.simulate_paired(n_perturbations=60, n_replicates=3, n_cp_features=12, n_genes=10, seed=0)
    cp, ge = sim.to_profiles()
    replicates = rs.replicate_reproducibility(cp, n_null=200, seed=0)
    paired = rs.pair(rs.treatment_level(cp), rs.treatment_level(ge))
    genes = rs.gene_predictability(paired, model="ridge", n_permutations=50, seed=0)
    return rs.write_results({"replicates": replicates, "genes": genes}, out, overwrite=overwrite)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=SHIPPED)
    args = parser.parse_args()
    print(build(args.out, overwrite=True))


if __name__ == "__main__":
    main()
