"""Record the real evaluations behind the SVM and XGB surrogates, and their fidelity.

For each family (svm: SVM-A and SVM-B; xgb: XGB-A and XGB-B) and task, draw
configurations uniformly from each of the family's four version spaces (previous
and current of both benchmarks) in turn, evaluate them by real training (the
benchmarks' live objectives), and write them with their hard-coded values to
hptaa_lab/benchmarks/data/<family>_<task>.csv.gz. A random share is held out;
the fidelity (Spearman correlation between the surrogate fitted on the other
rows and the real values of the held-out rows) is printed and written to
hptaa_lab/benchmarks/data/fidelity.json.

Cost on one core: about 2.5 minutes for svm and 15 minutes for xgb (digits is
most of it). Run:

    nice .venv/bin/python scripts/make_surrogates.py                 # everything
    nice .venv/bin/python scripts/make_surrogates.py --family xgb --task digits
    .venv/bin/python scripts/make_surrogates.py --fidelity-only      # no training
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from hptaa_lab import benchmarks
from hptaa_lab.benchmarks import _surrogate

DATA = Path(__file__).resolve().parents[1] / "hptaa_lab" / "benchmarks" / "data"
BENCHMARKS = {"svm": ("SVM-A", "SVM-B"), "xgb": ("XGB-A", "XGB-B")}
N_TRAIN = 1000
N_TEST = 250


def versions(family: str, task: str) -> list[tuple[str, Any, Any, dict[str, Any]]]:
    """(label, space, live objective, fixed values) of the family's four versions."""
    out = []
    for name in BENCHMARKS[family]:
        bench = benchmarks.get(name, task, live=True)
        for side in ("previous", "current"):
            objective = getattr(bench, f"{side}_objective")
            out.append(
                (
                    f"{name} {side}",
                    getattr(bench, f"{side}_space"),
                    objective,
                    dict(objective.fixed),
                )
            )
    return out


def generate(family: str, task: str, n_train: int, n_test: int, seed: int) -> Path:
    """Evaluate ``n_train + n_test`` configurations for real and write them."""
    n_total = n_train + n_test
    parts = versions(family, task)
    per_version = math.ceil(n_total / len(parts))
    drawn = []
    for k, (label, space, objective, fixed) in enumerate(parts):
        space.seed(seed * 100 + k)
        configs = space.sample_configuration(per_version)
        drawn.append([(label, objective, fixed, dict(c)) for c in configs])
    # Round robin over the versions, so any prefix is balanced.
    ordered = [drawn[i % len(parts)][i // len(parts)] for i in range(n_total)]
    held_out = set(np.random.default_rng(seed).permutation(n_total)[:n_test].tolist())

    rows = []
    started = time.perf_counter()
    with threadpool_limits(1):
        for i, (label, objective, fixed, config) in enumerate(ordered):
            value = objective(config)
            union = {**fixed, **{k: _plain(v) for k, v in config.items()}}
            if union.get("gamma") == "scale":
                union.pop("gamma")  # a polynomial kernel always uses "scale"
            rows.append(
                {
                    **union,
                    "value": value,
                    "split": "test" if i in held_out else "train",
                    "version": label,
                }
            )
            if (i + 1) % 250 == 0:
                elapsed = time.perf_counter() - started
                print(f"  {family} {task}: {i + 1}/{n_total} ({elapsed:.0f} s)")
    names = [column.name for column in _surrogate.FAMILIES[family]]
    frame = pd.DataFrame(rows, columns=[*names, "value", "split", "version"])
    path = DATA / f"{family}_{task}.csv.gz"
    DATA.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, float_format="%.10g")
    print(
        f"{family} {task}: {n_total} real evaluations in "
        f"{time.perf_counter() - started:.0f} s -> {path.name}"
    )
    return path


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def fidelity_table(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Spearman fidelity of every (family, task), read from the packaged files."""
    _surrogate.evaluations.cache_clear()
    _surrogate.surrogate.cache_clear()
    table: dict[str, Any] = {}
    for family, task in pairs:
        frame = _surrogate.evaluations(family, task)
        scores = _surrogate.fidelity(family, task)
        table[f"{family}/{task}"] = {
            "n_train": int((frame["split"] == "train").sum()),
            "n_test": int((frame["split"] == "test").sum()),
            "spearman": {k: round(v, 4) for k, v in scores.items()},
        }
        by_version = ", ".join(f"{k} {v:.3f}" for k, v in scores.items() if k != "all")
        print(f"fidelity {family}/{task}: {scores['all']:.3f} ({by_version})")
    return table


def main(argv: list[str] | None = None) -> int:
    """Generate the data asked for, then print and write the fidelity."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=sorted(BENCHMARKS), action="append")
    parser.add_argument("--task", action="append", help="only these tasks")
    parser.add_argument("--n-train", type=int, default=N_TRAIN)
    parser.add_argument("--n-test", type=int, default=N_TEST)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--fidelity-only", action="store_true", help="no training, fidelity only"
    )
    args = parser.parse_args(argv)
    families = args.family or sorted(BENCHMARKS)
    pairs = [
        (family, task)
        for family in families
        for task in benchmarks.tasks(BENCHMARKS[family][0])
        if not args.task or task in args.task
    ]
    if not args.fidelity_only:
        for family, task in pairs:
            generate(family, task, args.n_train, args.n_test, args.seed)
    every = [
        (family, task)
        for family in sorted(BENCHMARKS)
        for task in benchmarks.tasks(BENCHMARKS[family][0])
        if (DATA / f"{family}_{task}.csv.gz").is_file()
    ]
    table = fidelity_table(every)
    summary = {
        "scikit-learn": sklearn.__version__,
        "seed": args.seed,
        "surrogate": (
            f"ExtraTreesRegressor(n_estimators={_surrogate.N_TREES}, "
            f"max_features=1.0, random_state=0) on log(value + {_surrogate.LOG_OFFSET})"
        ),
        "tasks": table,
    }
    (DATA / "fidelity.json").write_text(json.dumps(summary, indent=2) + "\n")
    worst = min(entry["spearman"]["all"] for entry in table.values())
    print(f"lowest fidelity: {worst:.3f} (required: 0.9)")
    return 0 if worst >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
