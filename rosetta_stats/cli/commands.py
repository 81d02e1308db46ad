"""One function per subcommand: call the API, write the results folder, return the summary to print."""
from __future__ import annotations

from pathlib import Path

from .arguments import (
    _control_spec,
    _parse_control,
    _read_population,
    _split,
    _summary_json,
    _write_table_output,
    read_table,
)

# ----------------------------------------------------------------------------- commands

def _features(args, columns):
    from ..data.features import parse_feature_spec

    return parse_feature_spec(args.features, columns, args.modality)


def _cmd_aggregate(args) -> str:
    from ..bridge.cytominer import aggregate

    population, columns = _read_population(args)
    features = _features(args, columns)
    out = aggregate(population, features, _split(args.strata), args.operation)
    where = _write_table_output(args, "aggregated", out)
    return f"aggregated {len(features)} features into {len(out)} rows -> {where}"


def _cmd_normalize(args) -> str:
    from ..bridge.cytominer import normalize

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
    from ..bridge.cytominer import select_features

    population, columns = _read_population(args)
    features = _features(args, columns)
    options = {"cutoff": args.cutoff} if args.cutoff is not None else {}
    out = select_features(population, features, operation=args.operation, **options)
    dropped = out.attrs.get("dropped_features")
    where = _write_table_output(args, "selected", out.copy(), {"dropped_features": dropped})
    n_dropped = 0 if dropped is None else len(dropped)
    return f"kept {len(features) - n_dropped} of {len(features)} features -> {where}"


def _load_dataset_profiles(args):
    from ..data.read import load_profiles

    if args.modality not in ("cp", "ge"):
        raise ValueError("--dataset needs --modality cp or ge")
    return load_profiles(args.dataset, args.modality, args.level, root=args.root, release=args.release,
                         controls=_parse_control(args.control) if args.control else None)


def _cmd_replicates(args) -> str:
    from ..results.folders import write_results
    from ..stats.average_precision import mean_average_precision
    from ..stats.replicates import replicate_reproducibility

    if args.dataset:
        profiles = _load_dataset_profiles(args)
        perturbation = args.perturbation or profiles.perturbation
        if args.features != "auto":
            from ..data.features import parse_feature_spec
            profiles = profiles.with_data(profiles.data, features=parse_feature_spec(
                args.features, list(profiles.data.columns), profiles.modality))
        subject, source, inputs = profiles, f"{args.dataset} ({args.release} release, {profiles.modality})", ()
        controls = None
    else:
        if not args.input or not args.perturbation:
            raise ValueError("give an input file and --perturbation, or --dataset NAME --modality cp|ge --root DIR")
        frame = read_table(args.input, key_columns=[args.perturbation])
        from ..data.profiles import Profiles
        from ..data.controls import resolve_controls

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
    from ..data.pairing import load_paired, read_paired

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
    from ..results.folders import write_results
    from ..stats.predictability import feature_predictability, gene_predictability

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
    from ..results.folders import write_results
    from ..stats.correlation import canonical_correlation, feature_gene_correlation, similarity_concordance

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
    from ..report.figures import moa_f1_bars
    from ..results.folders import write_results
    from ..stats.moa_prediction import moa_prediction

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
    from ..bridge.plate_profiles import profile_plate
    from ..results.folders import write_results

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
    from ..data.registry import LISTING_DATE, human_size, list_files

    table = list_files(args.dataset, release=args.release)
    shown = table[["dataset", "modality", "file", "human_size", "etag"]].rename(columns={"human_size": "size"})
    if args.release == "curated":
        return shown.to_string(index=False) + f"\n{len(table)} files (sizes and ETags not published)"
    total = human_size(int(table["size"].sum()))
    return (shown.to_string(index=False) + f"\n{len(table)} files, {total} in all (sizes and ETags as listed "
            f"on {LISTING_DATE}; the files were rewritten since, downloads check the bucket's current ETags)")


def _cmd_datasets_info(args) -> str:
    from ..data.registry import get_dataset

    return get_dataset(args.dataset).describe()


def _cmd_datasets_download(args) -> str:
    from ..data.download import download_dataset
    from ..data.registry import BUCKET_URL

    paths = download_dataset(args.dataset, _split(args.files) or None, dest=args.dest,
                             base_url=args.base_url or BUCKET_URL, progress=not args.quiet, release=args.release)
    return "\n".join(f"verified {p}" for p in paths)


def _cmd_report(args) -> str:
    from ..report.build import dataset_report, demo_report, file_report

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
