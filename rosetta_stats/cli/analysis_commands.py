"""Commands for the analyses beyond the paper's core: transfer, effect sizes, links, GO enrichment, MoA clusters.

Each reads its inputs the one way the other commands do, checks its output
folder before any work, and writes a results folder with its figure.
"""
from __future__ import annotations

from .arguments import check_out, integer, split, summary_json


def add_analysis_commands(command, add_pair_arguments, add_profile_input, add_out, add_reading,
                          control_rule) -> None:
    """Register the commands with ``command(name, help=...)`` (a subparser factory)."""
    p = command("transfer", help="leave-dataset-out transfer: fit genes on one dataset, score them on another")
    p.add_argument("--train", required=True, help="dataset to train on (cdrp, cdrp-bio, luad, taorf, lincs)")
    p.add_argument("--test", required=True, help="dataset to test on")
    p.add_argument("--root", default=".", help="download root of both datasets")
    p.add_argument("--release", default="csv", choices=["csv", "curated"])
    p.add_argument("--model", default=None, choices=["ridge", "lasso", "lasso_cv", "mlp"],
                   help="default ridge, or the preset's (lasso_cv)")
    p.add_argument("--direction", default="both", choices=["both", "forward"])
    p.add_argument("--permutations", type=integer(0, "--permutations"), default=None,
                   help="shuffled-test null size (default 100; the paper preset: 0)")
    p.add_argument("--seed", type=integer(0, "--seed"), default=0)
    p.add_argument("--preset", choices=["default", "paper"], default=None)
    add_out(p)
    p.set_defaults(run=cmd_transfer)

    p = command("effect-sizes", help="per perturbation vs controls: limma's moderated t, Cohen's d, both ways")
    add_profile_input(p, "replicate-level profiles (CSV, .csv.gz or parquet)", features=None)
    p.add_argument("--control", type=control_rule, help="COLUMN=VALUE[,VALUE]: the negative controls")
    add_reading(p)
    add_out(p)
    p.set_defaults(run=cmd_effect_sizes)

    p = command("links", help="stable feature-gene links (stability selection of sparse models)")
    add_pair_arguments(p)
    p.add_argument("--alpha", type=float, default=0.05, help="Lasso penalty on standardised data")
    p.add_argument("--subsamples", type=integer(2, "--subsamples"), default=100, help="random halves")
    p.add_argument("--threshold", type=float, default=0.75, help="selection frequency of a stable link")
    p.set_defaults(run=cmd_links)

    p = command("go-enrichment", help="GO terms enriched among predictable (or listed) genes, offline")
    p.add_argument("--predictability", help="a results folder of predict-genes (genes with q < --q selected)")
    p.add_argument("--genes", help="comma-separated probe ids or symbols (the universe: the 978 landmarks)")
    p.add_argument("--ontology", default="BP", choices=["BP", "MF", "CC", "all"])
    p.add_argument("--q", type=float, default=0.05, help="q-value below which a gene counts as selected")
    p.add_argument("--compartments", action="store_true", help="label terms by the paper's compartment map")
    add_out(p)
    p.set_defaults(run=cmd_go_enrichment)

    p = command("moa-clustering", help="Jaccard of each MoA's best k-means cluster, per method (Fig 4a)")
    add_pair_arguments(p)
    p.add_argument("--moa", default="Metadata_moa", help="MoA column of the Cell Painting side")
    p.add_argument("--methods", default="cp,ge,early_fusion,cca,pls", help="comma-separated methods")
    p.add_argument("--components", type=integer(1, "--components"), default=10)
    p.add_argument("--runs", type=integer(1, "--runs"), default=10, help="k-means restarts")
    p.set_defaults(run=cmd_moa_clustering)


def _write(args, name: str, result, figure: dict | None, figure_name: str | None, notes=()) -> str:
    from ..results.folders import write_results

    extra = {"summary.json": summary_json(result.summary_dict())}
    if figure is not None:
        extra.update({f"{figure_name}.png": figure["png"], f"{figure_name}.svg": figure["svg"]})
    write_results({name: result}, args.out, extra_files=extra, overwrite=args.overwrite, notes=notes)
    return result.summary() + f"\nwritten to {args.out}"


def _figure_files(name: str) -> list[str]:
    return [f"{name}.png", f"{name}.svg", "summary.json"]


def cmd_transfer(args) -> str:
    from ..data.pairing import load_paired
    from ..report.analysis_figures import transfer_scatter
    from ..stats.prediction.transfer import transfer_predictability

    check_out(args, ["transfer_predictability"], extra=_figure_files("transfer_scatter"))
    if args.train == args.test:
        raise ValueError("--train and --test name the same dataset")
    train = load_paired(args.train, args.root, release=args.release)
    test = load_paired(args.test, args.root, release=args.release)
    result = transfer_predictability(train, test, model=args.model, direction=args.direction,
                                     n_permutations=args.permutations, seed=args.seed, preset=args.preset,
                                     names=(args.train, args.test))
    return _write(args, "transfer_predictability", result, transfer_scatter(result.table), "transfer_scatter")


def cmd_effect_sizes(args) -> str:
    from ..analyses.effect_sizes import effect_sizes
    from ..data.read import load_profiles, read_profiles
    from ..report.analysis_figures import effect_volcano

    check_out(args, ["effect_sizes"], extra=_figure_files("effect_volcano"))
    if args.dataset:
        profiles = load_profiles(args.dataset, args.modality if args.modality != "auto" else "cp", root=args.root,
                                 release=args.release, level=args.level, controls=args.control,
                                 clean=not args.no_clean)
    elif args.input:
        profiles = read_profiles(args.input, args.modality, args.perturbation, controls=args.control,
                                 features=args.features, clean=not args.no_clean)
    else:
        raise ValueError("give a profiles file (with --perturbation and --control) or --dataset NAME --root DIR")
    result = effect_sizes(profiles)
    return _write(args, "effect_sizes", result, effect_volcano(result.table), "effect_volcano", profiles.notes)


def cmd_links(args) -> str:
    from ..stats.prediction.stable_links import stable_links
    from .commands import read_pair

    check_out(args, ["stable_links"], extra=["summary.json"])
    paired = read_pair(args)
    result = stable_links(paired, alpha=args.alpha, n_subsamples=args.subsamples, threshold=args.threshold,
                          seed=args.seed, progress=not args.quiet)
    return _write(args, "stable_links", result, None, None, paired.notes)


def cmd_go_enrichment(args) -> str:
    from ..analyses.go_enrichment import go_enrichment
    from ..common.result import Result
    from ..report.analysis_figures import enrichment_bars
    from ..results.folders import read_results

    check_out(args, ["go_enrichment"], extra=_figure_files("go_enrichment"))
    if bool(args.predictability) == bool(args.genes):
        raise ValueError("give one of --predictability FOLDER or --genes LIST")
    if args.predictability:
        tables, _ = read_results(args.predictability)
        names = [n for n in ("single_gene_predictability", "genes") if n in tables]
        if not names:
            raise ValueError(f"{args.predictability} holds no gene predictability table")
        selected = Result(tables[names[0]])
    else:
        selected = split(args.genes)
    result = go_enrichment(selected, ontology=args.ontology, q=args.q,
                           keywords="paper" if args.compartments else None)
    return _write(args, "go_enrichment", result, enrichment_bars(result.table), "go_enrichment")


def cmd_moa_clustering(args) -> str:
    from ..analyses.moa_clustering import moa_clustering
    from ..report.analysis_figures import jaccard_boxes
    from .commands import read_pair

    check_out(args, ["moa_clustering"], extra=_figure_files("moa_jaccard"))
    methods = tuple(split(args.methods))
    if not methods:
        raise ValueError("--methods names no method")
    paired = read_pair(args)
    result = moa_clustering(paired, moa=args.moa, methods=methods, n_components=args.components,
                            n_runs=args.runs, seed=args.seed)
    return _write(args, "moa_clustering", result, jaccard_boxes(result.table), "moa_jaccard", paired.notes)
