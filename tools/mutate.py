"""Mutation testing of the statistics: plausible one-line bugs, applied one at a time to a copy of the package.

    .venv/bin/python tools/mutate.py [--only NAME ...] [--list]

Each mutation replaces one line of the resampling engine or of a statistic
with a plausible mistake and runs the tests that should notice it (the
suite's fast tests of those modules) on a copy of the repository; the
mutation is killed when a test fails. The copy lives in a temporary folder,
with ``shared`` linked beside it so the real-data tests run; the checkout is
never modified. Prints one line per mutation and the kill rate.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str  # inside rosetta_stats/
    old: str
    new: str
    tests: tuple[str, ...]


MUTATIONS = (
    Mutation("sampled p-value b/n instead of (1 + b)/(1 + n)", "stats/core/resampling.py",
             "p = at_least / n if exact else (1.0 + at_least) / (1.0 + n)", "p = at_least / n",
             ("tests/stats/test_resampling.py", "tests/stats/test_replicates.py")),
    Mutation("exact p-value with the +1 of a sampled one", "stats/core/resampling.py",
             "p = at_least / n if exact else", "p = (1.0 + at_least) / (1.0 + n) if exact else",
             ("tests/stats/test_resampling.py", "tests/test_one_home.py")),
    Mutation("a NaN statistic gets a p-value", "stats/core/resampling.py",
             "return np.where(np.isnan(observed), np.nan, p)", "return p",
             ("tests/stats/test_resampling.py",)),
    Mutation("size-matched null may draw one perturbation twice", "stats/replicates/reproducibility.py",
             "chosen = distinct_draws(n_perts, k, n_null, rng)",
             "chosen = rng.integers(0, n_perts, size=(n_null, k))",
             ("tests/stats/test_replicates.py",)),
    Mutation("duplicate wells kept in the replicate correlation", "stats/replicates/reproducibility.py",
             "unique = first_occurrences(source, codes, ranges)", "unique = np.ones(len(codes), dtype=bool)",
             ("tests/stats/test_replicates.py",)),
    Mutation("permutations shuffle rows one by one instead of whole groups", "stats/core/resampling.py",
             "if layout.counts.max(initial=0) <= 1:\n        return rng.permutation(n)",
             "if True:\n        return rng.permutation(n)",
             ("tests/stats/test_resampling.py", "tests/stats/test_predictability.py")),
    Mutation("groups of a unique size never move", "stats/core/resampling.py",
             "    lonely = layout.lonely()\n    if len(lonely) > 1:\n        slots, moved = _block_shuffle(layout, lonely, rng.permutation(len(lonely)))",
             "    lonely = layout.lonely()\n    if False:\n        slots, moved = _block_shuffle(layout, lonely, rng.permutation(len(lonely)))",
             ("tests/stats/test_resampling.py",)),
    Mutation("MoA folds ignore compounds", "stats/prediction/moa.py",
             "StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed).split(x_any, y, group_codes)",
             "StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(x_any, y)",
             ("tests/stats/test_moa_prediction.py",)),
    Mutation("no multiple-testing correction", "stats/core/multiple_testing.py",
             'q[finite] = multipletests(p[finite], method="fdr_bh")[1]', "q[finite] = p[finite]",
             ("tests/stats/test_multiple_testing.py",)),
    Mutation("hierarchical FDR spends all of q in stage 2", "stats/core/multiple_testing.py",
             'share = {"half": 0.5,', 'share = {"half": 1.0,',
             ("tests/stats/test_multiple_testing.py",)),
    Mutation("ties favour the positive", "stats/kernels/ranking.py",
             "thresholds = positives - TIE_TOLERANCE", "thresholds = positives + TIE_TOLERANCE",
             ("tests/stats/test_retrieval_map.py", "tests/stats/test_retrieval_designs.py")),
    Mutation("a perturbation's own wells count as its negatives", "stats/kernels/ranking.py",
             '    """Mark the pairs of one group in the block (rows from a, columns b to b_end) as non-candidates."""\n',
             '    """Mark the pairs of one group in the block (rows from a, columns b to b_end) as non-candidates."""\n'
             "    return\n",
             ("tests/stats/test_retrieval_map.py",)),
    Mutation("the expected AP of a random ranking miscounted", "stats/core/resampling.py",
             "total += float(np.sum(np.exp(log_w) * i / r))", "total += float(np.sum(np.exp(log_w) / r))",
             ("tests/stats/test_resampling.py", "tests/stats/test_retrieval_designs.py")),
    Mutation("a perfect mAP takes the sampled p", "stats/core/resampling.py",
             "p = np.where(perfect, 1.0 / n_rankings(self.n_positives, self.n_candidates), p)", "p = p",
             ("tests/stats/test_resampling.py",)),
    Mutation("different= compares as same=", "stats/retrieval/engine.py",
             "out &= codes[a, j] != codes[b, j]", "out &= codes[a, j] == codes[b, j]",
             ("tests/stats/test_retrieval_designs.py",)),
    Mutation("control values compared without stripping blanks", "common/matching.py",
             'text = column.astype("string").str.strip()', 'text = column.astype("string")',
             ("tests/test_one_home.py", "tests/common")),
    Mutation("lasso_cv scored by the mean of folds", "stats/prediction/predictability.py",
             'fold_score = fold_score or ("median" if model in PAPER_MODELS else "mean")',
             'fold_score = fold_score or "mean"',
             ("tests/stats/test_predictability.py",)),
    Mutation("the paper's null refits the scored model", "stats/prediction/predictability.py",
             "if shuffled_model in (None, fitter.model):", "if True:",
             ("tests/stats/test_predictability.py",)),
)


def _copy(target: Path) -> Path:
    repo = target / "repo"
    repo.mkdir(parents=True)
    for item in ("rosetta_stats", "tests", "pyproject.toml", "README.md", "vignettes", "benchmarks"):
        source = REPO / item
        if source.is_dir():
            shutil.copytree(source, repo / item, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, repo / item)
    shared = REPO.parent / "shared"
    if shared.exists():
        os.symlink(shared, target / "shared")
    return repo


def run(mutation: Mutation, python: str, mutate: bool = True) -> tuple[bool, float, str]:
    """(killed, seconds, the test that failed) for one mutation (``mutate=False``: the unchanged copy)."""
    with tempfile.TemporaryDirectory(prefix="rosetta-mutant-") as tmp:
        repo = _copy(Path(tmp))
        path = repo / "rosetta_stats" / mutation.path
        text = path.read_text()
        if text.count(mutation.old) != 1:
            raise SystemExit(f"mutation {mutation.name!r}: its line is not in {mutation.path} exactly once; "
                             "update tools/mutate.py")
        if mutate:
            path.write_text(text.replace(mutation.old, mutation.new))
        env = {**os.environ, "PYTHONPATH": str(repo), "PYTHONDONTWRITEBYTECODE": "1"}
        start = time.perf_counter()
        done = subprocess.run([python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not slow",
                               *mutation.tests], cwd=repo, env=env, capture_output=True, text=True)
        failed = [line.split(" ")[1] for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        if done.returncode not in (0, 1):  # 2+: the tests could not even run (collection, import, usage)
            raise SystemExit(f"{mutation.name}: pytest exited {done.returncode}:\n{done.stdout[-2000:]}")
        return done.returncode != 0, time.perf_counter() - start, (failed or [""])[0]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="run the mutations whose name contains one of these words")
    parser.add_argument("--list", action="store_true", help="list the mutations and stop")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.only or any(w in m.name for w in args.only)]
    if args.list:
        print("\n".join(m.name for m in chosen))
        return 0
    alive, _, failed = run(chosen[0], sys.executable, mutate=False)  # the copy itself must pass
    if alive:
        raise SystemExit(f"the unmutated copy fails {failed}: fix the suite before counting mutations")
    killed = 0
    for mutation in chosen:
        dead, seconds, failed = run(mutation, sys.executable)
        killed += dead
        print(f"{'killed  ' if dead else 'SURVIVED'} {seconds:6.1f} s  {mutation.name}"
              + (f"  ({failed})" if dead else ""), flush=True)
    print(f"kill rate: {killed} of {len(chosen)} mutations ({100 * killed / max(len(chosen), 1):.0f}%)")
    return 0 if killed == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
