"""Loading a CDRP-shaped Cell Painting CSV.gz: read_profiles vs R's data.table::fread, and the cache.

A synthetic file (default 50,000 rows x 1,565 features plus metadata, with
some NaN, +-inf and a constant feature) is written by R's data.table. Then,
each in a fresh process: fread alone (all cores); ``read_profiles(...,
dtype="float32")`` with the paper's cleaning; and a second load from the
cache ``cache=True`` keeps beside the file. Targets: load + clean within 2x
fread, peak memory within 2x the float32 feature matrix, the cached load
>= 5x faster than the first. Times are also extrapolated to a full CDRP file
(153,386 rows).

    .venv/bin/python benchmarks/bench_loading.py [--rows 50000]
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from harness import absolute_target, child, measure, target

FEATURES = 1565
CDRP_ROWS = 153_386

WRITE = r"""
library(data.table)
set.seed(0)
rows <- {rows}; nf <- {features}
names <- paste0(rep(c("Cells_", "Cytoplasm_", "Nuclei_"), length.out = nf), "Feature_", seq_len(nf))
m <- matrix(rnorm(rows * nf), rows, nf)
m[sample(length(m), length(m) %/% 2000)] <- NA
m[sample(length(m), 50)] <- Inf
m[, 7] <- 1
dt <- as.data.table(m); setnames(dt, names)
i <- seq_len(rows) - 1
dt[, Metadata_Plate := sprintf("SQ%05d", i %/% 384)]
dt[, Metadata_Well := sprintf("r%02dc%02d", (i %% 384) %/% 24, i %% 24)]
dt[, Metadata_broad_sample := ifelse(i %% 16 == 0, "DMSO", sprintf("BRD-K%08d-001-01-1", sample(20000, rows, TRUE)))]
dt[, Metadata_mmoles_per_liter := ifelse(Metadata_broad_sample == "DMSO", 0, 10)]
setcolorder(dt, c("Metadata_Plate", "Metadata_Well", "Metadata_broad_sample", "Metadata_mmoles_per_liter"))
fwrite(dt, "{path}", compress = "gzip")
"""

FREAD = r"""
library(data.table)
elapsed <- system.time(d <- fread(cmd = paste("gzip -dc", shQuote("{path}")), nThread = parallel::detectCores(),
                                  showProgress = FALSE))[["elapsed"]]
cat(elapsed, "\n")
"""


def _load(path, cache):
    import rosetta_stats as rs

    def run(_):
        profiles = rs.read_profiles(path, "cp", perturbation="Metadata_broad_sample", plate="Metadata_Plate",
                                    dtype="float32", cache=cache == "cache")
        return len(profiles.features)
    return (lambda: None), run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cdrp_like.csv.gz"
        subprocess.run(["Rscript", "-e", WRITE.format(rows=args.rows, features=FEATURES, path=path)], check=True)
        size = path.stat().st_size / 1e6
        fread = subprocess.run(["Rscript", "-e", FREAD.format(path=path)], capture_output=True, text=True, check=True)
        fread_seconds = float(fread.stdout.split()[-1])
        first = measure(__file__, "load", path, "plain")
        measure(__file__, "load", path, "cache")  # writes the cache
        cached = measure(__file__, "load", path, "cache")
        matrix_gb = args.rows * FEATURES * 4 / 1e9
        scale = CDRP_ROWS / args.rows
        print(f"{args.rows:,} rows x {FEATURES} features, {size:.0f} MB gzip; float32 matrix {matrix_gb:.2f} GB")
        print(f"fread alone {fread_seconds:.1f} s; read_profiles + cleaning {first['seconds']:.1f} s "
              f"(peak {first['peak_gb']:.2f} GB); from the cache {cached['seconds']:.1f} s")
        print(f"extrapolated to a CDRP file ({CDRP_ROWS:,} rows): fread {fread_seconds * scale:.0f} s, "
              f"ours {first['seconds'] * scale:.0f} s (peak about {first['peak_gb'] * scale:.1f} GB), "
              f"cached {cached['seconds'] * scale:.0f} s")
        target("load + clean vs fread alone", first, {"seconds": fread_seconds, "peak_gb": float("nan")}, most=2)
        absolute_target("load peak memory vs float32 matrix", first["peak_gb"] / matrix_gb, 2, unit="x")
        target("second load from the cache vs first load", cached, first, most=1 / 5)


if __name__ == "__main__":
    if not child({"load": _load}):
        main()
