"""Tests of the protocol: its arithmetic on hand-made results, targets, units."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hptaa_lab import benchmarks
from hptaa_lab.benchmarks import protocol
from hptaa_lab.errors import UnknownNameError
from hptaa_lab.samplers import make_sampler
from hptaa_lab.transfer import PreviousTrials


def _row(
    benchmark: str,
    task: str,
    method: str,
    seed: int,
    evals: tuple[int | None, int | None],
    bests: tuple[float, float] = (0.0, 0.0),
    previous_budget: int = 10,
) -> dict[str, Any]:
    return {
        "benchmark": benchmark,
        "task": task,
        "previous_budget": previous_budget,
        "seed": seed,
        "method": method,
        "evals_to_target_10": evals[0],
        "evals_to_target_40": evals[1],
        "best_10": bests[0],
        "best_40": bests[1],
    }


def test_speedup_is_a_ratio_of_means_with_failures_as_400() -> None:
    """Check speedup = mean TPE evaluations / mean method evaluations."""
    frame = pd.DataFrame(
        [
            _row("B", "t", "tpe", 0, (10, 40)),
            _row("B", "t", "tpe", 1, (30, None)),
            _row("B", "t", "m", 0, (1, 20)),
            _row("B", "t", "m", 1, (9, 60)),
        ]
    )

    table = protocol.speedups(frame).set_index(["method", "target_budget"])

    # Target 10: (10 + 30) / 2 over (1 + 9) / 2; a ratio of means, not a mean
    # of ratios (that would be (10 + 30/9) / 2).
    assert table.loc[("m", 10), "speedup"] == pytest.approx(20 / 5)
    # Target 40: TPE failed on seed 1, which counts as 400.
    assert table.loc[("m", 40), "speedup"] == pytest.approx(220 / 40)
    assert table.loc[("tpe", 40), "failure_rate"] == pytest.approx(0.5)
    assert table.loc[("tpe", 40), "speedup"] == pytest.approx(1.0)
    assert table.loc[("m", 10), "n_seeds"] == 2


def test_geometric_mean_of_known_values() -> None:
    """Check the geometric mean, which ignores NaN."""
    assert protocol.geometric_mean([1.0, 4.0]) == pytest.approx(2.0)
    assert protocol.geometric_mean([2.0, 8.0, math.nan]) == pytest.approx(4.0)
    assert math.isnan(protocol.geometric_mean([]))


def test_grid_takes_geometric_means_over_tasks_then_benchmarks() -> None:
    """Check a grid cell: geometric mean over tasks, then over benchmarks."""
    rows = []
    # Benchmark A: tasks with speedups 2 and 8 (geometric mean 4);
    # benchmark B: one task with speedup 1. Overall: sqrt(4 * 1) = 2, whereas
    # a geometric mean over all three tasks would be 16 ** (1 / 3).
    for benchmark, task, tpe, method in [
        ("A", "t1", 20, 10),
        ("A", "t2", 40, 5),
        ("B", "t1", 7, 7),
    ]:
        rows.append(_row(benchmark, task, "tpe", 0, (tpe, tpe)))
        rows.append(_row(benchmark, task, "m", 0, (method, method)))

    grid = protocol.speedup_grid(pd.DataFrame(rows), "m")

    assert list(grid.index) == [10]
    assert list(grid.columns) == [10, 40]
    assert grid.loc[10, 10] == pytest.approx(2.0)
    assert grid.loc[10, 40] == pytest.approx(2.0)


def test_failure_rate_is_the_share_of_seeds_never_reaching_the_target() -> None:
    """Check failure rates: per task over seeds, then mean over tasks, benchmarks."""
    rows = [
        _row("A", "t1", "m", 0, (5, None)),
        _row("A", "t1", "m", 1, (5, None)),
        _row("A", "t1", "m", 2, (5, 9)),
        _row("A", "t1", "m", 3, (5, 9)),
        _row("A", "t2", "m", 0, (5, 9)),
        _row("B", "t1", "m", 0, (None, None)),
    ]

    rates = protocol.failure_rates(pd.DataFrame(rows)).set_index("target_budget")

    # Target 40: A = mean(0.5, 0) = 0.25, B = 1, overall 0.625.
    assert rates.loc[40, "failure_rate"] == pytest.approx(0.625)
    assert rates.loc[10, "failure_rate"] == pytest.approx(0.5)


def test_improvement_is_the_mean_gain_in_tpe_standard_deviations() -> None:
    """Check improvement = (mean TPE best - mean method best) / (TPE std + eps)."""
    rows = [
        _row("A", "t", "tpe", 0, (1, 1), bests=(1.0, 0.5)),
        _row("A", "t", "tpe", 1, (1, 1), bests=(3.0, 0.5)),
        _row("A", "t", "m", 0, (1, 1), bests=(0.0, 0.5)),
        _row("A", "t", "m", 1, (1, 1), bests=(1.0, 0.5)),
    ]

    table = protocol.improvements(pd.DataFrame(rows)).set_index(["method", "budget"])

    # After 10: TPE mean 2, std 1 (ddof 0); method mean 0.5 -> 1.5.
    assert table.loc[("m", 10), "improvement"] == pytest.approx(1.5)
    assert table.loc[("tpe", 10), "improvement"] == pytest.approx(0.0)
    # After 40 all equal: no difference, 0.
    assert table.loc[("m", 40), "improvement"] == 0.0

    # TPE's incumbents equal and the method's apart: no spread to measure the
    # difference in (eps alone made it about 1e12), so NaN, which the average
    # over tasks leaves out.
    rows += [
        _row("A", "u", "tpe", 0, (1, 1), bests=(2.0, 0.5)),
        _row("A", "u", "tpe", 1, (1, 1), bests=(2.0, 0.5)),
        _row("A", "u", "m", 0, (1, 1), bests=(1.0, 0.5)),
        _row("A", "u", "m", 1, (1, 1), bests=(1.0, 0.5)),
    ]
    table = protocol.improvements(pd.DataFrame(rows)).set_index(
        ["task", "method", "budget"]
    )
    assert np.isnan(table.loc[("u", "m", 10), "improvement"])
    summary = protocol.summary_improvements(pd.DataFrame(rows)).set_index(
        ["method", "budget"]
    )
    assert summary.loc[("m", 10), "improvement"] == pytest.approx(1.5)


def test_targets_are_mean_reference_incumbents_on_disjoint_seeds() -> None:
    """Check targets against reference TPE runs computed by hand."""
    bench = benchmarks.get("NAS-A", "cifar10")
    incumbents = []
    for r in range(3):
        seed = protocol.derive_seed(r, 2)
        sampler = make_sampler("tpe", bench.current_space, seed)
        values = []
        for _ in range(20):
            config = sampler.ask().config
            values.append(bench.current_objective(config))
            sampler.tell(config, values[-1])
        incumbents.append([min(values[:5]), min(values[:20])])

    targets = protocol.compute_targets(
        "NAS-A", "cifar10", reference_seeds=3, budgets=(5, 20)
    )

    assert targets.budgets == (5, 20)
    assert targets.values == pytest.approx(tuple(np.mean(incumbents, axis=0)))
    assert targets.values[1] <= targets.values[0]
    sweep_seeds = {
        protocol.derive_seed(s, stream) for s in range(100) for stream in (0, 1)
    }
    reference = {protocol.derive_seed(r, 2) for r in range(100)}
    assert not sweep_seeds & reference


def test_method_names_list_plain_transfer_and_gp_flavours() -> None:
    """Check the protocol's method names."""
    names = protocol.method_names()

    assert names[:3] == ["random", "tpe", "gp"]
    for method in protocol.PAPER_METHODS:
        assert method in names
    assert "best-first+t2pe/gp" in names and "t2pe/gp" in names
    assert "tpe/gp" not in names


def test_unknown_method_lists_the_valid_ones() -> None:
    """Check that an unknown method raises UnknownNameError with the list."""
    with pytest.raises(UnknownNameError, match=r"Unknown method 'bohb'\. Valid method"):
        protocol.check_methods(["tpe", "bohb"])


def _unit(**changes: Any) -> protocol.Unit:
    fields: dict[str, Any] = {
        "benchmark": "FCN-B",
        "task": "naval_propulsion",
        "previous_budget": 10,
        "seed": 0,
        "methods": ("tpe", "best-first", "only-new"),
        "targets": (1e-3, 1e-4, 1e-9),
    }
    return protocol.Unit(**{**fields, **changes})


def test_unit_runs_every_method_to_the_limits() -> None:
    """Check a unit's rows: one per method, 40..400 evaluations, consistent."""
    rows = protocol.run_unit(_unit())

    assert [row["method"] for row in rows] == ["tpe", "best-first", "only-new"]
    for row in rows:
        # The last target is out of reach: every run goes to 400 and fails it.
        assert row["n_evaluations"] == 400
        assert row["evals_to_target_40"] is None
        trajectory = row["trajectory"]
        assert len(trajectory) == 40
        assert all(a >= b for a, b in itertools.pairwise(trajectory))
        assert row["best_10"] == trajectory[9] and row["best_40"] == trajectory[39]
        assert row["best_final"] <= row["best_40"]
        reached = row["evals_to_target_10"]
        if reached is not None and reached <= 40:
            assert trajectory[reached - 1] <= 1e-3
            assert reached == 1 or trajectory[reached - 2] > 1e-3


def test_unit_stops_at_the_last_target_after_forty_evaluations() -> None:
    """Check early stopping: at least 40, then at the first incumbent on target."""
    rows = protocol.run_unit(_unit(targets=(1.0, 1.0, 1.0)))

    for row in rows:
        assert row["n_evaluations"] == 40
        assert row["evals_to_target_10"] == 1


def test_unit_is_deterministic_and_shares_the_previous_run() -> None:
    """Check that a unit repeats exactly, and its methods see one previous HPO."""
    first = protocol.run_unit(_unit(targets=(0.5, 0.1, 0.01)))
    second = protocol.run_unit(_unit(targets=(0.5, 0.1, 0.01)))

    def strip(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in row.items() if not k.endswith("seconds")} for row in rows
        ]

    assert strip(first) == strip(second)
    assert len({row["previous_best"] for row in first}) == 1


def test_best_first_starts_from_the_best_previous_configuration() -> None:
    """Check that best-first's first value is the best previous value on NAS-A,
    whose previous configurations keep their values in the current space."""
    rows = protocol.run_unit(
        _unit(benchmark="NAS-A", task="cifar10", methods=("best-first",))
    )

    assert rows[0]["trajectory"][0] == pytest.approx(rows[0]["previous_best"])


def test_gp_flavour_builds_a_gp_transfer_method() -> None:
    """Check that "t2pe/gp" makes T2PE with a GP model."""
    bench = benchmarks.get("NAS-B", "cifar10")
    previous = PreviousTrials(
        bench.previous_space,
        tuple(dict(c) for c in bench.previous_space.sample_configuration(3)),
        (0.3, 0.2, 0.1),
    )

    sampler = protocol.make_method("t2pe/gp", bench, previous, seed=1)

    assert type(sampler).__name__ == "T2PE"
    assert sampler.model == "gp"  # type: ignore[attr-defined]
