"""Measure the wall time of the paper's sweep (figures, not assertions).

The sweep behind the paper's table: 8 benchmarks on every task; tpe,
best-first, t2pe, best-first+t2pe, only-new, drop-unimportant; b_old 10, 20,
40. This script runs it with ``--seeds`` seeds (default 2) once per worker
count into a temporary folder, prints the wall time and the CPU time the
units reported, and extrapolates both to 25 seeds (the reference targets are
computed once per task whatever the seeds, so they are not scaled). On a
machine shared with other work the wall times grow with the load; the CPU
times do not.

A finished sweep can be measured without rerunning it:

    .venv/bin/python scripts/bench_sweep_time.py --results benchmarks/results/paper

Run:

    .venv/bin/python scripts/bench_sweep_time.py --seeds 2 --workers 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from hptaa_lab.benchmarks import protocol
from hptaa_lab.benchmarks._sweep import SweepConfig, run_sweep

FULL_SEEDS = 25


def from_results(folder: Path) -> None:
    """Print the CPU time of a finished sweep's units and what it implies."""
    rows = []
    with (folder / "results.jsonl").open() as stream:
        for line in stream:
            rows.extend(json.loads(line)["rows"])
    frame = pd.DataFrame(rows)
    cpu = frame["cpu_seconds"].sum()
    wall = frame["seconds"].sum()
    print(
        f"{folder}: {len(frame)} runs; units took {cpu:.0f} s of CPU "
        f"({wall:.0f} s of wall time inside the workers)"
    )
    print(
        f"implied wall time: 1 worker ~{cpu / 60:.1f} min, 2 workers "
        f"~{cpu / 120:.1f} min on two free cores (plus the reference runs)"
    )


def measure(seeds: int, workers: int) -> None:
    """Run the paper sweep with ``seeds`` seeds on ``workers`` and report."""
    config = SweepConfig.create(None, protocol.PAPER_METHODS, (10, 20, 40), seeds)
    with tempfile.TemporaryDirectory() as folder:
        load = os.getloadavg()[0]
        started = time.perf_counter()
        frame = run_sweep(config, out=folder, workers=workers)
        wall = time.perf_counter() - started
        targets_started = time.perf_counter()
        run_sweep(config, out=folder, workers=workers)  # all done: outputs only
        outputs = time.perf_counter() - targets_started
    cpu = frame["cpu_seconds"].sum()
    scaled = (wall - outputs) * FULL_SEEDS / seeds
    print(
        f"{workers} workers, {seeds} seeds: wall {wall:.0f} s (load average "
        f"{load:.1f} at the start), unit CPU {cpu:.0f} s; 25 seeds: about "
        f"{scaled / 60:.1f} min wall, {cpu * FULL_SEEDS / seeds / 60:.1f} min unit CPU"
    )


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--results", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.results is not None:
        from_results(args.results)
        return 0
    for workers in args.workers:
        measure(args.seeds, workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
