"""Tests of the hold-out benchmarks: each adjustment, what projection keeps of
the previous trials, and a tiny sweep of the suite."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from hptaa_lab import benchmarks
from hptaa_lab.benchmarks import protocol
from hptaa_lab.benchmarks._fcnet import TASKS as FCNET_TASKS
from hptaa_lab.benchmarks._holdout import fcn_ho_previous_task
from hptaa_lab.benchmarks._sweep import SweepConfig, run_sweep
from hptaa_lab.space import project

HOLDOUT = {
    "FCN-HO": list(FCNET_TASKS),
    "NAS-HO": ["cifar10", "cifar100", "imagenet"],
    "SVM-HO": ["digits", "breast_cancer", "wine", "diabetes"],
    "XGB-HO": ["breast_cancer", "digits", "wine", "diabetes"],
}


def _sample(space, n: int) -> list[dict]:
    space.seed(0)
    return [dict(c) for c in space.sample_configuration(n)]


def test_holdout_suite_has_one_benchmark_per_base() -> None:
    """Check the suite's benchmarks and tasks, and that each is a two-version
    benchmark whose description names the adjustment."""
    assert benchmarks.names("holdout") == sorted(HOLDOUT)
    for name, tasks in HOLDOUT.items():
        assert benchmarks.tasks(name) == tasks
        bench = benchmarks.get(name, tasks[0])
        assert bench.ancestors == ()
        assert bench.description


def test_fcn_ho_tunes_the_previous_version_on_another_task() -> None:
    """Check that FCN-HO keeps the search space and reads the previous values from
    the next task's table, in a cycle over the four tasks."""
    assert [fcn_ho_previous_task(t) for t in FCNET_TASKS] == [
        *FCNET_TASKS[1:],
        FCNET_TASKS[0],
    ]
    bench = benchmarks.get("FCN-HO", "naval_propulsion")
    other = benchmarks.get("FCN-HO", "parkinsons_telemonitoring")
    assert list(bench.previous_space.values()) == list(bench.current_space.values())
    for config in _sample(bench.current_space, 5):
        assert bench.previous_objective(config) == other.current_objective(config)
    configs = _sample(bench.current_space, 20)
    assert [bench.previous_objective(c) for c in configs] != [
        bench.current_objective(c) for c in configs
    ]


def test_nas_ho_drops_the_pooling_and_the_cells_that_use_it() -> None:
    """Check that NAS-HO's edges lose avg_pool_3x3, that projection keeps exactly
    the previous cells without it, and that those keep their value."""
    bench = benchmarks.get("NAS-HO", "cifar10")
    for edge in bench.current_space:
        assert "avg_pool_3x3" not in bench.current_space[edge].choices
        assert "avg_pool_3x3" in bench.previous_space[edge].choices
    configs = _sample(bench.previous_space, 60)
    values = [bench.previous_objective(c) for c in configs]

    projection = project(bench.previous_space, bench.current_space, configs, values)

    without = [c for c in configs if "avg_pool_3x3" not in c.values()]
    assert 0 < len(projection) == len(without) < len(configs)
    for config, value in zip(projection.configs, projection.values, strict=True):
        assert bench.current_objective(config) == value


def test_svm_ho_drops_the_poly_kernel_and_the_smallest_costs() -> None:
    """Check that SVM-HO's kernel loses poly (and degree with it), that C starts
    at 2^-5, and that projection keeps the linear and rbf trials with C inside."""
    bench = benchmarks.get("SVM-HO", "wine")
    assert bench.current_space["kernel"].choices == ("linear", "rbf")
    assert "degree" not in bench.current_space
    assert bench.current_space["C"].lower == pytest.approx(2.0**-5)
    assert bench.source == "surrogate"
    configs = _sample(bench.previous_space, 80)
    values = [bench.previous_objective(c) for c in configs]

    projection = project(bench.previous_space, bench.current_space, configs, values)

    kept = [c for c in configs if c["kernel"] != "poly" and c["C"] >= 2.0**-5]
    assert 0 < len(projection) == len(kept) < len(configs)
    for config, value in zip(projection.configs, projection.values, strict=True):
        assert bench.current_objective(config) == pytest.approx(value)


def test_xgb_ho_narrows_two_ranges_and_fixes_subsample() -> None:
    """Check XGB-HO's narrowed ranges and removed subsample, that the current
    objective is the previous one at subsample 0.8, and that projection drops
    trials outside the new ranges."""
    bench = benchmarks.get("XGB-HO", "breast_cancer")
    assert (
        bench.current_space["nrounds"].lower,
        bench.current_space["nrounds"].upper,
    ) == (
        1,
        1000,
    )
    assert (
        bench.current_space["max_depth"].lower,
        bench.current_space["max_depth"].upper,
    ) == (
        2,
        10,
    )
    assert "subsample" not in bench.current_space
    assert bench.current_fixed == {"subsample": 0.8}
    configs = _sample(bench.previous_space, 200)
    inside = [c for c in configs if c["nrounds"] <= 1000 and 2 <= c["max_depth"] <= 10]
    for config in inside[:5]:
        current = {k: v for k, v in config.items() if k != "subsample"}
        assert bench.current_objective(current) == pytest.approx(
            bench.previous_objective({**config, "subsample": 0.8})
        )
    values = [bench.previous_objective(c) for c in configs]

    projection = project(bench.previous_space, bench.current_space, configs, values)

    assert 0 < len(projection) == len(inside) < len(configs)


def test_tiny_sweep_of_the_holdout_suite(tmp_path: Path) -> None:
    """Check that a sweep with --suite holdout runs every hold-out task with a
    transfer method and writes its results."""
    config = dataclasses.replace(
        SweepConfig.create(
            None, ["tpe", "auto"], [10], 1, reference_seeds=2, suite="holdout"
        ),
        min_evaluations=12,
        max_evaluations=12,
    )
    assert sorted({b for b, _ in config.tasks}) == sorted(HOLDOUT)

    run_sweep(config, out=tmp_path)

    results = pd.read_csv(tmp_path / "results.csv")
    assert len(results) == 2 * sum(len(t) for t in HOLDOUT.values())
    assert set(results["benchmark"]) == set(HOLDOUT)
    assert (results["n_evaluations"] == 12).all()
    assert protocol.failure_rates(results)["failure_rate"].between(0, 1).all()
