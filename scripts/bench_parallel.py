"""Measure parallel evaluation on a local Dask cluster against in-process runs.

Printed at the end:

- speed-up: the same trials of a real-training objective (an RBF SVC on
  scikit-learn's bundled digits data, 5-fold cross-validation repeated twice,
  about half a second on one core) run in-process (workers=1) and with
  ``--workers`` worker processes. The random sampler makes both runs evaluate
  the same configurations, so the work is equal. The parallel wall time includes
  starting and closing the cluster, as ``study.optimize(workers=N)`` does. For
  comparison: the same configurations on a plain process pool (no Dask, no
  study), and on an already running cluster, first with fresh workers, then
  again with workers that have imported what the objective needs.
- dispatch overhead: a trivial objective run in-process and on a running
  cluster; the difference per trial is what sending a trial to a worker and its
  result back costs.

The machine's load and CPU pressure before and after are printed too: other
busy processes (on Linux, any other busy terminal session) leave the workers
less than one core each, and the ratios then say nothing about hptaa_lab.

Run: ``.venv/bin/python scripts/bench_parallel.py`` (about two minutes on 2
cores). Works offline: the digits data ship with scikit-learn.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

SPACE = {"C": (1.0, 1000.0, "log"), "gamma": (10**-2.5, 0.1, "log")}


def train_svc(config: dict[str, Any]) -> float:
    """Cross-validated error of an RBF SVC on the digits data (about 0.5 s)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score
    from sklearn.svm import SVC

    X, y = load_digits(return_X_y=True)
    folds = RepeatedStratifiedKFold(n_splits=5, n_repeats=2, random_state=0)
    model = SVC(C=config["C"], gamma=config["gamma"])
    return 1.0 - float(cross_val_score(model, X / 16.0, y, cv=folds).mean())


def trivial(config: dict[str, Any]) -> float:
    """No work at all: what is left of a trial is dispatch."""
    return config["C"]


def timed_run(
    store: str,
    name: str,
    objective: Callable[[dict[str, Any]], float],
    n_trials: int,
    **options: Any,
) -> tuple[float, Any]:
    """Wall time of one fresh study's optimize call, and the study."""
    import hptaa_lab

    study = hptaa_lab.create_study(name, SPACE, sampler="random", seed=0, store=store)
    start = time.perf_counter()
    study.optimize(objective, n_trials=n_trials, **options)
    return time.perf_counter() - start, study


def pool_run(configs: list[dict[str, Any]], workers: int) -> float:
    """Wall time of the same configurations on a plain process pool (no Dask, no
    study), pool start included: what this machine allows any parallel executor."""
    import multiprocessing

    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pool.map(train_svc, configs, chunksize=1)
    return time.perf_counter() - start


def speed_up(store: str, n_trials: int, workers: int, repeats: int) -> dict[str, Any]:
    """Real-training trials in-process and with ``workers`` processes (cluster
    started by optimize), ``repeats`` times interleaved; then twice on a running
    cluster: with fresh workers, and again once they imported what the objective
    needs."""
    from hptaa_lab.execution import local_cluster

    serial: list[float] = []
    parallel: list[float] = []
    pool: list[float] = []
    same = True
    for r in range(repeats):
        wall, serial_study = timed_run(store, f"svc-serial-{r}", train_svc, n_trials)
        serial.append(wall)
        wall, parallel_study = timed_run(
            store, f"svc-{workers}-{r}", train_svc, n_trials, workers=workers
        )
        parallel.append(wall)
        configs = [t.config for t in serial_study.trials]
        same &= configs == [t.config for t in parallel_study.trials]
        pool.append(pool_run(configs, workers))
    start = time.perf_counter()
    with local_cluster(workers) as client:
        started = time.perf_counter() - start
        running, _ = timed_run(
            store, f"svc-{workers}-running", train_svc, n_trials, scheduler=client
        )
        warm, _ = timed_run(
            store, f"svc-{workers}-warm", train_svc, n_trials, scheduler=client
        )
    ratios = [p / s for s, p in zip(serial, parallel, strict=True)]
    pool_ratios = [p / s for s, p in zip(serial, pool, strict=True)]
    return {
        "pool_s": pool,
        "pool_ratio": statistics.median(pool_ratios),
        "trial_s": statistics.median(serial) / n_trials,
        "serial_s": serial,
        "parallel_s": parallel,
        "ratios": ratios,
        "ratio": statistics.median(ratios),
        "cluster_start_s": started,
        "running_s": running,
        "running_ratio": running / statistics.median(serial),
        "warm_s": warm,
        "warm_ratio": warm / statistics.median(serial),
        "same_configurations": same,
    }


def overhead(store: str, n_trials: int, workers: int) -> dict[str, float]:
    """Per-trial wall time of a trivial objective on a running cluster minus
    in-process, with one trial in flight and with ``workers`` in flight."""
    from hptaa_lab.execution import local_cluster

    serial, _ = timed_run(store, "trivial-in-process", trivial, n_trials)
    figures = {"serial_trial_ms": 1000 * serial / n_trials}
    for n in sorted({1, workers}):
        with local_cluster(n) as client:
            wall, _ = timed_run(
                store,
                f"trivial-cluster-{n}",
                trivial,
                n_trials,
                workers=n,
                scheduler=client,
            )
        figures[f"cluster_{n}_trial_ms"] = 1000 * wall / n_trials
        figures[f"overhead_{n}_ms"] = 1000 * (wall - serial) / n_trials
    return figures


def machine_load() -> str:
    """1-minute load average, and the share of the last minute in which some task
    waited for a CPU (Linux pressure stall information) where available."""
    text = f"load {os.getloadavg()[0]:.2f}"
    try:
        with open("/proc/pressure/cpu") as pressure:
            fields = dict(f.split("=") for f in pressure.readline().split()[1:])
        return f"{text}, CPU pressure {float(fields['avg60']):.0f}%"
    except (OSError, KeyError, ValueError):
        return text


def main() -> None:
    """Parse arguments, run both measurements, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40, help="real-training trials")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--overhead-trials", type=int, default=200, help="trivial trials"
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="serial/parallel pairs, interleaved"
    )
    parser.add_argument("--store", help="SQLAlchemy URL (default: a temporary file)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    load_before = machine_load()
    with tempfile.TemporaryDirectory(prefix="hptaa-bench-") as folder:
        store = args.store or f"sqlite:///{os.path.join(folder, 'bench.db')}"
        fast = speed_up(store, args.trials, args.workers, args.repeats)
        slow = overhead(store, args.overhead_trials, args.workers)

    load_after = machine_load()
    n, w = args.trials, args.workers
    print(f"machine: {os.cpu_count()} CPU cores")
    print(f"  before: {load_before}; after: {load_after}")
    print(f"objective: RBF SVC on digits, median {fast['trial_s']:.3f} s a trial")
    for k, (serial, parallel) in enumerate(
        zip(fast["serial_s"], fast["parallel_s"], strict=True)
    ):
        print(
            f"run {k}: {n} trials, workers=1 (in-process) {serial:6.2f} s, "
            f"workers={w} (cluster started by optimize) {parallel:6.2f} s, "
            f"ratio {parallel / serial:.3f}"
        )
    print(f"  median ratio {w} workers / 1:        {fast['ratio']:7.3f}")
    print(
        f"  for comparison, a plain {w}-process pool: "
        + ", ".join(f"{p:.2f} s" for p in fast["pool_s"])
        + f", median ratio {fast['pool_ratio']:.3f}"
    )
    print(f"  same configurations in both runs:   {fast['same_configurations']}")
    print(f"local cluster start ({w} workers):     {fast['cluster_start_s']:7.2f} s")
    print(f"{n} trials on a running cluster:       {fast['running_s']:7.2f} s")
    print(f"  ratio on a running cluster:         {fast['running_ratio']:7.3f}")
    print(f"again, workers warm (imports done):   {fast['warm_s']:7.2f} s")
    print(f"  ratio with warm workers:            {fast['warm_ratio']:7.3f}")
    m = args.overhead_trials
    print(f"dispatch overhead ({m} trivial trials, random sampler):")
    print(f"  in-process:                 {slow['serial_trial_ms']:7.2f} ms a trial")
    for k in sorted({1, w}):
        print(
            f"  {k} in flight on a cluster:  {slow[f'cluster_{k}_trial_ms']:7.2f} ms "
            f"a trial, overhead {slow[f'overhead_{k}_ms']:6.2f} ms"
        )


if __name__ == "__main__":
    main()
