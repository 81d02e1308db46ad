"""Command-line front end: parses arguments, calls the API, writes results folders, prints a summary.

No statistics live here; every subcommand maps onto public functions. Every
error the user can cause ends in one line naming the file, column or argument
and exit status 2 (``--debug`` shows the traceback instead); results go into
folders under the rules of :mod:`rosetta_stats.results.output_folder`.
"""
from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path

import pandas as pd

from .version import __version__

EXIT_ERROR = 2


# ----------------------------------------------------------------------------- argument types

def _integer(minimum: int, what: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number; got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be at least {minimum}; got {value}")
        return value
    return parse


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number; got {text!r}") from None
    if not 0 < value < 100:
        raise argparse.ArgumentTypeError(f"must lie between 0 and 100; got {value}")
    return value


def _split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _parse_control(text: str) -> dict[str, list[str]]:
    column, sep, values = (text or "").partition("=")
    if not sep or not column.strip() or not _split(values):
        raise ValueError(f"--control must look like COLUMN=VALUE[,VALUE]; got {text!r}")
    return {column.strip(): _split(values)}


def _control_spec(text: str | None):
    from .data.controls import ControlSpec

    if not text:
        return None
    ((column, values),) = _parse_control(text).items()
    return ControlSpec(column, tuple(values))


# ----------------------------------------------------------------------------- reading inputs

def read_table(path: str | Path, key_columns=()) -> pd.DataFrame:
    """A CSV (or .csv.gz) with named errors: missing, a folder, empty, truncated, not UTF-8, repeated columns."""
    from .data.read import _read_table

    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a CSV file")
    if not path.is_file():
        raise ValueError(f"input file not found: {path}")
    frame = _read_table(path, "auto")
    if frame.empty:
        raise ValueError(f"{path.name} has a header but no rows")
    for column in key_columns:
        if column and column in frame.columns:
            frame[column] = frame[column].map(lambda v: v if pd.isna(v) else _key_text(v))
    return frame


def _key_text(value) -> str:
    """A key as text: integers read as floats (a NaN elsewhere in the column) lose their '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_population(args):
    from .bridge.database_tables import PostgresTable, SQLiteTable

    if args.postgres:
        if not args.table:
            raise ValueError("--postgres needs --table")
        table = PostgresTable(args.table, dsn=args.postgres)
        return table, table.columns()
    if args.sqlite:
        if not args.table:
            raise ValueError("--sqlite needs --table")
        table = SQLiteTable(args.sqlite, args.table)
        return table, table.columns()
    if not args.input:
        raise ValueError("give --input CSV, --sqlite FILE --table NAME or --postgres DSN --table NAME")
    frame = read_table(args.input)
    return frame, list(frame.columns)


# ----------------------------------------------------------------------------- writing outputs

def _write_table_output(args, name: str, table: pd.DataFrame, extra: dict | None = None) -> str:
    """``--out x.csv``: that one CSV; any other ``--out``: a results folder with the table(s) and a manifest."""
    from .results.folders import write_results
    from .results.output_folder import write_file_output

    out = Path(args.out)
    if out.name.endswith((".csv", ".csv.gz")):
        compression = "gzip" if out.name.endswith(".gz") else None
        write_file_output(lambda tmp: table.to_csv(tmp, index=False, compression=compression), out,
                          overwrite=args.overwrite)
        return str(out)
    tables = {name: table, **{k: v for k, v in (extra or {}).items() if v is not None}}
    write_results(tables, out, inputs=[args.input] if getattr(args, "input", None) else (), overwrite=args.overwrite)
    return f"{out}/ ({', '.join(f'{k}.csv' for k in tables)}, RDS twins, manifest.json)"


def _summary_json(summary: dict) -> bytes:
    from .results.folders import json_safe

    return json.dumps(json_safe(summary), indent=2, allow_nan=False).encode()


# ----------------------------------------------------------------------------- commands

def _features(args, columns):
    from .data.features import parse_feature_spec

    return parse_feature_spec(args.features, columns, args.modality)


def _cmd_aggregate(args) -> str:
    from .bridge.cytominer import aggregate

    population, columns = _read_population(args)
    features = _features(args, columns)
    out = aggregate(population, features, _split(args.strata), args.operation)
    where = _write_table_output(args, "aggregated", out)
    return f"aggregated {len(features)} features into {len(out)} rows -> {where}"


def _cmd_normalize(args) -> str:
    from .bridge.cytominer import normalize

    population, columns = _read_population(args)
    features = _features(args, columns)
    out = normalize(population, features, _split(args.strata), _parse_control(args.control),
                    args.operation, on_low_dispersion=args.on_low_dispersion)
    dropped = out.attrs.get("dropped_features")
    parameters = out.attrs.get("normalization_parameters")
    where = _write_table_output(args, "normalized", out.copy(),
                                {"normalization_parameters": parameters, "dropped_features": dropped})
    n_dropped = 0 if dropped is None else len(dropped)
    return f"normalised {len(features) - n_dropped} features of {len(out)} rows ({n_dropped} dropped) -> {where}"


def _cmd_select(args) -> str:
    from .bridge.cytominer import select_features

    population, columns = _read_population(args)
    features = _features(args, columns)
    options = {"cutoff": args.cutoff} if args.cutoff is not None else {}
    out = select_features(population, features, operation=args.operation, **options)
    dropped = out.attrs.get("dropped_features")
    where = _write_table_output(args, "selected", out.copy(), {"dropped_features": dropped})
    n_dropped = 0 if dropped is None else len(dropped)
    return f"kept {len(features) - n_dropped} of {len(features)} features -> {where}"


def _load_dataset_profiles(args):
    from .data.read import load_profiles

    if args.modality not in ("cp", "ge"):
        raise ValueError("--dataset needs --modality cp or ge")
    return load_profiles(args.dataset, args.modality, args.level, root=args.root, release=args.release,
                         controls=_parse_control(args.control) if args.control else None)


def _cmd_replicates(args) -> str:
    from .results.folders import write_results
    from .stats.average_precision import mean_average_precision
    from .stats.replicates import replicate_reproducibility

    if args.dataset:
        profiles = _load_dataset_profiles(args)
        perturbation = args.perturbation or profiles.perturbation
        if args.features != "auto":
            from .data.features import parse_feature_spec
            profiles = profiles.with_data(profiles.data, features=parse_feature_spec(
                args.features, list(profiles.data.columns), profiles.modality))
        subject, source, inputs = profiles, f"{args.dataset} ({args.release} release, {profiles.modality})", ()
        controls = None
    else:
        if not args.input or not args.perturbation:
            raise ValueError("give an input file and --perturbation, or --dataset NAME --modality cp|ge --root DIR")
        frame = read_table(args.input, key_columns=[args.perturbation])
        from .data.profiles import Profiles
        from .data.controls import resolve_controls

        features = _features(args, list(frame.columns))
        subject = Profiles(frame, tuple(features), "ge" if args.modality == "ge" else "cp", args.perturbation)
        controls = _parse_control(args.control) if args.control else None
        if controls:
            rule, note = resolve_controls(frame, controls, label=Path(args.input).name, explicit=True)
            subject = subject.with_data(frame, note=note, control_rule=rule)
        perturbation, source, inputs = args.perturbation, str(args.input), [args.input]
    result = replicate_reproducibility(subject, perturbation, null=args.null, n_null=args.n_null,
                                       percentile=args.percentile, plate=args.plate, seed=args.seed,
                                       include_controls=args.include_controls, progress=not args.quiet,
                                       preset=args.preset)
    summary = result.summary_dict() | {"input": source, "n_features": len(subject.features)}
    results = {"replicate_reproducibility": result}
    lines = [result.summary()]
    if args.map:
        negatives = "negcon" if subject.controls.any() else "others"
        ap = mean_average_precision(subject, perturbation, negatives=negatives, n_null=args.n_null,
                                    seed=args.seed, progress=not args.quiet)
        results["mean_average_precision"] = ap
        summary["mean_average_precision"] = ap.summary_dict()
        lines.append(ap.summary())
    write_results(results, args.out, inputs=inputs, extra_files={"summary.json": _summary_json(summary)},
                  overwrite=args.overwrite, notes=subject.notes)
    return "\n".join(lines + [f"written to {args.out}"])


def _read_pair(args):
    from .data.pairing import load_paired, read_paired

    if args.dataset:
        return load_paired(args.dataset, args.root, release=args.release, level=args.level,
                           cp_controls=_control_spec(args.cp_control), ge_controls=_control_spec(args.ge_control),
                           preset=getattr(args, "preset", None))
    if not (args.cp and args.ge and (args.key or (args.cp_key and args.ge_key))):
        raise ValueError("give --dataset NAME --root DIR, or --cp, --ge and --key (or --cp-key and --ge-key)")
    return read_paired(args.cp, args.ge, args.cp_key or args.key, args.ge_key or args.key,
                       cp_controls=_control_spec(args.cp_control), ge_controls=_control_spec(args.ge_control))


def _pair_inputs(args) -> list:
    return [p for p in (args.cp, args.ge) if p] if not args.dataset else []


def _cmd_predict_genes(args) -> str:
    from .results.folders import write_results
    from .stats.predictability import feature_predictability, gene_predictability

    paired = _read_pair(args)
    run = feature_predictability if args.reverse else gene_predictability
    result = run(paired, model=args.model, n_splits=args.splits, groups=args.groups, fold_score=args.fold_score,
                 n_permutations=args.permutations, seed=args.seed, progress=not args.quiet,
                 preset=args.preset)
    name = "single_feature_predictability" if args.reverse else "single_gene_predictability"
    summary = result.summary_dict() | {"cp": str(args.cp or args.dataset), "ge": str(args.ge or args.dataset)}
    write_results({name: result}, args.out, inputs=_pair_inputs(args),
                  extra_files={"summary.json": _summary_json(summary)}, overwrite=args.overwrite,
                  notes=paired.notes)
    return paired.summary() + "\n" + result.summary() + f"\nwritten to {args.out}"


def _cmd_correlate(args) -> str:
    from .results.folders import write_results
    from .stats.correlation import canonical_correlation, feature_gene_correlation, similarity_concordance

    paired = _read_pair(args)
    table = feature_gene_correlation(paired, top_k=args.top_k, groups=args.groups)
    n_features, n_genes = len(paired.cp.features), len(paired.ge.features)
    if args.components > min(n_features, n_genes, args.pcs):
        raise ValueError(f"--components {args.components} exceeds what the data allow "
                         f"(min of {n_features} features, {n_genes} genes and --pcs {args.pcs})")
    cca = canonical_correlation(paired, n_components=args.components, n_pcs=args.pcs, groups=args.groups,
                                n_permutations=args.permutations, seed=args.seed, progress=not args.quiet)
    mantel = similarity_concordance(paired, n_permutations=max(args.permutations, 1), seed=args.seed,
                                    groups=args.groups, progress=not args.quiet)
    concordance = {"mantel": mantel.as_dict(), "canonical": cca.table.to_dict(orient="records")}
    write_results({"feature_gene_correlation": table, "canonical_correlation": cca}, args.out,
                  inputs=_pair_inputs(args), extra_files={"concordance.json": _summary_json(concordance)},
                  overwrite=args.overwrite, notes=paired.notes)
    return "\n".join([paired.summary(), mantel.summary(), cca.summary(), f"written to {args.out}"])


def _cmd_moa(args) -> str:
    from .report.figures import moa_f1_bars
    from .results.folders import write_results
    from .stats.moa_prediction import moa_prediction

    paired = _read_pair(args)
    result = moa_prediction(paired, moa=args.moa, groups=args.groups, models=tuple(_split(args.models)),
                            n_splits=args.splits, seed=args.seed, min_compounds=args.min_compounds,
                            progress=not args.quiet)
    write_results({"moa_prediction": result, "moa_per_class_f1": result.per_class,
                   "moa_comparisons": result.comparisons}, args.out, inputs=_pair_inputs(args),
                  extra_files={"moa_f1.png": moa_f1_bars(result.table)}, overwrite=args.overwrite,
                  notes=paired.notes)
    return paired.summary() + "\n" + result.summary() + f"\nwritten to {args.out}"


def _cmd_profile(args) -> str:
    from .bridge.plate_profiles import profile_plate
    from .results.folders import write_results

    if not args.sqlite:
        raise ValueError("give one or more CellProfiler SQLite files with --sqlite")
    result = profile_plate(args.sqlite, platemap=args.platemap, strata=_split(args.strata),
                           operation=args.operation, controls=_parse_control(args.control) if args.control else None,
                           normalization=args.normalization, selection=tuple(_split(args.selection)),
                           progress=not args.quiet)
    tables = {**result.levels(), "normalization_parameters": result.normalization_parameters,
              "dropped_features": result.dropped_features}
    write_results(tables, args.out, inputs=args.sqlite + ([args.platemap] if args.platemap else []),
                  overwrite=args.overwrite, notes=result.notes)
    return result.summary() + f"\nwritten to {args.out}"


def _cmd_datasets_list(args) -> str:
    from .data.registry import LISTING_DATE, human_size, list_files

    table = list_files(args.dataset, release=args.release)
    shown = table[["dataset", "modality", "file", "human_size", "etag"]].rename(columns={"human_size": "size"})
    if args.release == "curated":
        return shown.to_string(index=False) + f"\n{len(table)} files (sizes and ETags not published)"
    total = human_size(int(table["size"].sum()))
    return (shown.to_string(index=False) + f"\n{len(table)} files, {total} in all (sizes and ETags as listed "
            f"on {LISTING_DATE}; the files were rewritten since, downloads check the bucket's current ETags)")


def _cmd_datasets_info(args) -> str:
    from .data.registry import get_dataset

    return get_dataset(args.dataset).describe()


def _cmd_datasets_download(args) -> str:
    from .data.download import download_dataset
    from .data.registry import BUCKET_URL

    paths = download_dataset(args.dataset, _split(args.files) or None, dest=args.dest,
                             base_url=args.base_url or BUCKET_URL, progress=not args.quiet, release=args.release)
    return "\n".join(f"verified {p}" for p in paths)


def _cmd_report(args) -> str:
    from .report.build import dataset_report, demo_report, file_report

    common = {"overwrite": args.overwrite}
    if args.demo:
        report = demo_report(args.out, seed=args.seed, progress=not args.quiet, **common)
    elif args.dataset:
        report = dataset_report(args.dataset, args.root, args.out, release=args.release, level=args.level,
                                preset=args.preset, cp_controls=_control_spec(args.cp_control),
                                ge_controls=_control_spec(args.ge_control), n_permutations=args.permutations,
                                seed=args.seed, progress=not args.quiet, **common)
    else:
        if not (args.cp and args.ge and (args.key or (args.cp_key and args.ge_key))):
            raise ValueError("give --demo, --dataset NAME --root DIR, or --cp, --ge and --key "
                             "(or --cp-key and --ge-key)")
        report = file_report(args.cp, args.ge, args.cp_key or args.key, args.ge_key or args.key, args.out,
                             cp_controls=_control_spec(args.cp_control),
                             ge_controls=_control_spec(args.ge_control), n_permutations=args.permutations,
                             seed=args.seed, progress=not args.quiet, **common)
    return f"report written to {report.out_dir}/report.md"


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
    p.add_argument("--quiet", action="store_true", default=default, help="no progress bars")
    p.add_argument("--debug", action="store_true", default=default, help="show the traceback of an error")


def _add_out(p: argparse.ArgumentParser, default: str | None = None, what: str = "output folder") -> None:
    p.add_argument("--out", required=default is None, default=default, help=what)
    p.add_argument("--overwrite", action="store_true",
                   help="replace results this package wrote before in --out (never anyone else's files)")


def _add_dataset_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", help="a Rosetta dataset (cdrp, cdrp-bio, luad, taorf, lincs): keys, controls "
                                     "and plates come from the registry")
    p.add_argument("--root", default=".", help="download root of --dataset (see `datasets download`)")
    p.add_argument("--release", default="csv", choices=["csv", "curated"], help="which release of --dataset")
    p.add_argument("--level", help="Cell Painting level of --dataset (augmented, normalized, "
                                   "normalized_variable_selected)")


def _add_pair_arguments(p: argparse.ArgumentParser, out: str | None = None) -> None:
    _add_dataset_arguments(p)
    p.add_argument("--cp", help="Cell Painting profiles (replicate level, CSV)")
    p.add_argument("--ge", help="L1000 profiles (replicate level, CSV)")
    p.add_argument("--key", help="perturbation column present in both files")
    p.add_argument("--cp-key", help="perturbation column of the CP file (default --key)")
    p.add_argument("--ge-key", help="perturbation column of the GE file (default --key)")
    p.add_argument("--cp-control", help="COLUMN=VALUE[,VALUE]: CP negative controls (left out)")
    p.add_argument("--ge-control", help="COLUMN=VALUE[,VALUE]: GE negative controls (left out)")
    p.add_argument("--permutations", type=_integer(0, "--permutations"), default=100,
                   help="permutations of the null (0: no p-values)")
    p.add_argument("--seed", type=_integer(0, "--seed"), default=0, help="seed of every random step")
    p.add_argument("--preset", choices=["default", "paper"], default="default",
                   help="paper: the choices of Haghighi et al. 2022 (see the report for every difference)")
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
    p.set_defaults(run=_cmd_aggregate)

    p = command("normalize", help="normalise to control rows per stratum with cytominer")
    _add_population_arguments(p)
    p.add_argument("--strata", required=True, help="comma-separated normalisation groups (e.g. plate)")
    p.add_argument("--control", required=True, help="COLUMN=VALUE[,VALUE] selecting the control rows")
    p.add_argument("--operation", default="standardize", choices=["standardize", "robustize"],
                   help="z-score (mean, sd) or robust z-score (median, MAD) against the controls")
    p.add_argument("--on-low-dispersion", default="drop", choices=["drop", "error", "keep"],
                   help="what to do with features whose control dispersion is ~0")
    p.set_defaults(run=_cmd_normalize)

    p = command("select-features", help="drop uninformative features with cytominer")
    _add_population_arguments(p)
    p.add_argument("--operation", default="variance_threshold",
                   choices=["variance_threshold", "correlation_threshold", "drop_na_columns"])
    p.add_argument("--cutoff", type=float, default=None, help="the operation's threshold (cytominer's default if unset)")
    p.set_defaults(run=_cmd_select)

    p = command("replicates", help="replicate reproducibility (paper statistic, p/q-values, mAP)")
    p.add_argument("input", nargs="?", help="replicate-level CSV (or .csv.gz), one row per well")
    p.add_argument("--perturbation", help="column naming the perturbation (with --dataset: the registry's)")
    _add_dataset_arguments(p)
    p.add_argument("--features", default="auto", help="'auto' or comma-separated prefixes")
    p.add_argument("--modality", default="auto", choices=["auto", "cp", "ge"], help="which feature columns 'auto' takes")
    p.add_argument("--plate", help="standardise features within this plate column first")
    p.add_argument("--null", default="size_matched", choices=["paper", "size_matched"],
                   help="paper: the threshold only; size_matched: also p- and q-values")
    p.add_argument("--n-null", type=_integer(1, "--n-null"), default=1000, help="null draws per replicate count")
    p.add_argument("--percentile", type=_fraction, default=90, help="null percentile used as the threshold")
    p.add_argument("--seed", type=_integer(0, "--seed"), default=0, help="seed of every random step")
    p.add_argument("--map", action="store_true", help="also mean average precision")
    p.add_argument("--control", help="COLUMN=VALUE[,VALUE]: negative controls (left out of the statistics, "
                                     "the negatives of --map; with --dataset, instead of the registry's rules)")
    p.add_argument("--include-controls", action="store_true", help="score the negative controls too")
    p.add_argument("--preset", choices=["default", "paper"], default="default",
                   help="paper: threshold only, controls scored, as Haghighi et al. 2022")
    _add_out(p)
    p.set_defaults(run=_cmd_replicates)

    p = command("predict-genes", help="single-gene predictability from morphology")
    _add_pair_arguments(p)
    p.add_argument("--model", default="ridge", choices=["ridge", "lasso", "lasso_cv", "mlp_grid", "pcr", "mlp"],
                   help="the regression model (lasso_cv, mlp_grid: the paper's)")
    p.add_argument("--splits", type=_integer(2, "--splits"), default=None,
                   help="cross-validation folds (default: the dataset's paper value with --dataset, else 5)")
    p.add_argument("--fold-score", choices=["mean", "median"], default=None,
                   help="how fold R^2 make a gene's score (default: median for lasso_cv, else mean)")
    p.add_argument("--groups", help="CP column whose values folds and permutations keep together (e.g. compound)")
    p.add_argument("--reverse", action="store_true", help="predict each CP feature from the genes")
    p.set_defaults(run=_cmd_predict_genes)

    p = command("correlate", help="feature x gene correlation, held-out CCA, Mantel test")
    _add_pair_arguments(p)
    p.add_argument("--top-k", type=_integer(1, "--top-k"), default=10, help="strongest features kept per gene")
    p.add_argument("--components", type=_integer(1, "--components"), default=5, help="canonical components")
    p.add_argument("--pcs", type=_integer(1, "--pcs"), default=20, help="principal components per modality")
    p.add_argument("--groups", help="CP column whose values permutations keep together (e.g. compound)")
    p.set_defaults(run=_cmd_correlate)

    p = command("profile", help="CellProfiler plate database(s) -> augmented, normalized, variable-selected")
    p.add_argument("--sqlite", nargs="+", help="CellProfiler SQLite file(s), one per plate")
    p.add_argument("--platemap", help="platemap CSV (or tab-separated) with a well column")
    p.add_argument("--strata", default="Metadata_Plate,Metadata_Well", help="plate column, well column")
    p.add_argument("--operation", default="median", help="aggregation of the cells of a well")
    p.add_argument("--control", help="COLUMN=VALUE[,VALUE]: the control wells (default: every well)")
    p.add_argument("--normalization", default="robustize", choices=["robustize", "standardize"],
                   help="normalisation to the controls of each plate")
    p.add_argument("--selection", default="variance_threshold,correlation_threshold",
                   help="variable selection steps, in order")
    _add_out(p)
    p.set_defaults(run=_cmd_profile)

    p = command("moa", help="MoA prediction from CP, GE, early and late fusion (macro F1 per fold)")
    _add_pair_arguments(p)
    p.add_argument("--moa", default="Metadata_moa", help="the MoA column (CP side, else GE side)")
    p.add_argument("--groups", default="compound", help="the compound column: folds keep its doses together")
    p.add_argument("--models", default="logistic,mlp", help="comma-separated: logistic, mlp")
    p.add_argument("--splits", type=_integer(2, "--splits"), default=5, help="StratifiedGroupKFold folds")
    p.add_argument("--min-compounds", type=_integer(2, "--min-compounds"), default=5,
                   help="MoAs with fewer compounds are dropped")
    p.set_defaults(run=_cmd_moa)

    p = command("datasets", help="the Rosetta collection: list, describe and download files")
    datasets = p.add_subparsers(dest="datasets_command", required=True, parser_class=_Parser)
    q = datasets.add_parser("list", help="files with sizes and ETags", formatter_class=_Formatter)
    _add_global_options(q)
    q.add_argument("--dataset", help="cdrp, cdrp-bio, luad, taorf or lincs (default: all)")
    q.add_argument("--release", default="csv", choices=["csv", "curated"], help="which release")
    q.set_defaults(run=_cmd_datasets_list)
    q = datasets.add_parser("info", help="a dataset's columns, controls, doses and time points in both releases",
                            formatter_class=_Formatter)
    _add_global_options(q)
    q.add_argument("dataset", help="cdrp, cdrp-bio, luad, taorf or lincs")
    q.set_defaults(run=_cmd_datasets_info)
    q = datasets.add_parser("download", help="verified, resumable download", formatter_class=_Formatter)
    _add_global_options(q)
    q.add_argument("dataset", help="cdrp, cdrp-bio, luad, taorf or lincs")
    q.add_argument("--files", help="comma-separated short names (see `datasets list`); default all")
    q.add_argument("--dest", default=".", help="download root (the bucket's folder layout below it)")
    q.add_argument("--base-url", help="a mirror or local server instead of the public bucket")
    q.add_argument("--release", default="csv", choices=["csv", "curated"],
                   help="csv (the paper's files) or curated (the 2025 parquet files)")
    q.set_defaults(run=_cmd_datasets_download)

    p = command("report", help="the whole analysis as a folder of tables, figures and report.md")
    p.add_argument("--demo", action="store_true", help="on simulated data (seconds)")
    _add_pair_arguments(p, out="rosetta_report")
    p.set_defaults(run=_cmd_report)
    return parser


def _expected_errors():
    import gzip

    from .common.errors import RosettaError

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
        message = args.run(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(f"{label}: interrupted; nothing half-written was left in place", file=sys.stderr)
        return EXIT_ERROR
    except _expected_errors() as exc:
        if args.debug:
            raise
        text = " ".join(line.strip() for line in str(exc).strip().splitlines()) or type(exc).__name__
        if isinstance(exc, KeyError):
            text = f"missing entry {text}"
        print(f"{label}: error: {text}", file=sys.stderr)
        return EXIT_ERROR
    print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
