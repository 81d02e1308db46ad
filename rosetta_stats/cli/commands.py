"""One function per subcommand: check the output, read through the API's readers, call the API, write.

Every file is read by :func:`rosetta_stats.read_profiles` (or
:func:`~rosetta_stats.load_profiles` / :func:`~rosetta_stats.read_paired`),
cleaning on unless ``--no-clean``, so a command gives the table its API call
gives on the same file. The output folder is checked before any work.
"""
from __future__ import annotations

from .arguments import check_out, split, summary_json, write_table_output


def _features_spec(args):
    spec = getattr(args, "features", "auto")
    return None if spec in (None, "auto") else spec


def _read_file(args, path, perturbation=None, controls=None, modality=None):
    from ..data.read import read_profiles

    return read_profiles(path, modality or getattr(args, "modality", "auto"), perturbation, controls=controls,
                         clean=not args.no_clean, features=_features_spec(args))


def _read_population(args):
    """(population, feature names): a database table, or the --input file read as profiles."""
    from ..bridge.database_tables import PostgresTable, SQLiteTable

    if args.postgres or args.sqlite:
        if not args.table:
            raise ValueError(f"{'--postgres' if args.postgres else '--sqlite'} needs --table")
        table = PostgresTable(args.table, dsn=args.postgres) if args.postgres else SQLiteTable(args.sqlite, args.table)
        from ..data.features import parse_feature_spec

        return table, parse_feature_spec(args.features, table.columns(), args.modality)
    if not args.input:
        raise ValueError("give --input CSV, --sqlite FILE --table NAME or --postgres DSN --table NAME")
    profiles = _read_file(args, args.input)
    return profiles, list(profiles.features)


def cmd_aggregate(args) -> str:
    from ..bridge.cytominer import aggregate

    check_out(args, ["aggregated"])
    population, features = _read_population(args)
    result = aggregate(population, features, split(args.strata), args.operation)
    where = write_table_output(args, "aggregated", result)
    return f"aggregated {len(features)} features into {len(result.table)} rows -> {where}"


def cmd_normalize(args) -> str:
    from ..bridge.cytominer import normalize

    check_out(args, ["normalized", "normalization_parameters", "dropped_features"])
    population, features = _read_population(args)
    result = normalize(population, features, split(args.strata), args.control, args.operation,
                       on_low_dispersion=args.on_low_dispersion)
    where = write_table_output(args, "normalized", result)
    n_dropped = len(result.dropped_features)
    return (f"normalised {len(features) - n_dropped} features of {len(result.table)} rows ({n_dropped} dropped) "
            f"-> {where}")


def cmd_select(args) -> str:
    from ..bridge.cytominer import select_features

    check_out(args, ["selected", "dropped_features"])
    population, features = _read_population(args)
    options = {"cutoff": args.cutoff} if args.cutoff is not None else {}
    result = select_features(population, features, operation=args.operation, **options)
    where = write_table_output(args, "selected", result)
    n_dropped = len(result.dropped_features)
    return f"kept {len(features) - n_dropped} of {len(features)} features -> {where}"


def _replicate_profiles(args):
    from ..data.read import load_profiles

    if args.dataset:
        if args.modality not in ("cp", "ge"):
            raise ValueError("--dataset needs --modality cp or ge")
        profiles = load_profiles(args.dataset, args.modality, args.level, root=args.root, release=args.release,
                                 controls=args.control, clean=not args.no_clean)
        if _features_spec(args):
            from ..data.features import parse_feature_spec
            profiles = profiles.with_data(profiles.data, features=parse_feature_spec(
                args.features, list(profiles.data.columns), profiles.modality))
        if args.perturbation:
            from ..common.validation import check_columns
            check_columns(profiles.data.columns, [args.perturbation], "--perturbation")
            profiles = profiles.with_data(profiles.data, perturbation=args.perturbation)
        return profiles
    if not args.input or not args.perturbation:
        raise ValueError("give an input file and --perturbation, or --dataset NAME --modality cp|ge --root DIR")
    return _read_file(args, args.input, args.perturbation, controls=args.control)


def cmd_replicates(args) -> str:
    from ..results.folders import write_results
    from ..stats.replicates import replicate_reproducibility
    from ..stats.retrieval.map import mean_average_precision

    names = ["replicate_reproducibility"] + (["mean_average_precision"] if args.map else [])
    check_out(args, names, extra=["summary.json"])
    profiles = _replicate_profiles(args)
    result = replicate_reproducibility(profiles, null=args.null, n_null=args.n_null, percentile=args.percentile,
                                       plate=args.plate, seed=args.seed, include_controls=args.include_controls,
                                       progress=not args.quiet, preset=args.preset)
    summary = result.summary_dict() | {"n_features": len(profiles.features)}
    results = {"replicate_reproducibility": result}
    lines = [result.summary()]
    if args.map:
        negatives = "negcon" if profiles.controls.any() else "others"
        ap = mean_average_precision(profiles, negatives=negatives, n_null=args.n_null, seed=args.seed,
                                    plate=args.plate, progress=not args.quiet)
        results["mean_average_precision"] = ap
        summary["mean_average_precision"] = ap.summary_dict()
        lines.append(ap.summary())
    write_results(results, args.out, extra_files={"summary.json": summary_json(summary)},
                  overwrite=args.overwrite)
    return "\n".join(lines + [f"written to {args.out}"])


def cmd_retrieval(args) -> str:
    from ..report.figures import map_vs_p
    from ..results.folders import write_results
    from ..stats.retrieval import framework
    from ..stats.retrieval.map import mean_average_precision

    check_out(args, ["mean_average_precision"], extra=["map_vs_p.png", "map_vs_p.svg", "summary.json"])
    profiles = _replicate_profiles(args)
    options = dict(n_null=args.n_null, seed=args.seed, similarity=args.similarity, k=[int(v) for v in split(args.k)]
                   or None, hierarchical_by=args.hierarchical_by, p_value=args.p_value)
    if args.kind == "activity":
        result = framework.phenotypic_activity(profiles, plate=args.plate_column,
                                               same_plate_controls=args.same_plate,
                                               replicates_on_other_plates=args.other_plates, **options)
    elif args.kind == "distinctiveness":
        result = framework.phenotypic_distinctiveness(profiles, plate=args.plate_column,
                                                      other_plates_only=args.other_plates, **options)
    elif args.kind == "consistency":
        from ..data.treatment_level import treatment_level

        result = framework.phenotypic_consistency(treatment_level(profiles), label=args.label, **options)
    else:
        positives = dict(same=split(args.pos_same) or [profiles.perturbation], different=split(args.pos_different))
        negatives = (args.negatives if args.negatives in ("negcon", "others")
                     else dict(same=split(args.neg_same), different=split(args.neg_different)))
        result = mean_average_precision(profiles, negatives=negatives, positives=positives, **options)
    figure = map_vs_p(result.table)
    write_results({"mean_average_precision": result}, args.out,
                  extra_files={"map_vs_p.png": figure["png"], "map_vs_p.svg": figure["svg"],
                               "summary.json": summary_json(result.summary_dict())}, overwrite=args.overwrite)
    return result.summary() + f"\nwritten to {args.out}"


def cmd_cross_modal(args) -> str:
    from ..report.figures import rank_histogram
    from ..results.folders import write_results
    from ..stats.retrieval.cross_modal import cross_modal_retrieval

    check_out(args, ["cross_modal_retrieval"], extra=["rank_histogram.png", "rank_histogram.svg", "summary.json"])
    paired = read_pair(args)
    result = cross_modal_retrieval(paired, space=args.space, n_components=args.components, n_pcs=args.pcs,
                                   groups=args.groups, n_splits=args.splits, direction=args.direction,
                                   n_null=1000 if args.permutations is None else args.permutations,
                                   seed=args.seed)
    figure = rank_histogram(result.table)
    write_results({"cross_modal_retrieval": result}, args.out,
                  extra_files={"rank_histogram.png": figure["png"], "rank_histogram.svg": figure["svg"],
                               "summary.json": summary_json(result.summary_dict())},
                  overwrite=args.overwrite, notes=paired.notes)
    return paired.summary() + "\n" + result.summary() + f"\nwritten to {args.out}"


def read_pair(args):
    from ..data.pairing import load_paired, read_paired

    if args.dataset:
        return load_paired(args.dataset, args.root, release=args.release, level=args.level,
                           cp_controls=args.cp_control, ge_controls=args.ge_control, clean=not args.no_clean,
                           preset=getattr(args, "preset", None))
    if not (args.cp and args.ge and (args.key or (args.cp_key and args.ge_key))):
        raise ValueError("give --dataset NAME --root DIR, or --cp, --ge and --key (or --cp-key and --ge-key)")
    return read_paired(args.cp, args.ge, args.cp_key or args.key, args.ge_key or args.key,
                       cp_controls=args.cp_control, ge_controls=args.ge_control, clean=not args.no_clean)


def cmd_predict_genes(args) -> str:
    from ..results.folders import write_results
    from ..stats.prediction.predictability import feature_predictability, gene_predictability

    name = "single_feature_predictability" if args.reverse else "single_gene_predictability"
    check_out(args, [name], extra=["summary.json"])
    paired = read_pair(args)
    run = feature_predictability if args.reverse else gene_predictability
    result = run(paired, model=args.model, n_splits=args.splits, groups=args.groups, fold_score=args.fold_score,
                 n_permutations=args.permutations, seed=args.seed, progress=not args.quiet, preset=args.preset)
    write_results({name: result}, args.out, extra_files={"summary.json": summary_json(result.summary_dict())},
                  overwrite=args.overwrite, notes=paired.notes)
    return paired.summary() + "\n" + result.summary() + f"\nwritten to {args.out}"


def cmd_correlate(args) -> str:
    from ..results.folders import write_results
    from ..stats.correlation import canonical_correlation, feature_gene_correlation, similarity_concordance

    check_out(args, ["feature_gene_correlation", "canonical_correlation", "similarity_concordance"],
              extra=["concordance.json"])
    paired = read_pair(args)
    n_features, n_genes = len(paired.cp.features), len(paired.ge.features)
    if args.components > min(n_features, n_genes, args.pcs):
        raise ValueError(f"--components {args.components} exceeds what the data allow "
                         f"(min of {n_features} features, {n_genes} genes and --pcs {args.pcs})")
    permutations = 100 if args.permutations is None else args.permutations
    table = feature_gene_correlation(paired, top_k=args.top_k, groups=args.groups)
    cca = canonical_correlation(paired, n_components=args.components, n_pcs=args.pcs, groups=args.groups,
                                n_permutations=permutations, seed=args.seed, progress=not args.quiet)
    mantel = similarity_concordance(paired, n_permutations=max(permutations, 1), seed=args.seed,
                                    groups=args.groups, progress=not args.quiet)
    concordance = {"mantel": mantel.as_dict(), "canonical": cca.table.to_dict(orient="records")}
    write_results({"feature_gene_correlation": table, "canonical_correlation": cca,
                   "similarity_concordance": mantel}, args.out,
                  extra_files={"concordance.json": summary_json(concordance)}, overwrite=args.overwrite,
                  notes=paired.notes)
    return "\n".join([paired.summary(), mantel.summary(), cca.summary(), f"written to {args.out}"])


def cmd_moa(args) -> str:
    from ..report.figures import moa_f1_bars
    from ..results.folders import write_results
    from ..stats.prediction.moa import moa_prediction

    models = tuple(split(args.models))
    if not models:
        raise ValueError("--models names no model; give logistic, mlp or both")
    modalities = split(args.modality)
    check_out(args, ["moa_prediction", "moa_per_class_f1", "moa_comparisons"], extra=["moa_f1.png", "moa_f1.svg"])
    if len(modalities) == 1 and modalities[0] in ("cp", "ge") and not args.dataset \
            and not (args.cp and args.ge):
        from ..data.treatment_level import treatment_level

        path, key = (args.cp, args.cp_key) if modalities[0] == "cp" else (args.ge, args.ge_key)
        key, control = key or args.key, args.cp_control if modalities[0] == "cp" else args.ge_control
        if not path or not key:
            raise ValueError(f"--modality {modalities[0]} needs --{modalities[0]} FILE and --key (or "
                             f"--{modalities[0]}-key)")
        subject = treatment_level(_read_file(args, path, key, controls=control, modality=modalities[0]))
        described = subject.summary()
    else:
        subject = read_pair(args)
        described = subject.summary()
    result = moa_prediction(subject, moa=args.moa, groups=args.groups, models=models, n_splits=args.splits,
                            seed=args.seed, min_compounds=args.min_compounds, modalities=modalities,
                            progress=not args.quiet)
    figure = moa_f1_bars(result.table)
    write_results({"moa_prediction": result}, args.out,
                  extra_files={"moa_f1.png": figure["png"], "moa_f1.svg": figure["svg"]},
                  overwrite=args.overwrite, notes=subject.notes)
    return described + "\n" + result.summary() + f"\nwritten to {args.out}"


def cmd_profile(args) -> str:
    from ..data.plate_profiles import profile_plate
    from ..results.folders import write_results

    if not args.sqlite:
        raise ValueError("give one or more CellProfiler SQLite files with --sqlite")
    check_out(args, ["replicate_level_cp_augmented", "replicate_level_cp_normalized",
                     "replicate_level_cp_normalized_variable_selected", "replicate_level_cp_spherized",
                     "normalization_parameters", "dropped_features"])
    result = profile_plate(args.sqlite, platemap=args.platemap, strata=split(args.strata),
                           operation=args.operation, controls=args.control,
                           normalization=args.normalization, selection=tuple(split(args.selection)),
                           progress=not args.quiet, min_cells=args.min_cells, spherize=args.spherize)
    tables = {**result.levels(), "normalization_parameters": result.normalization_parameters,
              "dropped_features": result.dropped_features}
    write_results(tables, args.out, inputs=args.sqlite + ([args.platemap] if args.platemap else []),
                  overwrite=args.overwrite, notes=result.notes)
    return result.summary() + f"\nwritten to {args.out}"


def cmd_datasets_list(args) -> str:
    from ..data.registry import LISTING_DATE, human_size, list_files

    table = list_files(args.dataset, release=args.release)
    shown = table[["dataset", "modality", "file", "human_size", "etag"]].rename(columns={"human_size": "size"})
    if args.release == "curated":
        return shown.to_string(index=False) + f"\n{len(table)} files (sizes and ETags not published)"
    total = human_size(int(table["size"].sum()))
    return (shown.to_string(index=False) + f"\n{len(table)} files, {total} in all (sizes and ETags as listed "
            f"on {LISTING_DATE}; the files were rewritten since, downloads check the bucket's current ETags)")


def cmd_datasets_info(args) -> str:
    from ..data.registry import get_dataset

    return get_dataset(args.dataset).describe()


def cmd_datasets_download(args) -> str:
    from ..data.download import download_dataset
    from ..data.registry import BUCKET_URL

    paths = download_dataset(args.dataset, split(args.files) or None, dest=args.dest,
                             base_url=args.base_url or BUCKET_URL, progress=not args.quiet, release=args.release)
    return "\n".join(f"verified {p}" for p in paths)


def cmd_report(args) -> str:
    if not (args.demo or args.dataset or (args.cp and args.ge and (args.key or (args.cp_key and args.ge_key)))):
        raise ValueError("give --demo, --dataset NAME --root DIR, or --cp, --ge and --key "
                         "(or --cp-key and --ge-key)")
    common = {"overwrite": args.overwrite, "seed": args.seed, "progress": not args.quiet}
    if args.permutations is not None:
        common["n_permutations"] = args.permutations
    if args.client:
        from ..stats.core.parallel import connect

        with connect(args.client) as client:
            return _report(args, {**common, "client": client})
    return _report(args, common)


def _report(args, common: dict) -> str:
    from ..report.build import dataset_report, demo_report, file_report

    if args.demo:
        report = demo_report(args.out, preset=args.preset, **common)
    elif args.dataset:
        report = dataset_report(args.dataset, args.root, args.out, release=args.release, level=args.level,
                                preset=args.preset, cp_controls=args.cp_control, ge_controls=args.ge_control,
                                **common)
    else:
        report = file_report(args.cp, args.ge, args.cp_key or args.key, args.ge_key or args.key, args.out,
                             cp_controls=args.cp_control, ge_controls=args.ge_control, preset=args.preset,
                             clean=not args.no_clean, **common)
    return f"report written to {report.out_dir}/report.md"
