"""Tests of the sweep figures and tables, through the data they are built from."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from hptaa_lab.benchmarks import _outputs, protocol
from hptaa_lab.report import incumbent_curves_figure, speedup_heatmap, speedup_violins


def test_heatmap_shows_each_cell_of_the_grid() -> None:
    """Check that the heatmap's cells are the grid's speedups, coloured by log2."""
    grid = pd.DataFrame(
        [[2.0, 1.0, 0.5], [4.0, math.nan, 1.0]],
        index=pd.Index([10, 40], name="previous_budget"),
        columns=pd.Index([10, 20, 40], name="target_budget"),
    )

    heatmap = speedup_heatmap(grid, title="t").data[0]

    assert list(heatmap.x) == ["target 10", "target 20", "target 40"]
    assert list(heatmap.y) == ["b_old 10", "b_old 40"]
    assert [list(row) for row in heatmap.text] == [
        ["2.00", "1.00", "0.50"],
        ["4.00", "-", "1.00"],
    ]
    assert list(heatmap.z[0]) == [1.0, 0.0, -1.0]
    assert heatmap.z[1][1] is None


def test_violins_hold_one_trace_per_method_with_its_speedups() -> None:
    """Check the violins: a trace per method, x the benchmarks, y the speedups."""
    table = pd.DataFrame(
        {
            "benchmark": ["A", "A", "B", "A"],
            "method": ["m1", "m1", "m1", "m2"],
            "speedup": [1.5, 2.0, 0.5, 3.0],
        }
    )

    figure = speedup_violins(table)

    assert [trace.name for trace in figure.data] == ["m1", "m2"]
    assert list(figure.data[0].x) == ["A", "A", "B"]
    assert list(figure.data[0].y) == [1.5, 2.0, 0.5]
    assert figure.layout.yaxis.type == "log"


def test_incumbent_curves_draw_each_mean_trajectory_and_targets() -> None:
    """Check incumbent curves: a line per method and a line per target."""
    figure = incumbent_curves_figure(
        {"tpe": [3.0, 2.0, 2.0], "t2pe": [2.5, 1.0, 1.0]}, {10: 2.2, 40: 1.1}
    )

    assert [trace.name for trace in figure.data] == ["tpe", "t2pe"]
    assert list(figure.data[1].y) == [2.5, 1.0, 1.0]
    assert list(figure.data[1].x) == [1, 2, 3]
    assert sorted(shape.y0 for shape in figure.layout.shapes) == [1.1, 2.2]


def test_mean_trajectories_average_over_seeds() -> None:
    """Check that incumbent curves are the mean over seeds, per method."""
    frame = pd.DataFrame(
        {
            "benchmark": ["B"] * 3,
            "task": ["t"] * 3,
            "previous_budget": [10] * 3,
            "method": ["tpe", "tpe", "m"],
            "trajectory": [[4.0, 2.0], [2.0, 2.0], [1.0, 0.5]],
        }
    )

    curves = _outputs.mean_trajectories(frame, "B", "t", 10)

    assert curves == {"tpe": [3.0, 2.0], "m": [1.0, 0.5]}


def test_grid_and_failure_tables_format_as_markdown() -> None:
    """Check the printed grid and failure-rate tables."""
    grid = pd.DataFrame(
        [[2.0, 1.25]],
        index=pd.Index([20], name="previous_budget"),
        columns=pd.Index([10, 40], name="target_budget"),
    )
    failures = pd.DataFrame(
        {
            "method": ["m", "m"],
            "previous_budget": [20, 20],
            "target_budget": [10, 40],
            "failure_rate": [0.0, 0.125],
        }
    )

    assert _outputs.format_grids({"m": grid}) == (
        "m\n\n| b_old | target 10 | target 40 |\n|---|---|---|\n| 20 | 2.00 | 1.25 |\n"
    )
    assert "| m | 20 | 0.0% | 12.5% |" in _outputs.format_failures(failures)


def test_protocol_run_returns_the_tidy_table() -> None:
    """Check protocol.run in this process: rows per unit and method, no
    trajectories, evaluations-to-target within the limits."""
    frame = protocol.run(
        ["NAS-B:cifar10"],
        ["best-first"],
        previous_budgets=[10],
        seeds=2,
        reference_seeds=3,
    )

    assert len(frame) == 2 * 2
    assert "trajectory" not in frame.columns
    assert set(frame["method"]) == {"tpe", "best-first"}
    evals = frame["evals_to_target_40"].dropna()
    assert ((evals >= 1) & (evals <= protocol.MAX_EVALUATIONS)).all()
    assert (frame["n_evaluations"] >= protocol.MIN_EVALUATIONS).all()
    assert protocol.speedup_grid(frame, "best-first").shape == (1, 3)
    assert frame["target_40"].iloc[0] == pytest.approx(
        protocol.compute_targets("NAS-B", "cifar10", reference_seeds=3).values[2]
    )
