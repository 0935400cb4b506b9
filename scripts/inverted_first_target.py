"""Evaluations to one target over many seeds (the inverted suite's first target).

The issue's inverted-suite figure (mean evaluations-to-target of a method divided
by plain TPE's, over the same runs) moves by about 0.1 between blocks of 25 seeds
at the first target, where TPE needs about 10 evaluations. This script measures it
precisely: each run stops as soon as it reaches TPE's first target (the mean
incumbent of the reference TPE runs after 10 evaluations), so a thousand seeds
take minutes rather than hours. TPE runs once per seed (it does not depend on the
previous budget); every other method runs per previous budget.

Methods are names of ``hptaa_lab.transfer`` (``auto``, ``best-first+t2pe``...) or
``auto:KEY=VALUE[:KEY=VALUE]`` for auto with options, e.g. ``auto:floor=0``
(values are read as JSON).

Run: ``.venv/bin/python scripts/inverted_first_target.py --seeds 1000 --methods
auto,auto:floor=0`` (about 13 minutes per method on 2 cores; seeds start at 1000,
apart from the reported sweeps' 0-99 and the development seeds 100-199).

The same measurement serves the other suites and targets: ``--suite paper
--target 10 --budgets 20`` gives one cell of the paper grid (target 10 at b_old
20) over many seeds, printed also as the grid's speedup (TPE's mean evaluations
over the method's, per task; geometric mean over tasks, then benchmarks), e.g.
``--suite paper --seeds 100 --first-seed 100 --methods best-first+t2pe,auto``
(about 3 minutes per method and budget at target 10).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import multiprocessing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hptaa_lab.benchmarks import protocol
from hptaa_lab.benchmarks._base import get, names, tasks
from hptaa_lab.transfer import check_options, make_transfer

_CAP = 400
"""Evaluations after which a run counts as failed (as the protocol's failures)."""


def _parse(method: str) -> tuple[str, dict[str, Any]]:
    """``auto:floor=0:ties=null`` -> ("auto", {"floor": 0, "ties": None})."""
    name, *pairs = method.split(":")
    options = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(
                f"{method}: the value of {key} is read as JSON (0.3, null, true, "
                f'"text"); {value!r} is not'
            ) from None
    return name, options


def _speedup(mine: pd.Series, ref: pd.Series) -> tuple[float, dict[str, float]]:
    """The grid's speedup of runs indexed by (benchmark, task, seed) against
    TPE's: the ratio of mean evaluations per task, geometric mean over tasks,
    then over benchmarks; also per benchmark."""
    per_task = ref.groupby(level=[0, 1]).mean() / mine.groupby(level=[0, 1]).mean()
    log_ratio = pd.Series(np.log(per_task.to_numpy()), index=per_task.index)
    per_bench = log_ratio.groupby(level=0).mean().map(math.exp)
    each = {str(k): float(v) for k, v in per_bench.items()}
    return float(np.exp(np.log(per_bench.to_numpy()).mean())), each


def _run(job: tuple[str, str, str, int, int, float]) -> tuple[Any, ...]:
    method, name, task, previous_budget, seed, target = job
    logging.disable(logging.WARNING)
    bench = get(name, task)
    unit = protocol.Unit(name, task, previous_budget, seed, ("tpe",), (target,))
    previous = protocol.previous_trials(bench, unit)
    current_seed = protocol.derive_seed(seed, 1)
    if method == "tpe":
        sampler = protocol.make_method("tpe", bench, previous, current_seed)
    else:
        method_name, options = _parse(method)
        sampler = make_transfer(
            method_name,
            bench.current_space,
            previous,
            seed=current_seed,
            options=options,
        )
    for evaluation in range(1, _CAP + 1):
        proposal = sampler.ask()
        value = bench.current_objective(proposal.config)
        sampler.tell(proposal.config, value)
        if value <= target:
            return method, name, task, previous_budget, seed, evaluation
    return method, name, task, previous_budget, seed, _CAP


def _target(pair: tuple[str, str, int, int]) -> tuple[str, str, float]:
    name, task, reference_seeds, index = pair
    targets = protocol.compute_targets(name, task, reference_seeds=reference_seeds)
    return name, task, float(targets.values[index])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000, help="seeds (1000)")
    parser.add_argument("--first-seed", type=int, default=1000, help="first seed")
    parser.add_argument("--methods", default="auto", help="comma-separated (auto)")
    parser.add_argument("--workers", type=int, default=2, help="processes (2)")
    parser.add_argument("--reference-seeds", type=int, default=50)
    parser.add_argument("--out", default=None, help="CSV of every run")
    parser.add_argument("--suite", default="inverted", help="suite (inverted)")
    parser.add_argument(
        "--target",
        type=int,
        default=protocol.TARGET_BUDGETS[0],
        choices=protocol.TARGET_BUDGETS,
        help="budget of TPE whose mean incumbent is the target (10)",
    )
    parser.add_argument(
        "--budgets",
        default=",".join(map(str, protocol.PREVIOUS_BUDGETS)),
        help="previous budgets b_old, comma-separated (10,20,40)",
    )
    args = parser.parse_args()
    methods = [m for m in args.methods.split(",") if m and m != "tpe"]
    try:
        budgets = [int(b) for b in args.budgets.split(",") if b]
    except ValueError:
        parser.error(f"--budgets takes whole numbers, e.g. 10,20; got {args.budgets!r}")
    try:
        suite = names(args.suite)
        for method in methods:
            name, options = _parse(method)
            check_options(name, options)
    except ValueError as exc:
        parser.error(str(exc))
    if not methods:
        parser.error("--methods names no method besides tpe (e.g. --methods auto)")
    small = [
        f"--{flag.replace('_', '-')}"
        for flag in ("seeds", "reference_seeds", "workers")
        if getattr(args, flag) < 1
    ]
    if small or not budgets or min(budgets) < 1 or args.first_seed < 0:
        parser.error(
            "--seeds, --reference-seeds, --workers and every --budgets value must "
            "be at least 1, --first-seed at least 0"
            + (f" (got {', '.join(small)} below 1)" if small else "")
        )
    if args.out and not Path(args.out).resolve().parent.is_dir():
        parser.error(f"--out: the folder of {args.out} does not exist")
    index = protocol.TARGET_BUDGETS.index(args.target)
    pairs = [(n, t) for n in suite for t in tasks(n)]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    context = multiprocessing.get_context("spawn")
    with context.Pool(args.workers) as pool:
        targets = {
            (n, t): v
            for n, t, v in pool.map(
                _target, [(n, t, args.reference_seeds, index) for n, t in pairs]
            )
        }
        jobs = [
            ("tpe", n, t, protocol.PREVIOUS_BUDGETS[0], s, targets[(n, t)])
            for n, t in pairs
            for s in seeds
        ] + [
            (m, n, t, b, s, targets[(n, t)])
            for m in methods
            for n, t in pairs
            for b in budgets
            for s in seeds
        ]
        rows = pool.map(_run, jobs, chunksize=8)
    runs = pd.DataFrame(
        rows, columns=["method", "benchmark", "task", "previous_budget", "seed", "n"]
    )
    if args.out:
        runs.to_csv(args.out, index=False)
    tpe = runs[runs.method == "tpe"].set_index(["benchmark", "task", "seed"]).n
    print(
        f"TPE: mean {tpe.mean():.2f} evaluations to target {args.target} over "
        f"{len(tpe)} runs ({args.seeds} seeds x {len(pairs)} tasks)"
    )
    print(
        "method, then per previous budget: evaluations relative to TPE's, all / per "
        "benchmark; then the grid's speedup over TPE, all / per benchmark"
    )
    for method in methods:
        parts = []
        for budget, group in runs[runs.method == method].groupby("previous_budget"):
            mine = group.set_index(["benchmark", "task", "seed"]).n
            ref = tpe.reindex(mine.index)
            each = " ".join(
                f"{b} {mine.xs(b).mean() / ref.xs(b).mean():.3f}" for b in suite
            )
            speedup, per_bench = _speedup(mine, ref)
            fast = " ".join(f"{b} {v:.2f}" for b, v in per_bench.items())
            parts.append(
                f"b_old {budget}: {mine.mean() / ref.mean():.3f} ({each}); "
                f"speedup {speedup:.3f} ({fast})"
            )
        print(f"{method}: " + "; ".join(parts))
    failures = runs[runs.n >= _CAP].groupby("method").size()
    if not failures.empty:
        print("runs that never reached the target:", failures.to_dict())


if __name__ == "__main__":
    main()
