"""Command-line front end: parses arguments, calls the API, writes results folders, prints a summary.

No statistics live here; every subcommand maps onto public functions. Every
error the user can cause ends in one line naming the file, column or argument
and exit status 2 (``--debug`` shows the traceback instead); results go into
folders under the rules of :mod:`rosetta_stats.results.output_folder`.
"""
from __future__ import annotations

import argparse
import re
import sys
import warnings
import zlib

from ..version import __version__

from .analysis_commands import add_analysis_commands
from .arguments import control_rule, fraction, integer
from .commands import (  # the commands
    cmd_aggregate,
    cmd_correlate,
    cmd_datasets_download,
    cmd_datasets_info,
    cmd_datasets_list,
    cmd_moa,
    cmd_normalize,
    cmd_predict_genes,
    cmd_profile,
    cmd_replicates,
    cmd_report,
    cmd_retrieval,
    cmd_cross_modal,
    cmd_select,
)

EXIT_ERROR = 2

# API argument -> command-line flag, so that messages written for the API read as flags here
FLAGS = {"overwrite": "--overwrite", "include_controls": "--include-controls", "n_splits": "--splits",
         "n_permutations": "--permutations", "n_null": "--n-null", "n_components": "--components",
         "n_pcs": "--pcs", "min_cells": "--min-cells", "seed": "--seed", "preset": "--preset"}
_API_ARGUMENT = re.compile(r"\b(" + "|".join(FLAGS) + r")=([\w.\-']+)")


def as_flags(text: str) -> str:
    """``n_splits=12`` -> ``--splits 12``, ``overwrite=True`` -> ``--overwrite``, ``x=False`` -> ``no --x``."""
    def flag(match: re.Match) -> str:
        name, value = FLAGS[match.group(1)], match.group(2).strip("'")
        return name if value == "True" else f"no {name}" if value == "False" else f"{name} {value}"
    return _API_ARGUMENT.sub(flag, text)


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in str(text).strip().splitlines())


def _warnings_as_lines(label: str, quiet: bool) -> None:
    """Warnings print as one line each (no source line), with flags for API names; --quiet silences them."""
    if quiet:
        warnings.simplefilter("ignore")
        return

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"{label}: warning: {as_flags(_one_line(message))}", file=sys.stderr)
    warnings.showwarning = show

# ----------------------------------------------------------------------------- the parser

class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and still exit status 2)."""

    def error(self, message: str):
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_global_options(p: argparse.ArgumentParser, top: bool = False) -> None:
    """--quiet and --debug, accepted before or after the subcommand."""
    default = False if top else argparse.SUPPRESS
    p.add_argument("--quiet", action="store_true", default=default, help="no progress bars, no warnings")
    p.add_argument("--debug", action="store_true", default=default, help="show the traceback of an error")


def _add_out(p: argparse.ArgumentParser, default: str | None = None, what: str = "output folder") -> None:
    p.add_argument("--out", required=default is None, default=default, help=what)
    p.add_argument("--overwrite", action="store_true",
                   help="replace results this package wrote before in --out (never anyone else's files)")


def _add_reading(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-clean", action="store_true",
                   help="read the files as they are (no inf -> NaN, no sparse/flat feature drops, no interpolation)")


PRESET_NAMES = ("default", "paper", "way2022")


def _add_dataset_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", help="a Rosetta dataset (cdrp, cdrp-bio, luad, taorf, lincs): keys, controls "
                                     "and plates come from the registry")
    p.add_argument("--root", default=".", help="download root of --dataset (see `datasets download`)")
    p.add_argument("--release", default="csv", choices=["csv", "curated"], help="which release of --dataset")
    p.add_argument("--level", help="Cell Painting level of --dataset (augmented, normalized, "
                                   "normalized_variable_selected)")


def _add_profile_input(p: argparse.ArgumentParser, what: str, features: str | None = "auto") -> None:
    """One profile table in: a file (``what`` it holds) or --dataset, its perturbation column, its features."""
    p.add_argument("input", nargs="?", help=what)
    p.add_argument("--perturbation", help="column naming the perturbation (with --dataset: the registry's)")
    _add_dataset_arguments(p)
    p.add_argument("--features", default=features, help="'auto' or comma-separated prefixes")
    p.add_argument("--modality", default="auto", choices=["auto", "cp", "ge"], help="which feature columns 'auto' takes")


def _add_pair_arguments(p: argparse.ArgumentParser, out: str | None = None) -> None:
    _add_dataset_arguments(p)
    p.add_argument("--cp", help="Cell Painting profiles (replicate level, CSV)")
    p.add_argument("--ge", help="L1000 profiles (replicate level, CSV)")
    p.add_argument("--key", help="perturbation column present in both files")
    p.add_argument("--cp-key", help="perturbation column of the CP file (default --key)")
    p.add_argument("--ge-key", help="perturbation column of the GE file (default --key)")
    p.add_argument("--cp-control", type=control_rule, help="COLUMN=VALUE[,VALUE]: CP negative controls (left out)")
    p.add_argument("--ge-control", type=control_rule, help="COLUMN=VALUE[,VALUE]: GE negative controls (left out)")
    p.add_argument("--permutations", type=integer(0, "--permutations"), default=None,
                   help="permutations of the null (0: no p-values; default 100, or the preset's)")
    p.add_argument("--seed", type=integer(0, "--seed"), default=0, help="seed of every random step")
    p.add_argument("--preset", choices=PRESET_NAMES, default=None,
                   help="paper: the choices of Haghighi et al. 2022 (see the report for every difference)")
    _add_reading(p)
    _add_out(p, out)


def _add_population_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", help="CSV (or .csv.gz) of profiles")
    p.add_argument("--sqlite", help="SQLite file (processed in the database)")
    p.add_argument("--postgres", help="PostgreSQL DSN, postgresql://user@host:port/dbname (processed in the server)")
    p.add_argument("--table", help="table in --sqlite or --postgres")
    p.add_argument("--features", default="auto",
                   help="'auto' (the --modality's columns) or comma-separated prefixes")
    p.add_argument("--modality", default="auto", choices=["auto", "cp", "ge"],
                   help="which columns 'auto' takes: Cells_/Cytoplasm_/Nuclei_ (cp) or *_at (ge)")
    _add_reading(p)
    _add_out(p, what="a .csv/.csv.gz file, or a folder (CSV + RDS + manifest, with parameters and dropped features)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rosetta-stats", formatter_class=_Formatter,
        description="Statistics for paired Cell Painting and L1000 profiles (Rosetta).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name, **kwargs):
        p = sub.add_parser(name, formatter_class=_Formatter, **kwargs)
        _add_global_options(p)
        return p

    p = command("aggregate", help="aggregate rows within strata with cytominer")
    _add_population_arguments(p)
    p.add_argument("--strata", required=True, help="comma-separated grouping columns")
    p.add_argument("--operation", default="mean", help="mean, median, min, max, sd, or joined by +")
    p.set_defaults(run=cmd_aggregate)

    p = command("normalize", help="normalise to control rows per stratum with cytominer")
    _add_population_arguments(p)
    p.add_argument("--strata", required=True, help="comma-separated normalisation groups (e.g. plate)")
    p.add_argument("--control", required=True, type=control_rule, help="COLUMN=VALUE[,VALUE] selecting the control rows")
    p.add_argument("--operation", default="standardize", choices=["standardize", "robustize"],
                   help="z-score (mean, sd) or robust z-score (median, MAD) against the controls")
    p.add_argument("--on-low-dispersion", default="drop", choices=["drop", "error", "keep"],
                   help="what to do with features whose control dispersion is ~0")
    p.set_defaults(run=cmd_normalize)

    p = command("select-features", help="drop uninformative features with cytominer")
    _add_population_arguments(p)
    p.add_argument("--operation", default="variance_threshold",
                   choices=["variance_threshold", "correlation_threshold", "drop_na_columns"])
    p.add_argument("--cutoff", type=float, default=None, help="the operation's threshold (cytominer's default if unset)")
    p.set_defaults(run=cmd_select)

    p = command("replicates", help="replicate reproducibility (paper statistic, p/q-values, mAP)")
    _add_profile_input(p, "replicate-level CSV (or .csv.gz), one row per well")
    p.add_argument("--plate", help="standardise features within this plate column first")
    p.add_argument("--null", default=None, choices=["paper", "size_matched"],
                   help="paper: the threshold only; size_matched: also p- and q-values (default: the preset's)")
    p.add_argument("--n-null", type=integer(1, "--n-null"), default=1000, help="null draws per replicate count")
    p.add_argument("--percentile", type=fraction, default=90, help="null percentile used as the threshold")
    p.add_argument("--seed", type=integer(0, "--seed"), default=0, help="seed of every random step")
    p.add_argument("--map", action="store_true", help="also mean average precision")
    p.add_argument("--control", type=control_rule,
                   help="COLUMN=VALUE[,VALUE]: negative controls (left out of the statistics, the negatives of "
                        "--map; with --dataset, instead of the registry's rules)")
    p.add_argument("--include-controls", action="store_const", const=True, default=None,
                   help="score the negative controls too")
    p.add_argument("--preset", choices=PRESET_NAMES, default=None,
                   help="paper: threshold only, controls scored, as Haghighi et al. 2022")
    _add_reading(p)
    _add_out(p)
    p.set_defaults(run=cmd_replicates)

    p = command("retrieval", help="mAP: activity, distinctiveness, consistency, or declared positives/negatives")
    _add_profile_input(p, "profiles (CSV, .csv.gz or parquet), one row per well")
    p.add_argument("--control", type=control_rule, help="COLUMN=VALUE[,VALUE]: negative controls")
    p.add_argument("--kind", default="activity", choices=["activity", "distinctiveness", "consistency", "declared"],
                   help="activity: against the controls; distinctiveness: against other perturbations; "
                        "consistency: treatment profiles sharing --label; declared: the --pos/--neg rules")
    p.add_argument("--label", default="Metadata_moa", help="consistency: the annotation column (a|b for several)")
    p.add_argument("--plate-column", help="plate column for the plate-aware options")
    p.add_argument("--same-plate", action="store_true", help="activity: rank only controls of the query's plate")
    p.add_argument("--other-plates", action="store_true",
                   help="activity: only replicates on other plates are positives; distinctiveness: only "
                        "other plates' wells are negatives")
    p.add_argument("--pos-same", help="declared: comma-separated columns positives share")
    p.add_argument("--pos-different", help="declared: columns positives differ in")
    p.add_argument("--negatives", default="rule", choices=["negcon", "others", "rule"],
                   help="declared: the controls, every other perturbation, or the --neg rule")
    p.add_argument("--neg-same", help="declared: columns negatives share with the query")
    p.add_argument("--neg-different", help="declared: columns negatives differ in")
    p.add_argument("--similarity", default="pearson", choices=["pearson", "cosine", "spearman"])
    p.add_argument("--p-value", default="auto", choices=["auto", "exact", "sampled"],
                   help="exact: enumerate every ranking; auto: when they are no more than --n-null")
    p.add_argument("--hierarchical-by", help="column of families (the compound of a dose): two-stage FDR")
    p.add_argument("--k", default="", help="comma-separated k for precision@k and recall@k")
    p.add_argument("--n-null", type=integer(1, "--n-null"), default=1000, help="random rankings per configuration")
    p.add_argument("--seed", type=integer(0, "--seed"), default=0, help="seed of every random step")
    _add_reading(p)
    _add_out(p)
    p.set_defaults(run=cmd_retrieval)

    p = command("cross-modal", help="does a CP profile find its own L1000 profile (and back) in a learned space?")
    _add_pair_arguments(p)
    p.add_argument("--space", default="cca", choices=["cca", "pls", "ridge"], help="the shared space")
    p.add_argument("--components", type=integer(1, "--components"), default=10, help="dimensions of the space")
    p.add_argument("--pcs", type=integer(1, "--pcs"), default=50, help="principal components per side (cca)")
    p.add_argument("--splits", type=integer(2, "--splits"), default=5, help="folds (grouped)")
    p.add_argument("--direction", default="both", choices=["cp_to_ge", "ge_to_cp", "both"])
    p.add_argument("--groups", help="CP column whose values folds keep together (default: compound when present)")
    p.set_defaults(run=cmd_cross_modal)

    p = command("predict-genes", help="single-gene predictability from morphology")
    _add_pair_arguments(p)
    p.add_argument("--model", default=None, choices=["ridge", "lasso", "lasso_cv", "mlp_grid", "pcr", "mlp"],
                   help="the regression model (default ridge, or the preset's; lasso_cv, mlp_grid: the paper's)")
    p.add_argument("--splits", type=integer(2, "--splits"), default=None,
                   help="cross-validation folds (default: the dataset's paper value with --dataset, else 5)")
    p.add_argument("--fold-score", choices=["mean", "median"], default=None,
                   help="how fold R^2 make a gene's score (default: median for lasso_cv, else mean)")
    p.add_argument("--groups", help="CP column whose values folds and permutations keep together (e.g. compound)")
    p.add_argument("--reverse", action="store_true", help="predict each CP feature from the genes")
    p.set_defaults(run=cmd_predict_genes)

    p = command("correlate", help="feature x gene correlation, held-out CCA, Mantel test")
    _add_pair_arguments(p)
    p.add_argument("--top-k", type=integer(1, "--top-k"), default=10, help="strongest features kept per gene")
    p.add_argument("--components", type=integer(1, "--components"), default=5, help="canonical components")
    p.add_argument("--pcs", type=integer(1, "--pcs"), default=20, help="principal components per modality")
    p.add_argument("--groups", help="CP column whose values permutations keep together (e.g. compound)")
    p.set_defaults(run=cmd_correlate)

    p = command("profile", help="CellProfiler plate database(s) -> augmented, normalized, variable-selected")
    p.add_argument("--sqlite", nargs="+", help="CellProfiler SQLite file(s), one per plate")
    p.add_argument("--platemap", help="platemap CSV (or tab-separated) with a well column")
    p.add_argument("--strata", default="Metadata_Plate,Metadata_Well", help="plate column, well column")
    p.add_argument("--operation", default="median", help="aggregation of the cells of a well")
    p.add_argument("--control", type=control_rule, help="COLUMN=VALUE[,VALUE]: the control wells (default: every well)")
    p.add_argument("--normalization", default="robustize", choices=["robustize", "standardize"],
                   help="normalisation to the controls of each plate")
    p.add_argument("--selection", default="variance_threshold,correlation_threshold",
                   help="variable selection steps, in order")
    p.add_argument("--min-cells", type=integer(1, "--min-cells"), default=None,
                   help="drop wells with fewer cells (counted in the database)")
    p.add_argument("--spherize", choices=["ZCA", "ZCA-cor", "PCA"], default=None,
                   help="add a level sphered against the controls (Way et al.; JUMP)")
    _add_out(p)
    p.set_defaults(run=cmd_profile)

    p = command("moa", help="MoA prediction from CP, GE, early and late fusion (macro F1 per fold)")
    _add_pair_arguments(p)
    p.add_argument("--moa", default="Metadata_moa", help="the MoA column (CP side, else GE side)")
    p.add_argument("--groups", default="compound", help="the compound column: folds keep its doses together")
    p.add_argument("--models", default="logistic,mlp", help="comma-separated: logistic, mlp")
    p.add_argument("--splits", type=integer(2, "--splits"), default=5, help="StratifiedGroupKFold folds")
    p.add_argument("--min-compounds", type=integer(2, "--min-compounds"), default=5,
                   help="MoAs with fewer compounds are dropped")
    p.add_argument("--modality", default="cp,ge,early_fusion,late_fusion",
                   help="comma-separated: cp, ge, early_fusion, late_fusion (cp alone needs no --ge)")
    p.set_defaults(run=cmd_moa)

    add_analysis_commands(command, _add_pair_arguments, _add_profile_input, _add_out, _add_reading,
                          control_rule)

    p = command("datasets", help="the Rosetta collection: list, describe and download files")
    datasets = p.add_subparsers(dest="datasets_command", required=True, parser_class=_Parser)
    q = datasets.add_parser("list", help="files with sizes and ETags", formatter_class=_Formatter)
    _add_global_options(q)
    q.add_argument("--dataset", help="cdrp, cdrp-bio, luad, taorf or lincs (default: all)")
    q.add_argument("--release", default="csv", choices=["csv", "curated"], help="which release")
    q.set_defaults(run=cmd_datasets_list)
    q = datasets.add_parser("info", help="a dataset's columns, controls, doses and time points in both releases",
                            formatter_class=_Formatter)
    _add_global_options(q)
    q.add_argument("dataset", help="cdrp, cdrp-bio, luad, taorf or lincs")
    q.set_defaults(run=cmd_datasets_info)
    q = datasets.add_parser("download", help="verified, resumable download", formatter_class=_Formatter)
    _add_global_options(q)
    q.add_argument("dataset", help="cdrp, cdrp-bio, luad, taorf or lincs")
    q.add_argument("--files", help="comma-separated short names (see `datasets list`); default all")
    q.add_argument("--dest", default=".", help="download root (the bucket's folder layout below it)")
    q.add_argument("--base-url", help="a mirror or local server instead of the public bucket")
    q.add_argument("--release", default="csv", choices=["csv", "curated"],
                   help="csv (the paper's files) or curated (the 2025 parquet files)")
    q.set_defaults(run=cmd_datasets_download)

    p = command("report", help="the whole analysis as a folder of tables, figures and report.md")
    p.add_argument("--demo", action="store_true", help="on simulated data (seconds)")
    _add_pair_arguments(p, out="rosetta_report")
    p.add_argument("--client", metavar="ADDRESS",
                   help="run the nulls and permutations on a dask.distributed scheduler (tcp://host:8786), or "
                        "'local' for one worker per core of this machine; the numbers are the same")
    p.set_defaults(run=cmd_report)
    return parser


def _expected_errors():
    import gzip

    from ..common.errors import RosettaError

    return (RosettaError, ValueError, OSError, EOFError, zlib.error, gzip.BadGzipFile, UnicodeError, KeyError,
            MemoryError)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a one-line usage error (exit 2)
        return int(exc.code or 0)
    label = f"rosetta-stats {args.command}"
    try:
        with warnings.catch_warnings():  # the caller's warning settings come back afterwards
            if not args.debug:
                _warnings_as_lines(label, args.quiet)
            message = args.run(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"{label}: interrupted; nothing half-written was left in place", file=sys.stderr)
        return EXIT_ERROR
    except _expected_errors() as exc:
        if args.debug:
            raise
        text = as_flags(_one_line(exc)) or type(exc).__name__
        if isinstance(exc, KeyError):
            text = f"missing entry {text}"
        print(f"{label}: error: {text}", file=sys.stderr)
        return EXIT_ERROR
    print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
