"""Command-line front end: parses arguments, calls the API, writes files, prints a summary.

No statistics live here; every subcommand maps onto one public function.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from .version import __version__


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
    frame = pd.read_csv(args.input)
    return frame, list(frame.columns)


def _split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def _parse_control(text: str) -> dict[str, list[str]]:
    if "=" not in text:
        raise ValueError(f"--control must look like COLUMN=VALUE[,VALUE]; got {text!r}")
    column, values = text.split("=", 1)
    return {column.strip(): _split(values)}


def _cmd_aggregate(args) -> str:
    from .bridge.cytominer import aggregate
    from .data.features import parse_feature_spec
    from .common.atomic_files import write_csv_atomic

    population, columns = _read_population(args)
    features = parse_feature_spec(args.features, columns, "cp")
    out = aggregate(population, features, _split(args.strata), args.operation)
    write_csv_atomic(out, args.out)
    return f"aggregated {len(features)} features into {len(out)} rows -> {args.out}"


def _cmd_normalize(args) -> str:
    from .bridge.cytominer import normalize
    from .data.features import parse_feature_spec
    from .common.atomic_files import write_csv_atomic

    population, columns = _read_population(args)
    features = parse_feature_spec(args.features, columns, args.modality)
    out = normalize(population, features, _split(args.strata), _parse_control(args.control),
                    args.operation, on_low_dispersion=args.on_low_dispersion)
    write_csv_atomic(out, args.out)
    dropped = out.attrs["dropped_features"]
    return (f"normalised {len(features) - len(dropped)} features of {len(out)} rows "
            f"({len(dropped)} dropped) -> {args.out}")


def _cmd_select(args) -> str:
    from .bridge.cytominer import select_features
    from .data.features import parse_feature_spec
    from .common.atomic_files import write_csv_atomic

    population, columns = _read_population(args)
    features = parse_feature_spec(args.features, columns, args.modality)
    options = {"cutoff": args.cutoff} if args.cutoff is not None else {}
    out = select_features(population, features, operation=args.operation, **options)
    write_csv_atomic(out, args.out)
    return f"kept {len(features) - len(out.attrs['dropped_features'])} of {len(features)} features -> {args.out}"


def _cmd_replicates(args) -> str:
    from .common.atomic_files import write_csv_atomic, write_text_atomic
    from .stats.average_precision import mean_average_precision
    from .data.features import parse_feature_spec
    from .stats.replicates import replicate_reproducibility

    if args.dataset:
        profiles = _load_dataset_profiles(args)
        frame, perturbation = profiles.data, args.perturbation or profiles.perturbation
        features = list(profiles.features) if args.features == "auto" else \
            parse_feature_spec(args.features, list(frame.columns), profiles.modality)
        source = f"{args.dataset} ({args.release} release, {profiles.modality})"
        control_note = [n for n in profiles.notes if n.startswith("negative controls")]
    else:
        if not args.input or not args.perturbation:
            raise ValueError("give an input file and --perturbation, or --dataset NAME --modality cp|ge --root DIR")
        frame = pd.read_csv(args.input, low_memory=False)
        perturbation, source, control_note = args.perturbation, str(args.input), []
        features = parse_feature_spec(args.features, list(frame.columns), args.modality)
    result = replicate_reproducibility(frame, perturbation, features, null=args.null,
                                       n_null=args.n_null, percentile=args.percentile,
                                       plate=args.plate, seed=args.seed)
    out = Path(args.out)
    write_csv_atomic(result.table, out / "replicate_reproducibility.csv")
    summary = result.summary_dict() | {"input": source, "n_features": len(features)}
    lines = [result.summary()] + control_note
    if args.map:
        controls = _parse_control(args.control) if args.control else None
        if controls is None and args.dataset:
            controls = profiles.controls
        ap = mean_average_precision(frame, perturbation, features, controls=controls,
                                    negatives="negcon" if controls is not None else "others",
                                    n_null=args.n_null, seed=args.seed)
        write_csv_atomic(ap.table, out / "mean_average_precision.csv")
        summary["mean_average_precision"] = ap.summary_dict()
        lines.append(ap.summary())
    import json

    write_text_atomic(json.dumps(summary, indent=2, default=str), out / "summary.json")
    return "\n".join(lines + [f"written to {out}"])


def _control_spec(text: str | None):
    from .data.controls import ControlSpec

    if not text:
        return None
    ((column, values),) = _parse_control(text).items()
    return ControlSpec(column, tuple(values))


def _load_dataset_profiles(args):
    from .data.read import load_profiles

    if args.modality not in ("cp", "ge"):
        raise ValueError("--dataset needs --modality cp or ge")
    return load_profiles(args.dataset, args.modality, args.level, root=args.root, release=args.release,
                         controls=_parse_control(args.control) if args.control else None)


def _read_pair(args):
    from .data.pairing import load_paired, read_paired

    if args.dataset:
        return load_paired(args.dataset, args.root, release=args.release, level=args.level,
                           cp_controls=_control_spec(args.cp_control), ge_controls=_control_spec(args.ge_control))
    if not (args.cp and args.ge and (args.key or (args.cp_key and args.ge_key))):
        raise ValueError("give --dataset NAME --root DIR, or --cp, --ge and --key (or --cp-key and --ge-key)")
    return read_paired(args.cp, args.ge, args.cp_key or args.key, args.ge_key or args.key,
                       cp_controls=_control_spec(args.cp_control),
                       ge_controls=_control_spec(args.ge_control))


def _cmd_predict_genes(args) -> str:
    import json

    from .common.atomic_files import write_csv_atomic, write_text_atomic
    from .stats.predictability import feature_predictability, gene_predictability

    paired = _read_pair(args)
    run = feature_predictability if args.reverse else gene_predictability
    result = run(paired, model=args.model, n_splits=args.splits, groups=args.groups,
                 n_permutations=args.permutations, seed=args.seed, progress=not args.quiet)
    out = Path(args.out)
    name = "single_feature_predictability.csv" if args.reverse else "single_gene_predictability.csv"
    write_csv_atomic(result.table, out / name)
    summary = result.summary_dict() | {"cp": str(args.cp), "ge": str(args.ge)}
    write_text_atomic(json.dumps(summary, indent=2, default=str), out / "summary.json")
    return paired.summary() + "\n" + result.summary() + f"\nwritten to {out}"


def _cmd_correlate(args) -> str:
    import json

    from .common.atomic_files import write_csv_atomic, write_text_atomic
    from .stats.correlation import canonical_correlation, feature_gene_correlation, similarity_concordance

    paired = _read_pair(args)
    table = feature_gene_correlation(paired, top_k=args.top_k)
    cca = canonical_correlation(paired, n_components=args.components, n_permutations=args.permutations,
                                seed=args.seed, progress=not args.quiet)
    mantel = similarity_concordance(paired, n_permutations=args.permutations, seed=args.seed)
    out = Path(args.out)
    write_csv_atomic(table, out / "feature_gene_correlation.csv")
    concordance = {"mantel": mantel.as_dict(), "canonical": cca.table.to_dict(orient="records")}
    write_text_atomic(json.dumps(concordance, indent=2, default=float), out / "concordance.json")
    return "\n".join([paired.summary(), mantel.summary(), cca.summary(), f"written to {out}"])


def _add_dataset_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", help="a Rosetta dataset (cdrp, cdrp-bio, luad, taorf, lincs): keys, controls "
                                     "and plates come from the registry")
    p.add_argument("--root", default=".", help="download root of --dataset (see `datasets download`)")
    p.add_argument("--release", default="csv", choices=["csv", "curated"], help="which release of --dataset")
    p.add_argument("--level", help="Cell Painting level of --dataset (augmented, normalized, "
                                   "normalized_variable_selected)")


def _add_pair_arguments(p: argparse.ArgumentParser, required: bool = True, out: str | None = None) -> None:
    _add_dataset_arguments(p)
    p.add_argument("--cp", help="Cell Painting profiles (replicate level, CSV)")
    p.add_argument("--ge", help="L1000 profiles (replicate level, CSV)")
    p.add_argument("--key", help="perturbation column present in both files")
    p.add_argument("--cp-key", help="perturbation column of the CP file (default --key)")
    p.add_argument("--ge-key", help="perturbation column of the GE file (default --key)")
    p.add_argument("--cp-control", help="COLUMN=VALUE[,VALUE]: CP negative controls (left out)")
    p.add_argument("--ge-control", help="COLUMN=VALUE[,VALUE]: GE negative controls (left out)")
    p.add_argument("--permutations", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=out is None, default=out, help="output folder")


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

    if args.demo:
        report = demo_report(args.out, seed=args.seed, progress=not args.quiet)
    elif args.dataset:
        report = dataset_report(args.dataset, args.root, args.out, release=args.release, level=args.level,
                                cp_controls=_control_spec(args.cp_control),
                                ge_controls=_control_spec(args.ge_control), n_permutations=args.permutations,
                                seed=args.seed, progress=not args.quiet)
    else:
        if not (args.cp and args.ge and (args.key or (args.cp_key and args.ge_key))):
            raise ValueError("give --demo, --dataset NAME --root DIR, or --cp, --ge and --key "
                             "(or --cp-key and --ge-key)")
        report = file_report(args.cp, args.ge, args.cp_key or args.key, args.ge_key or args.key, args.out,
                             cp_controls=_control_spec(args.cp_control),
                             ge_controls=_control_spec(args.ge_control), n_permutations=args.permutations,
                             seed=args.seed, progress=not args.quiet)
    return f"report written to {report.out_dir}/report.md"


def _add_population_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", help="CSV (or .csv.gz) of profiles")
    p.add_argument("--sqlite", help="SQLite file (processed in the database)")
    p.add_argument("--postgres", help="PostgreSQL DSN, postgresql://user@host:port/dbname (processed in the server)")
    p.add_argument("--table", help="table in --sqlite or --postgres")
    p.add_argument("--features", default="auto",
                   help="'auto' (Cells_/Cytoplasm_/Nuclei_ or *_at columns) or comma-separated prefixes")
    p.add_argument("--out", required=True, help="output CSV")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rosetta-stats",
        description="Statistics for paired Cell Painting and L1000 profiles (Rosetta).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("aggregate", help="aggregate rows within strata with cytominer")
    _add_population_arguments(p)
    p.add_argument("--strata", required=True, help="comma-separated grouping columns")
    p.add_argument("--operation", default="mean", help="mean, median, min, max, sd, or joined by +")
    p.set_defaults(run=_cmd_aggregate)

    p = sub.add_parser("normalize", help="normalise to control rows per stratum with cytominer")
    _add_population_arguments(p)
    p.add_argument("--strata", required=True, help="comma-separated normalisation groups (e.g. plate)")
    p.add_argument("--control", required=True, help="COLUMN=VALUE[,VALUE] selecting the control rows")
    p.add_argument("--operation", default="standardize", choices=["standardize", "robustize"])
    p.add_argument("--on-low-dispersion", default="drop", choices=["drop", "error", "keep"])
    p.add_argument("--modality", default="auto", choices=["auto", "cp", "ge"])
    p.set_defaults(run=_cmd_normalize)

    p = sub.add_parser("select-features", help="drop uninformative features with cytominer")
    _add_population_arguments(p)
    p.add_argument("--operation", default="variance_threshold",
                   choices=["variance_threshold", "correlation_threshold", "drop_na_columns"])
    p.add_argument("--cutoff", type=float, default=None)
    p.add_argument("--modality", default="auto", choices=["auto", "cp", "ge"])
    p.set_defaults(run=_cmd_select)

    p = sub.add_parser("replicates", help="replicate reproducibility (paper statistic, p/q-values, mAP)")
    p.add_argument("input", nargs="?", help="replicate-level CSV (or .csv.gz), one row per well")
    p.add_argument("--perturbation", help="column naming the perturbation (with --dataset: the registry's)")
    _add_dataset_arguments(p)
    p.add_argument("--features", default="auto", help="'auto' or comma-separated prefixes")
    p.add_argument("--modality", default="auto", choices=["auto", "cp", "ge"])
    p.add_argument("--plate", help="standardise features within this plate column first")
    p.add_argument("--null", default="size_matched", choices=["paper", "size_matched"])
    p.add_argument("--n-null", type=int, default=1000)
    p.add_argument("--percentile", type=float, default=90)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--map", action="store_true", help="also mean average precision")
    p.add_argument("--control", help="COLUMN=VALUE[,VALUE]: negative controls (for --map; with --dataset, "
                                     "instead of the registry's rules)")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(run=_cmd_replicates)

    p = sub.add_parser("predict-genes", help="single-gene predictability from morphology")
    _add_pair_arguments(p)
    p.add_argument("--model", default="ridge", choices=["ridge", "lasso", "pcr", "mlp"])
    p.add_argument("--splits", type=int, default=5)
    p.add_argument("--groups", help="CP column whose values folds keep together (e.g. compound)")
    p.add_argument("--reverse", action="store_true", help="predict each CP feature from the genes")
    p.set_defaults(run=_cmd_predict_genes)

    p = sub.add_parser("correlate", help="feature x gene correlation, held-out CCA, Mantel test")
    _add_pair_arguments(p)
    p.add_argument("--top-k", type=int, default=10, help="strongest features kept per gene")
    p.add_argument("--components", type=int, default=5)
    p.set_defaults(run=_cmd_correlate)

    p = sub.add_parser("datasets", help="the Rosetta collection: list and download files")
    datasets = p.add_subparsers(dest="datasets_command", required=True)
    q = datasets.add_parser("list", help="files with sizes and ETags")
    q.add_argument("--dataset", help="cdrp, cdrp-bio, luad, taorf or lincs (default: all)")
    q.add_argument("--release", default="csv", choices=["csv", "curated"])
    q.set_defaults(run=_cmd_datasets_list)
    q = datasets.add_parser("info", help="a dataset's columns, controls, doses and time points in both releases")
    q.add_argument("dataset", help="cdrp, cdrp-bio, luad, taorf or lincs")
    q.set_defaults(run=_cmd_datasets_info)
    q = datasets.add_parser("download", help="verified, resumable download")
    q.add_argument("dataset", help="cdrp, cdrp-bio, luad, taorf or lincs")
    q.add_argument("--files", help="comma-separated short names (see `datasets list`); default all")
    q.add_argument("--dest", default=".", help="download root (the bucket's folder layout below it)")
    q.add_argument("--base-url", help="a mirror or local server instead of the public bucket")
    q.add_argument("--release", default="csv", choices=["csv", "curated"],
                   help="csv (the paper's files) or curated (the 2025 parquet files)")
    q.set_defaults(run=_cmd_datasets_download)

    p = sub.add_parser("report", help="the whole analysis as a folder of tables, figures and report.md")
    p.add_argument("--demo", action="store_true", help="on simulated data (seconds)")
    _add_pair_arguments(p, required=False, out="rosetta_report")
    p.set_defaults(run=_cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        message = args.run(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"rosetta-stats {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # RBackendUnavailable
        print(f"rosetta-stats {args.command}: {exc}", file=sys.stderr)
        return 3
    print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
