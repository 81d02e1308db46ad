"""The house plan: stages import downwards only, statistics never import each other, one rpy2 boundary,
and every concept in one home (one matcher, one result shape, no private names across modules)."""
from __future__ import annotations

import ast
import subprocess
import sys
import warnings

import pandas as pd
import pytest

import rosetta_stats as rs
from tests.conftest import REPO

PACKAGE = REPO / "rosetta_stats"
MACHINERY = {"core", "kernels"}  # what every statistic shares
# the statistics: every module under stats/ outside the machinery (a package counts as one statistic)
STATISTICS = sorted({p.relative_to(PACKAGE / "stats").parts[0].removesuffix(".py")
                     for p in (PACKAGE / "stats").rglob("*.py")} - MACHINERY - {"__init__"})
# a stage may import itself and the stages listed after it, never one before it
STAGE_MAY_IMPORT = {
    "common": {"common"},
    "data": {"common", "data", "bridge"},  # parquet is read through R
    "bridge": {"common", "bridge"},
    "simulate": {"common", "data", "bridge", "simulate"},
    "stats": {"common", "data", "stats"},
    "analyses": {"common", "data", "bridge", "stats", "analyses"},  # limma is called through R
    "interop": {"common", "data", "bridge", "simulate", "stats", "analyses", "results", "interop"},
    "results": {"common", "bridge", "results"},
    "report": {"common", "data", "bridge", "simulate", "stats", "analyses", "results", "report"},
}


def _imports(path):
    """(module imported, at run time?) for every relative import of a package file, as dotted names."""
    parts = path.relative_to(REPO).with_suffix("").parts
    package = parts[:-1]
    tree = ast.parse(path.read_text())
    type_only = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            type_only |= {id(n) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            target = ".".join(base + tuple((node.module or "").split(".") if node.module else ()))
            names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            for name in names:
                yield name, id(node) not in type_only


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def test_stages_import_only_downstream_stages():
    wrong = []
    for path in _modules():
        stage = path.relative_to(PACKAGE).parts[0]
        if stage not in STAGE_MAY_IMPORT:
            continue  # __init__.py, cli.py, version.py sit on top
        for target, _ in _imports(path):
            parts = target.split(".")
            if len(parts) > 1 and parts[1] in STAGE_MAY_IMPORT and parts[1] not in STAGE_MAY_IMPORT[stage]:
                wrong.append(f"{path.relative_to(REPO)} imports {target}")
    assert not wrong, wrong


def test_the_statistics_are_found_not_listed():
    assert {"replicates", "retrieval", "prediction", "correlation", "reproducible_sets"} <= set(STATISTICS)


def test_no_statistic_imports_another_at_run_time():
    wrong = []
    for path in (PACKAGE / "stats").rglob("*.py"):
        name = path.relative_to(PACKAGE / "stats").parts[0].removesuffix(".py")
        if name not in STATISTICS:
            continue
        for target, at_run_time in _imports(path):
            leaf = target.split(".")[2] if target.count(".") >= 2 else ""
            if at_run_time and leaf in STATISTICS and leaf != name:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert not wrong, wrong


def test_no_module_imports_another_modules_private_name():
    wrong = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                own_modules = {p.name.split(".")[0] for p in path.parent.iterdir()}  # a private module of its own
                wrong += [f"{path.relative_to(REPO)}: {a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__") and a.name not in own_modules]
    assert not wrong, wrong


def test_only_the_matcher_parses_control_rules():
    """Control rules are parsed and matched in common/matching.py alone: nobody else compares a column with
    control values or splits COLUMN=VALUE."""
    home = PACKAGE / "common" / "matching.py"
    wrong = []
    for path in _modules():
        if path == home:
            continue
        text = path.read_text()
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in (
                    "rows_matching", "ControlSpec", "ControlRules", "as_control_rules", "resolve_controls"):
                wrong.append(f"{path.relative_to(REPO)} defines {node.name}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "partition" \
                    and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == "=":
                wrong.append(f"{path.relative_to(REPO)} splits COLUMN=VALUE itself (line {node.lineno})")
    assert not wrong, wrong


def test_every_statistic_returns_a_result():
    """Every public function whose module is a statistic is annotated to return a Result subclass."""
    import inspect
    import typing

    wrong = []
    for name in rs.__all__:
        value = getattr(rs, name)
        module = getattr(value, "__module__", "")
        parts = module.split(".")
        if not inspect.isfunction(value) or len(parts) < 3 or parts[1] != "stats" or parts[2] in MACHINERY:
            continue
        hints = typing.get_type_hints(inspect.unwrap(value))
        returned = hints.get("return")
        if not (inspect.isclass(returned) and issubclass(returned, rs.Result)):
            wrong.append(f"{name} returns {returned}")
    assert not wrong, wrong


def test_no_import_cycle_between_modules():
    graph = {}
    for path in _modules():
        name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        graph[name] = {t for t, run in _imports(path) if run}
    modules = set(graph)

    def resolve(target):  # "pkg.mod.symbol" -> the module it lives in
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target

    state = {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in {resolve(t) for t in graph.get(node, ())} - {"", "rosetta_stats", node}:
            if state.get(nxt) == "open":
                pytest.fail("import cycle: " + " -> ".join(trail + [nxt]))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_only_the_bridge_imports_rpy2():
    users = sorted(str(p.relative_to(PACKAGE)) for p in _modules() if "rpy2" in p.read_text()
                   and any(line.strip().startswith(("import rpy2", "from rpy2")) for line in p.read_text().splitlines()))
    assert users == ["bridge/r_session.py"]


def test_import_works_without_rpy2():
    code = ("import sys; sys.modules['rpy2'] = None\n"
            "import rosetta_stats as rs\n"
            "assert not rs.r_available()\n"
            "print(len(rs.__all__))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == len(rs.__all__)


def test_every_public_name_resolves():
    missing = [n for n in rs.__all__ if not hasattr(rs, n)]
    assert not missing


def test_old_spellings_warn_and_give_the_same_result():
    frame = pd.DataFrame({"pert": ["a", "a", "b", "b"], "Cells_x": [1.0, 3.0, 5.0, 9.0]})
    profiles = rs.Profiles.from_frame(frame, "cp", perturbation="pert")
    new = rs.treatment_level(profiles, perturbation="pert")
    with pytest.warns(DeprecationWarning, match="key= is deprecated, use perturbation="):
        old = rs.treatment_level(profiles, key="pert")
    pd.testing.assert_frame_equal(new.data, old.data)
    assert new.data["Cells_x"].tolist() == [2.0, 7.0]
    with pytest.raises(TypeError, match="both key="):
        rs.treatment_level(profiles, key="pert", perturbation="pert")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rs.treatment_level(profiles)  # the new spelling never warns


def test_every_result_has_one_shape():
    sim = rs.simulate_paired(n_perturbations=40, n_replicates=2, n_cp_features=8, n_genes=6, seed=0)
    cp, ge = sim.to_profiles()
    paired = rs.pair(rs.treatment_level(cp), rs.treatment_level(ge))
    reps = rs.replicate_reproducibility(cp, n_null=50)
    results = [
        reps, rs.mean_average_precision(cp, n_null=20),
        rs.reproducible_sets(reps, rs.replicate_reproducibility(ge, n_null=50)),
        rs.feature_gene_correlation(paired),
        rs.gene_predictability(paired, n_permutations=5),
        rs.canonical_correlation(paired, n_components=2, n_pcs=3, n_permutations=5),
        rs.similarity_concordance(paired, n_permutations=5),
        paired,
    ]
    for result in results:
        assert isinstance(result.table, pd.DataFrame), type(result)
        assert isinstance(result.notes, tuple), type(result)
        assert isinstance(result.summary(), str) and result.summary(), type(result)
        if not isinstance(result, rs.PairedProfiles):
            assert isinstance(result, rs.Result), type(result)
            assert isinstance(result.settings, dict) and isinstance(result.estimates, dict), type(result)
            assert "notes" not in result.parameters, type(result)
    genes = results[3]
    assert any("paired on" in n or "negative controls" in n for n in genes.notes)  # pairing's notes travel on
