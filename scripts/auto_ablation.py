"""Ablation of auto's ingredients: auto with each ingredient switched off in turn.

Runs the protocol's units (previous TPE, then the current HPO until TPE's targets)
for plain TPE, best-first+t2pe and each variant of ``auto`` below, on development
seeds (100 and up by default, disjoint from the seeds of reported sweeps, which
start at 0), and prints per variant:

- the paper grid's geometric mean over the nine (b_old, target) cells of the
  speedup over TPE (geometric mean over tasks, then benchmarks), and the share of
  runs that never reached a target;
- on the inverted suite, evaluations relative to TPE (mean evaluations-to-target
  divided by TPE's, failures counted as 400), per target;
- with ``--suites paper,inverted,chain``, the chain suite's geometric mean too
  ("last-only" is auto without the older studies of a chain), and with
  ``holdout`` the hold-out suite's ("no-clip" drops previous trials outside a
  narrowed range instead of moving them to its bound, "no-forget" drops previous
  trials whose choice was removed instead of keeping them with that value
  unknown; only the hold-out suite narrows ranges or removes choices).

Failures are counted per suite: runs that never reached the last target, over all
b_old (TPE's are listed as a method too).

Run: ``.venv/bin/python scripts/auto_ablation.py --seeds 10 --workers 2`` (about
an hour on 2 cores for all three suites: most variants fit GP source models).
``--variants`` picks some of them by name.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
from typing import Any

import numpy as np
import pandas as pd

from hptaa_lab.benchmarks import protocol
from hptaa_lab.benchmarks._base import get, names, tasks
from hptaa_lab.transfer import Auto

VARIANTS: dict[str, dict[str, Any]] = {
    "auto": {},
    "no-portfolio": {"portfolio": 0},
    "no-calibration": {"calibrate": 0.0},
    "no-bandit": {"bandit": False},
    "no-keep": {"keep": False},
    "no-update": {"prior_update": False},
    "no-pool": {"pool": False},
    "no-fade": {"fade": None},
    "no-new-choices": {"new_choices": False},
    "last-only": {"ancestors": []},
    "tpe-source": {"source_model": "tpe"},
    "gp-source": {"source_model": "gp"},
    "no-clip": {"clip": False},
    "no-forget": {"forget": False},
    "all-ties": {"ties": None},
    "no-floor": {"floor": 0.0},
    "no-share": {"share": False},
    "no-local": {"local": None},
    "no-avoid": {"avoid": None},
    "no-added-defaults": {"added_defaults": False},
}
"""Variant name -> keyword options of Auto (what is switched off)."""
BASELINES = ("tpe", "best-first+t2pe")


def _unit(job: tuple[str, str, str, int, int, tuple[float, ...]]) -> dict[str, Any]:
    method, name, task, previous_budget, seed, targets = job
    logging.disable(logging.WARNING)
    bench = get(name, task)
    unit = protocol.Unit(name, task, previous_budget, seed, ("tpe",), targets)
    previous = protocol.previous_trials(bench, unit)
    current_seed = protocol.derive_seed(seed, 1)
    if method in VARIANTS:
        sampler = Auto(
            bench.current_space, previous, seed=current_seed, **VARIANTS[method]
        )
    else:
        sampler = protocol.make_method(method, bench, previous, current_seed)
    row = protocol._current_run(bench, sampler, unit)
    row.pop("trajectory")
    return {
        "benchmark": name,
        "task": task,
        "previous_budget": previous_budget,
        "seed": seed,
        "method": method,
        **row,
    }


def _targets(pair: tuple[str, str, int]) -> tuple[str, str, tuple[float, ...]]:
    name, task, reference_seeds = pair
    targets = protocol.compute_targets(name, task, reference_seeds=reference_seeds)
    return name, task, targets.values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per unit (10)")
    parser.add_argument("--first-seed", type=int, default=100, help="first seed")
    parser.add_argument("--workers", type=int, default=2, help="processes (2)")
    parser.add_argument("--reference-seeds", type=int, default=50)
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help="comma-separated variants"
    )
    parser.add_argument("--out", default=None, help="CSV of every run")
    parser.add_argument(
        "--suites",
        default="paper,inverted",
        help="comma-separated suites among paper, inverted, chain, holdout "
        "(paper,inverted)",
    )
    args = parser.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")

    suites = [s for s in args.suites.split(",") if s]
    if "paper" not in suites or not set(suites) <= set(_SUITES):
        parser.error("--suites takes paper (always) and inverted, chain or holdout")
    pairs = [
        (name, task)
        for suite in suites
        for name in names(suite)
        for task in tasks(name)
    ]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    context = multiprocessing.get_context("spawn")
    with context.Pool(args.workers) as pool:
        targets = {
            (n, t): v
            for n, t, v in pool.map(
                _targets, [(n, t, args.reference_seeds) for n, t in pairs]
            )
        }
        jobs = [
            (method, n, t, b, s, targets[(n, t)])
            for method in [*BASELINES, *variants]
            for n, t in pairs
            for b in protocol.PREVIOUS_BUDGETS
            for s in seeds
        ]
        frame = pd.DataFrame(pool.map(_unit, jobs, chunksize=4))
    if args.out:
        frame.to_csv(args.out, index=False)
    report(frame, list(BASELINES) + variants)


_SUITES = ("paper", "chain", "inverted", "holdout")
_GRIDS = ("paper", "chain", "holdout")
"""The suites whose speedup grid's geometric mean is reported."""


def report(frame: pd.DataFrame, methods: list[str]) -> None:
    """Print, per method, the paper grid's, the chain and the hold-out suite's
    geometric means, the inverted suite's relative evaluations, and each suite's
    failures (runs that never reached the last target)."""
    last = f"evals_to_target_{protocol.TARGET_BUDGETS[-1]}"
    suites = {suite: frame[frame["benchmark"].isin(names(suite))] for suite in _SUITES}
    relative = None
    if not suites["inverted"].empty:
        relative = protocol.relative_evaluations(
            suites["inverted"], by=("target_budget",)
        )
    print(
        f"{'method':18s} {'grid gm':>8s} {'chain gm':>9s} {'holdout gm':>11s}"
        f"  {'inverted 10 / 20 / 40':22s}  failures paper / chain / inverted / holdout"
    )
    for method in methods:
        means = []
        for suite in _GRIDS:
            table = suites[suite]
            if table.empty or method == "tpe":
                means.append("-")
                continue
            grid = protocol.speedup_grid(table, method)
            means.append(f"{protocol.geometric_mean(np.ravel(grid.to_numpy())):.2f}")
        inverted = "-"
        if relative is not None and method != "tpe":
            pooled = relative[relative["method"] == method].sort_values(
                "target_budget"
            )["relative_evaluations"]
            inverted = " / ".join(f"{v:.2f}" for v in pooled)
        failures = " / ".join(
            "-"
            if table.empty
            else str(int(table.loc[table["method"] == method, last].isna().sum()))
            for table in suites.values()
        )
        print(
            f"{method:18s} {means[0]:>8s} {means[1]:>9s} {means[2]:>11s}  "
            f"{inverted:22s}  {failures}"
        )


if __name__ == "__main__":
    main()
