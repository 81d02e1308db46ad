"""Generated hostile inputs, many at a time: each must end in a result or in one named error, never a
traceback, and nothing outside the run's own output may change. Each battery prints its closing count.

* profile files: a valid wells CSV cut at random offsets, with random bytes flipped, lines duplicated or
  dropped, cells replaced by text, columns renamed, BOM and CRLF variants, read by the command line;
* manifests: a valid manifest mutated at random (values of the wrong type, keys removed, names with
  ``..`` or links, sizes changed, deep nesting), read by ``read_results`` and written into.
"""
from __future__ import annotations

import copy
import json
import random

import numpy as np
import pandas as pd
import pytest

from rosetta_stats.cli import main
from rosetta_stats.results import folders
from rosetta_stats.results.output_folder import OutputError

pytestmark = pytest.mark.slow


def _valid_csv(rng: np.random.Generator) -> bytes:
    perts = np.r_[np.repeat([f"p{i}" for i in range(10)], 3), ["DMSO"] * 6]
    frame = pd.DataFrame(rng.normal(size=(len(perts), 5)), columns=[f"Cells_f{i}" for i in range(5)])
    frame.insert(0, "pert", perts)
    frame.insert(1, "kind", np.where(perts == "DMSO", "control", "trt"))
    return frame.to_csv(index=False).encode()


def _mutate_csv(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    kind = rng.randrange(9)
    if kind == 0:  # cut anywhere
        return data[: rng.randrange(1, len(data))]
    if kind == 1:  # flip bytes
        out = bytearray(data)
        for _ in range(rng.randrange(1, 6)):
            out[rng.randrange(len(out))] = rng.randrange(256)
        return bytes(out)
    if kind == 2:  # duplicate or drop a line
        i = rng.randrange(1, len(lines) - 1)
        return b"\n".join(lines[:i] + ([lines[i]] * 2 if rng.random() < 0.5 else []) + lines[i + 1:])
    if kind == 3:  # a cell becomes text
        i = rng.randrange(1, len(lines) - 1)
        cells = lines[i].split(b",")
        cells[rng.randrange(len(cells))] = rng.choice([b"n/a", b"abc", b"1e999", b"--", b'"x,y"'])
        lines[i] = b",".join(cells)
        return b"\n".join(lines)
    if kind == 4:  # the header changes
        header = lines[0].split(b",")
        header[rng.randrange(len(header))] = rng.choice([b"pert", b"", b"Cells_f0", b"kind"])
        return b"\n".join([b",".join(header)] + lines[1:])
    if kind == 5:
        return b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n")
    if kind == 6:  # an extra field on one row
        i = rng.randrange(1, len(lines) - 1)
        lines[i] += b",7"
        return b"\n".join(lines)
    if kind == 7:  # a huge field
        i = rng.randrange(1, len(lines) - 1)
        cells = lines[i].split(b",")
        cells[0] = b"p" * 100_000
        lines[i] = b",".join(cells)
        return b"\n".join(lines)
    return b""


def test_hostile_profile_files_on_the_command_line(tmp_path, capsys):
    rng = random.Random(7)
    valid = _valid_csv(np.random.default_rng(0))
    outcomes = {"result": 0, "named error": 0}
    for i in range(120):
        folder = tmp_path / f"case{i}"
        folder.mkdir()
        source = folder / "wells.csv"
        source.write_bytes(_mutate_csv(valid, rng))
        code = main(["--quiet", "replicates", str(source), "--perturbation", "pert", "--control", "kind=control",
                     "--n-null", "20", "--out", str(folder / "out")])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, (i, captured.err)
        if code == 0:
            outcomes["result"] += 1
        else:
            assert code == 2, (i, code)
            lines = [line for line in captured.err.splitlines() if line.strip()]
            assert len(lines) == 1 and ": error: " in lines[0], (i, captured.err)
            assert not (folder / "out").exists(), i  # nothing half-written
            outcomes["named error"] += 1
        assert sorted(p.name for p in folder.iterdir()) in (["wells.csv"], ["out", "wells.csv"]), i
    print(f"\nhostile profile files: {outcomes} of 120")
    assert outcomes["named error"] > 20 and outcomes["result"] > 10


def _mutate_manifest(manifest: dict, rng: random.Random):
    m = copy.deepcopy(manifest)
    kind = rng.randrange(10)
    table = next(iter(m["tables"]))
    if kind == 0:
        m[rng.choice(["files", "tables", "sizes", "notes"])] = rng.choice([5, "x", None, [1], {"a": 1}])
    elif kind == 1:
        del m[rng.choice(["files", "tables", "package"])]
    elif kind == 2:
        m["files"][rng.choice(["../x.csv", "/etc/passwd", "a/../../b", "", "~/x"])] = "0" * 64
    elif kind == 3:
        m["tables"][table][rng.choice(["rows", "files", "columns"])] = rng.choice([-1, "3", None, [], {"csv": 5}])
    elif kind == 4:
        m["sizes"][rng.choice(list(m["sizes"]))] = rng.choice([0, 1, -5, 10 ** 12, "big"])
    elif kind == 5:
        m["tables"][table]["columns"][0] = rng.choice([{"name": 5}, {"type": "double"}, "col", None])
    elif kind == 6:
        nested = cursor = {}
        for _ in range(rng.randrange(40, 900)):  # json.dumps itself stops near 1000
            cursor["x"] = {}
            cursor = cursor["x"]
        m["notes"] = [nested]
    elif kind == 7:
        m["files"][rng.choice(list(m["files"]))] = rng.choice(["abc", 5, None, "G" * 64])
    elif kind == 8:
        m["tables"][table]["columns"][0]["missing_rows"] = rng.choice([[10 ** 6], [-1], "all", [0.5]])
    else:
        m = rng.choice([[], "manifest", 42, None])
    return m


def test_mutated_manifests_are_refused_by_name_and_never_written_through(tmp_path):
    table = pd.DataFrame({"gene": ["a", "b", "c"], "r2": [0.1, 0.2, 0.3], "note": ["x", None, ""]})
    rng = random.Random(11)
    outcomes = {"read": 0, "refused": 0}
    for i in range(150):
        out = folders.write_results({"genes": table}, tmp_path / f"res{i}")
        manifest = json.loads((out / "manifest.json").read_text())
        mutated = _mutate_manifest(manifest, rng)
        (out / "manifest.json").write_text(json.dumps(mutated))
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        try:
            folders.read_results(out)
            outcomes["read"] += 1
        except ValueError as exc:
            assert "\n" not in str(exc).strip(), str(exc)
            outcomes["refused"] += 1
        try:
            folders.write_results({"genes": table}, out)  # no overwrite: must refuse, whatever the manifest
        except (OutputError, ValueError):
            pass
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before, i
    print(f"\nmutated manifests: {outcomes} of 150")
    assert outcomes["refused"] > 100
