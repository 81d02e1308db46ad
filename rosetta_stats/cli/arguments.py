"""Argument types and the reading and writing the commands share (no statistics here)."""
from __future__ import annotations

import argparse
from pathlib import Path

# ----------------------------------------------------------------------------- argument types

def integer(minimum: int, what: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number; got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{what} must be at least {minimum}; got {value}")
        return value
    return parse


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number; got {text!r}") from None
    if not 0 < value < 100:
        raise argparse.ArgumentTypeError(f"must lie between 0 and 100; got {value}")
    return value


def split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def control_rule(text: str | None):
    """``COLUMN=VALUE[,VALUE]``, checked here so a malformed flag fails at once; the matcher reads the text
    as a rule the user named (its column must exist, and it must mark a row)."""
    if not text:
        return None
    from ..common.matching import as_control_rules

    try:
        as_control_rules(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must look like COLUMN=VALUE[,VALUE]; got {text!r}") from None
    return text


# ----------------------------------------------------------------------------- writing outputs

def check_out(args, tables, extra=()) -> None:
    """Refuse the output before any work: a folder we may not write (or a CSV that exists) stops the run now."""
    from ..results.output_folder import check_output

    out = Path(args.out)
    if out.name.endswith((".csv", ".csv.gz")):
        if out.is_dir():
            raise ValueError(f"{out} is a folder; name a file")
        if out.exists() and not args.overwrite:
            raise ValueError(f"{out} exists; pass --overwrite to replace it")
        return
    planned = [f"{t}.{ext}" for t in tables for ext in ("csv", "rds")] + list(extra) + ["manifest.json"]
    check_output(out, planned, args.overwrite)


def write_table_output(args, name: str, result) -> str:
    """``--out x.csv``: that one CSV; any other ``--out``: a results folder with the table(s) and a manifest."""
    from ..results.folders import write_results
    from ..results.output_folder import write_file_output

    out = Path(args.out)
    table = getattr(result, "table", result)
    if out.name.endswith((".csv", ".csv.gz")):
        compression = "gzip" if out.name.endswith(".gz") else None
        write_file_output(lambda tmp: table.to_csv(tmp, index=False, compression=compression), out,
                          overwrite=args.overwrite)
        return str(out)
    write_results({name: result}, out, overwrite=args.overwrite)
    names = [name, *getattr(result, "tables", {})]
    return f"{out}/ ({', '.join(f'{k}.csv' for k in names)}, RDS twins, manifest.json)"


def summary_json(summary: dict) -> bytes:
    import json

    from ..results.folders import json_safe

    return json.dumps(json_safe(summary), indent=2, allow_nan=False).encode()
