"""What every benchmark shares: measurements in fresh processes and one line per target.

A measurement runs in a child process of its own (the script re-invoked with
``--measure NAME``), so each reports its own wall time and peak resident
memory and none inherits another's heap. A target line reads

    target | <name> | ours 7.1 s, 2.3 GB | baseline 9.8 s, 3.9 GB | ratio 0.72 (needs <= 1.5) | holds

and ``benchmarks/run_all.py`` collects those lines into the final verdict.
Nothing here is asserted by the tests: times depend on the machine.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_PREFIX = "target |"


def peak_gb() -> float:
    """This process's peak resident memory so far, in GB.

    Read from the kernel's high-water mark of this process's own memory
    (``VmHWM``): ``ru_maxrss`` would also count what the parent held when it
    started the child (Linux carries it across fork and exec), so a child
    started by a parent that had just written gigabytes of files reported
    the parent's peak as its own.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e9
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def measure(script: str, name: str, *args) -> dict:
    """Run ``script --measure name args`` in a fresh process; its result dict (seconds, peak_gb, value...)."""
    command = [sys.executable, script, "--measure", name, *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"measurement {name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(lines[-1])


def child(measurements: dict) -> bool:
    """In a child process: run the measurement named after ``--measure`` and print its result as JSON.

    ``measurements[name](*args)`` returns (prepare, run): prepare() builds the
    input (not timed), run(input) is timed and returns a JSON-able value.
    Returns False in the parent process (no ``--measure`` argument).
    """
    if "--measure" not in sys.argv:
        return False
    at = sys.argv.index("--measure")
    name, args = sys.argv[at + 1], sys.argv[at + 2:]
    prepare, run = measurements[name](*args)
    data = prepare()
    before = peak_gb()
    start = time.perf_counter()
    value = run(data)
    seconds = time.perf_counter() - start
    # a measurement that runs another program (R's fread) counts that program's peak as its own
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6
    print(json.dumps({"seconds": seconds, "peak_gb": max(peak_gb(), children), "input_peak_gb": before,
                      "value": value}))
    return True


def target(name: str, ours: dict, baseline: dict, most: float | None = None, least: float | None = None,
           memory_most: float | None = None) -> bool:
    """Print the target line: time ratio ours/baseline within [least, most], peak ratio within memory_most."""
    ratio = ours["seconds"] / baseline["seconds"]
    holds = (most is None or ratio <= most) and (least is None or ratio >= least)
    need = [f"<= {most:g}" if most is not None else "", f">= {least:g}" if least is not None else ""]
    text = (f"{TARGET_PREFIX} {name} | ours {ours['seconds']:.2f} s, {ours.get('peak_gb', float('nan')):.2f} GB"
            f" | baseline {baseline['seconds']:.2f} s, {baseline.get('peak_gb', float('nan')):.2f} GB"
            f" | time ratio {ratio:.3g} (needs {' and '.join(n for n in need if n)})")
    if memory_most is not None:
        memory = ours["peak_gb"] / baseline["peak_gb"]
        holds = holds and memory <= memory_most
        text += f" | peak ratio {memory:.2f} (needs <= {memory_most:g})"
    print(f"{text} | {'holds' if holds else 'misses'}", flush=True)
    return holds


def absolute_target(name: str, value: float, most: float, unit: str = "s", detail: str = "") -> bool:
    """Print a target line for a quantity with an absolute bound (e.g. under 60 s)."""
    holds = value <= most
    extra = f" | {detail}" if detail else ""
    print(f"{TARGET_PREFIX} {name} | {value:.2f} {unit} (needs <= {most:g} {unit}){extra} | "
          f"{'holds' if holds else 'misses'}", flush=True)
    return holds
