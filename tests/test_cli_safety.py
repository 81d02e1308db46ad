"""The command line on bad input, faults and other people's files: one line, exit 2, nothing lost."""
from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

import rosetta_stats as rs
from rosetta_stats import cli
from rosetta_stats.cli import main


@pytest.fixture()
def wells_csv(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 6)), columns=[f"Cells_f{i}" for i in range(6)])
    frame.insert(0, "pert", np.repeat([f"p{i}" for i in range(10)], 4))
    frame.insert(1, "pert_type", np.where(np.arange(40) < 8, "control", "trt"))
    path = tmp_path / "wells.csv"
    frame.to_csv(path, index=False)
    return path


def run(capsys, *argv):
    code = main(list(map(str, argv)))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line_error(err: str, *needles: str) -> None:
    lines = [line for line in err.splitlines() if line.strip() and "%|" not in line]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_user_files_in_the_output_folder_are_never_touched(wells_csv, tmp_path, capsys):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("years of work")
    code, _, err = run(capsys, "replicates", wells_csv, "--perturbation", "pert", "--out", out)
    assert code == 2
    one_line_error(err, "did not write", "chapter1.tex")
    assert [p.name for p in out.iterdir()] == ["chapter1.tex"]
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    code, _, err = run(capsys, "replicates", wells_csv, "--perturbation", "pert", "--out", a_file)
    assert code == 2 and a_file.read_text() == "mine"
    one_line_error(err, "is a file")


def test_report_refuses_a_busy_folder_before_working(tmp_path, capsys, monkeypatch):
    (tmp_path / "data.csv").write_text("x\n1\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "report", "--demo", "--out", ".", "--quiet")
    assert code == 2
    one_line_error(err, "did not write", "data.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_rerunning_into_our_own_folder_needs_overwrite(wells_csv, tmp_path, capsys):
    out = tmp_path / "rep"
    argv = ["replicates", wells_csv, "--perturbation", "pert", "--n-null", "50", "--out", out, "--quiet"]
    assert run(capsys, *argv)[0] == 0
    code, _, err = run(capsys, *argv)
    assert code == 2
    one_line_error(err, "--overwrite")
    assert run(capsys, *argv, "--overwrite")[0] == 0
    tables, manifest = rs.read_results(out)
    assert set(tables) == {"replicate_reproducibility"} and (out / "summary.json").is_file()


@pytest.mark.parametrize("argv,needle", [
    (["--n-null", "0"], "--n-null must be at least 1"),
    (["--seed", "-1"], "--seed must be at least 0"),
    (["--n-null", "many"], "must be a whole number"),
    (["--percentile", "100"], "between 0 and 100"),
])
def test_numbers_are_checked(wells_csv, tmp_path, capsys, argv, needle):
    code, _, err = run(capsys, "replicates", wells_csv, "--perturbation", "pert", "--out", tmp_path / "o", *argv)
    assert code == 2
    one_line_error(err, needle)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv,needle", [
    (["--permutations", "-1"], "--permutations must be at least 0"),
    (["--top-k", "0"], "--top-k must be at least 1"),
    (["--components", "0"], "--components must be at least 1"),
    (["--components", "50"], "--components 50 exceeds what the data allow"),
])
def test_pair_command_numbers_are_checked(tmp_path, capsys, argv, needle):
    sim = rs.simulate_paired(n_perturbations=40, n_replicates=2, n_cp_features=8, n_genes=6, seed=1)
    sim.cp.to_csv(tmp_path / "cp.csv", index=False)
    sim.ge.to_csv(tmp_path / "ge.csv", index=False)
    code, _, err = run(capsys, "correlate", "--cp", tmp_path / "cp.csv", "--ge", tmp_path / "ge.csv",
                       "--cp-key", "Metadata_broad_sample", "--ge-key", "pert_id", "--out", tmp_path / "o", *argv)
    assert code == 2
    one_line_error(err, needle)


def test_bad_input_files_are_named(tmp_path, capsys, wells_csv):
    cases = {}
    folder = tmp_path / "a_folder"
    folder.mkdir()
    cases[folder] = "is a folder"
    truncated = tmp_path / "cut.csv.gz"
    truncated.write_bytes(gzip.compress(wells_csv.read_bytes())[:300])
    cases[truncated] = "truncated or corrupted"
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    cases[empty] = "empty.csv is empty"
    header_only = tmp_path / "header.csv"
    header_only.write_text("pert,Cells_a,Cells_b\n")
    cases[header_only] = "header but no rows"
    latin = tmp_path / "latin.csv"
    latin.write_bytes("pert,Cells_a\ncaf\xe9,1.0\ncaf\xe9,2.0\n".encode("latin-1"))
    cases[latin] = "not UTF-8"
    duplicated = tmp_path / "dup.csv"
    duplicated.write_text("pert,Cells_a,Cells_a\np,1,2\np,3,4\n")
    cases[duplicated] = "repeats column name(s): Cells_a"
    cases[tmp_path / "missing.csv"] = "not found"
    for path, needle in cases.items():
        code, _, err = run(capsys, "replicates", path, "--perturbation", "pert", "--out", tmp_path / "o")
        assert code == 2, path
        one_line_error(err, needle)
    code, _, err = run(capsys, "replicates", wells_csv, "--perturbation", "pert", "--control", "pert_typ=control",
                       "--out", tmp_path / "o")
    assert code == 2
    one_line_error(err, "'pert_typ' (did you mean 'pert_type'?)")
    assert not (tmp_path / "o").exists()


def test_controls_are_left_out_of_the_statistics(wells_csv, tmp_path, capsys):
    out = tmp_path / "rep"
    assert run(capsys, "replicates", wells_csv, "--perturbation", "pert", "--control", "pert_type=control",
               "--n-null", "50", "--out", out)[0] == 0
    table = pd.read_csv(out / "replicate_reproducibility.csv")
    assert set(table["perturbation"]) == {f"p{i}" for i in range(2, 10)}
    assert run(capsys, "replicates", wells_csv, "--perturbation", "pert", "--control", "pert_type=control",
               "--include-controls", "--n-null", "50", "--out", tmp_path / "all")[0] == 0
    assert len(pd.read_csv(tmp_path / "all" / "replicate_reproducibility.csv")) == 10


def test_integer_keys_with_a_gap_stay_integers(tmp_path, capsys):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.normal(size=(9, 4)), columns=[f"Cells_{i}" for i in range(4)])
    frame.insert(0, "plate_key", [1, 1, 1, 2, 2, 2, None, 3, 3])
    frame.to_csv(tmp_path / "k.csv", index=False)
    assert run(capsys, "replicates", tmp_path / "k.csv", "--perturbation", "plate_key", "--n-null", "20",
               "--out", tmp_path / "o")[0] == 0
    assert pd.read_csv(tmp_path / "o" / "replicate_reproducibility.csv", dtype=str)["perturbation"].tolist() == \
        ["1", "2", "3"]


def test_global_options_work_after_the_subcommand_and_interrupts_are_one_line(wells_csv, tmp_path, capsys,
                                                                              monkeypatch):
    code, _, err = run(capsys, "replicates", wells_csv, "--perturbation", "pert", "--n-null", "20",
                       "--out", tmp_path / "o", "--quiet")
    assert code == 0 and "%|" not in err

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_replicates", interrupted)
    parser_runs = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda: _with_run(parser_runs(), interrupted))
    code, _, err = run(capsys, "replicates", wells_csv, "--perturbation", "pert", "--out", tmp_path / "p")
    assert code == 2
    one_line_error(err, "interrupted")
    with pytest.raises(KeyboardInterrupt):
        main(["replicates", str(wells_csv), "--perturbation", "pert", "--out", str(tmp_path / "q"), "--debug"])


def _with_run(parser, function):
    for action in parser._subparsers._group_actions:
        for sub in action.choices.values():
            sub.set_defaults(run=function)
    return parser


def test_help_shows_defaults(capsys):
    assert main(["replicates", "--help"]) == 0
    assert "(default: 1000)" in capsys.readouterr().out


def test_sqlite_files_with_awkward_names(tmp_path):
    import sqlite3

    path = tmp_path / "plate #1 %41?.sqlite"
    with sqlite3.connect(path) as con:
        con.execute('CREATE TABLE "odd ""name" (a REAL, "Cells_x" REAL)')
    table = rs.SQLiteTable(path, 'odd "name')
    assert table.columns() == ["a", "Cells_x"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plate #1 %41?.sqlite"]  # no stray database


def _warns_then_fails(args):
    import warnings
    warnings.warn("first line\n  second line (include_controls=True scores them)", UserWarning)
    raise ValueError("fewer groups (3) than folds (n_splits=5); use n_splits=3 or fewer")


@pytest.mark.parametrize("quiet", [False, True])
def test_warnings_are_one_line_each_in_flags_and_silent_when_quiet(monkeypatch, capsys, tmp_path, quiet):
    monkeypatch.setattr(cli, "cmd_replicates", _warns_then_fails)
    argv = ["replicates", "x.csv", "--perturbation", "p", "--out", tmp_path / "o"] + (["--quiet"] if quiet else [])
    code, _, err = run(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    warning = [line for line in lines if ": warning:" in line]
    error = [line for line in lines if ": error:" in line]
    assert len(lines) == (1 if quiet else 2) and len(error) == 1
    assert error[0].endswith("fewer groups (3) than folds (--splits 5); use --splits 3 or fewer")
    if not quiet:
        assert warning == ["rosetta-stats replicates: warning: first line second line (--include-controls scores them)"]


def test_too_many_folds_names_the_flag(tmp_path, capsys):
    sim = rs.simulate_paired(n_perturbations=12, n_replicates=2, n_cp_features=6, n_genes=4, seed=0)
    sim.cp.to_csv(tmp_path / "cp.csv", index=False)
    sim.ge.to_csv(tmp_path / "ge.csv", index=False)
    code, _, err = run(capsys, "predict-genes", "--cp", tmp_path / "cp.csv", "--ge", tmp_path / "ge.csv",
                       "--cp-key", "Metadata_broad_sample", "--ge-key", "pert_id", "--splits", "40",
                       "--out", tmp_path / "o", "--quiet")
    assert code == 2
    one_line_error(err, "than folds (--splits 40)", "use --splits")
    assert not (tmp_path / "o").exists()


def test_as_flags_translates_only_api_arguments():
    assert cli.as_flags("pass overwrite=True to replace") == "pass --overwrite to replace"
    assert cli.as_flags("seed=3, n_null=200, include_controls=False") == "--seed 3, --n-null 200, no --include-controls"
    assert cli.as_flags("Metadata_dose=10 and my_n_splits=3") == "Metadata_dose=10 and my_n_splits=3"


def test_a_truncated_plain_csv_stops_naming_the_line(tmp_path, capsys, wells_csv):
    text = wells_csv.read_text()
    cut = tmp_path / "cut.csv"
    cut.write_text(text[: text.rstrip("\n").rfind(",")])  # the last row loses its last field
    n_lines = cut.read_text().count("\n") + 1
    code, _, err = run(capsys, "replicates", cut, "--perturbation", "pert", "--out", tmp_path / "o", "--quiet")
    assert code == 2
    one_line_error(err, f"cut.csv: line {n_lines} has 7 of the header's 8 fields")
    assert not (tmp_path / "o").exists()


def test_a_second_command_into_a_results_folder_needs_overwrite_and_deletes_nothing(wells_csv, tmp_path, capsys):
    out = tmp_path / "res"
    assert run(capsys, "replicates", wells_csv, "--perturbation", "pert", "--n-null", "50", "--out", out,
               "--quiet")[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, _, err = run(capsys, "retrieval", wells_csv, "--perturbation", "pert", "--control", "pert_type=control",
                       "--n-null", "50", "--out", out, "--quiet")
    assert code == 2
    one_line_error(err, "already holds results (replicate_reproducibility)", "--overwrite")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
