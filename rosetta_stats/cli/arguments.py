"""Argument types and the reading and writing the commands share (no statistics here)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

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
    from ..data.controls import ControlSpec

    if not text:
        return None
    ((column, values),) = _parse_control(text).items()
    return ControlSpec(column, tuple(values))


# ----------------------------------------------------------------------------- reading inputs

def read_table(path: str | Path, key_columns=()) -> pd.DataFrame:
    """A CSV (or .csv.gz) with named errors: missing, a folder, empty, truncated, not UTF-8, repeated columns."""
    from ..data.read import _read_table

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
    from ..bridge.database_tables import PostgresTable, SQLiteTable

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
    from ..results.folders import write_results
    from ..results.output_folder import write_file_output

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
    from ..results.folders import json_safe

    return json.dumps(json_safe(summary), indent=2, allow_nan=False).encode()
