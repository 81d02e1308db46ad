"""Reference values from cytominer called directly in a plain Rscript.

Tests use this to check the Python wrappers against cytominer itself, with
no rpy2 and no rosettabridge in between.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pandas as pd


def run_cytominer_script(body: str, inputs: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Run R code that reads ``inputs`` (as data frames of the same names) and
    assigns the data frame ``result``; return ``result`` as a DataFrame."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        reads = []
        for name, frame in (inputs or {}).items():
            path = tmp / f"{name}.csv"
            frame.to_csv(path, index=False, float_format="%.17g")
            reads.append(
                f'{name} <- utils::read.csv("{path}", check.names = FALSE, '
                f"stringsAsFactors = FALSE)"
            )
        out = tmp / "result.csv"
        script = "\n".join(
            [
                "suppressPackageStartupMessages({library(cytominer); library(dplyr)})",
                "futile.logger::flog.threshold(futile.logger::WARN)",
                *reads,
                textwrap.dedent(body),
                "result <- as.data.frame(dplyr::collect(result), check.names = FALSE)",
                "result[] <- lapply(result, function(x) if (is.numeric(x)) sprintf('%.17g', x) else x)",
                f'utils::write.csv(result, "{out}", row.names = FALSE)',
            ]
        )
        (tmp / "script.R").write_text(script)
        run = subprocess.run(
            ["Rscript", str(tmp / "script.R")], capture_output=True, text=True,
            env={**os.environ, "TZ": "UTC"},
        )
        if run.returncode != 0:
            raise RuntimeError(f"Rscript failed:\n{run.stderr}")
        return pd.read_csv(out)
