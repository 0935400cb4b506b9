"""What a finished sweep writes: tidy tables, speedup grids, HTML report."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hptaa_lab.benchmarks import protocol
from hptaa_lab.benchmarks._sweep import SweepConfig

RESULTS_CSV = "results.csv"
SPEEDUPS_CSV = "speedups.csv"
GRID_CSV = "speedup_grid.csv"
GRID_MD = "speedup_grid.md"
FAILURES_CSV = "failure_rates.csv"
IMPROVEMENT_CSV = "improvement.csv"
REPORT_HTML = "report.html"


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """The results table without trajectories, evaluations-to-target as
    nullable integers."""
    table = frame.drop(columns=["trajectory"], errors="ignore").copy()
    for column in table.columns:
        if column.startswith("evals_to_target_"):
            table[column] = pd.to_numeric(table[column]).astype("Int64")
    return table


def grids(frame: pd.DataFrame, methods: Sequence[str]) -> dict[str, pd.DataFrame]:
    """The speedup grid of every method but the reference."""
    return {
        method: protocol.speedup_grid(frame, method)
        for method in methods
        if method != protocol.REFERENCE_METHOD
    }


def format_grids(grid_of: Mapping[str, pd.DataFrame]) -> str:
    """Markdown tables of speedup grids, one per method."""
    parts = []
    for method, grid in grid_of.items():
        header = "| b_old | " + " | ".join(f"target {c}" for c in grid.columns) + " |"
        rule = "|---|" + "---|" * len(grid.columns)
        lines = [f"{method}", "", header, rule]
        for budget, row in grid.iterrows():
            cells = " | ".join(_fmt(v) for v in row.to_numpy())
            lines.append(f"| {budget} | {cells} |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def format_failures(failures: pd.DataFrame) -> str:
    """Failure rates as a markdown table: a row per method and b_old."""
    pivot = failures.pivot_table(
        index=["method", "previous_budget"],
        columns="target_budget",
        values="failure_rate",
    )
    header = "| method | b_old | " + " | ".join(f"target {c}" for c in pivot.columns)
    lines = [header + " |", "|---|---|" + "---|" * len(pivot.columns)]
    for index, row in zip(pivot.index, pivot.to_numpy(), strict=True):
        method, budget = tuple(index)
        cells = " | ".join(f"{100 * v:.1f}%" for v in row)
        lines.append(f"| {method} | {budget} | {cells} |")
    return "\n".join(lines) + "\n"


def _fmt(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.2f}"


def mean_trajectories(
    frame: pd.DataFrame, benchmark: str, task: str, previous_budget: int
) -> dict[str, list[float]]:
    """Mean incumbent after each of the first evaluations, per method, over seeds."""
    part = frame[
        (frame["benchmark"] == benchmark)
        & (frame["task"] == task)
        & (frame["previous_budget"] == previous_budget)
    ]
    curves = {}
    for method, rows in part.groupby("method", sort=False):
        matrix = np.array([list(t) for t in rows["trajectory"]], dtype=float)
        curves[str(method)] = matrix.mean(axis=0).tolist()
    return curves


def write_outputs(
    frame: pd.DataFrame,
    targets: Mapping[tuple[str, str], protocol.Targets],
    config: SweepConfig,
    folder: Path,
) -> dict[str, Path]:
    """Write the tidy table, speedups, grids, failure rates, improvement, report.

    Args:
        frame: Every row of the sweep, with trajectories.
        targets: Targets by (benchmark, task).
        config: The sweep's configuration.
        folder: Output folder.

    Returns:
        The paths written, by kind.
    """
    paths = {
        "results": folder / RESULTS_CSV,
        "speedups": folder / SPEEDUPS_CSV,
        "grid": folder / GRID_CSV,
        "grid_md": folder / GRID_MD,
        "failures": folder / FAILURES_CSV,
        "improvement": folder / IMPROVEMENT_CSV,
        "report": folder / REPORT_HTML,
    }
    tidy(frame).to_csv(paths["results"], index=False, float_format="%.8g")
    speedup_table = protocol.speedups(frame)
    speedup_table.to_csv(paths["speedups"], index=False, float_format="%.6g")
    grid_of = grids(frame, config.methods)
    long = [
        {"method": m, "previous_budget": b, "target_budget": t, "speedup": v}
        for m, grid in grid_of.items()
        for b, row in grid.iterrows()
        for t, v in row.items()
    ]
    pd.DataFrame(long).to_csv(paths["grid"], index=False, float_format="%.6g")
    failures = protocol.failure_rates(frame)
    failures.to_csv(paths["failures"], index=False, float_format="%.6g")
    improvement = protocol.summary_improvements(frame)
    improvement.to_csv(paths["improvement"], index=False, float_format="%.6g")
    paths["grid_md"].write_text(
        "Speedup over TPE (geometric mean over tasks, then benchmarks); rows "
        "b_old, columns the budget that defines the target.\n\n"
        + format_grids(grid_of)
        + "\nFailure rates (share of seeds that never reach the target):\n\n"
        + format_failures(failures),
        encoding="utf-8",
    )
    write_report(frame, targets, config, paths["report"], speedup_table, grid_of)
    return paths


def write_report(
    frame: pd.DataFrame,
    targets: Mapping[tuple[str, str], protocol.Targets],
    config: SweepConfig,
    path: Path,
    speedup_table: pd.DataFrame,
    grid_of: Mapping[str, pd.DataFrame],
) -> Path:
    """The HTML report: grids as heatmaps, violins, incumbent curves, tables."""
    from hptaa_lab.report import (
        incumbent_curves_figure,
        speedup_heatmap,
        speedup_violins,
        write_html_report,
    )

    sections: list[Any] = [
        "## Configuration",
        "```" + json.dumps(config.to_json(), indent=1) + "```",
        f"{len(frame)} runs of {frame['method'].nunique()} methods. Speedup = mean "
        "evaluations-to-target of TPE / the method's (a failure counts as "
        f"{config.max_evaluations}), geometric mean over tasks, then benchmarks.",
        "## Speedup grids",
    ]
    for method, grid in grid_of.items():
        sections.append(speedup_heatmap(grid, title=f"Speedup of {method} over TPE"))
    sections.append("## Speedups per benchmark")
    others = speedup_table[speedup_table["method"] != protocol.REFERENCE_METHOD]
    sections.append(
        speedup_violins(
            others,
            title="Speedup per task, b_old and target, by benchmark",
        )
    )
    sections.append("## Failure rates")
    failures = protocol.failure_rates(frame)
    sections.append(
        failures.pivot_table(
            index=["method", "previous_budget"],
            columns="target_budget",
            values="failure_rate",
        )
        .reset_index()
        .round(3)
    )
    sections.append("## Improvement over TPE (in TPE standard deviations)")
    improvement = protocol.summary_improvements(frame)
    sections.append(
        improvement.pivot_table(
            index=["method", "previous_budget"], columns="budget", values="improvement"
        )
        .reset_index()
        .round(3)
    )
    sections.append("## Incumbent curves")
    budget = max(config.previous_budgets)
    for benchmark, task in config.tasks:
        if "trajectory" not in frame.columns:
            break
        curves = mean_trajectories(frame, benchmark, task, budget)
        if not curves:
            continue
        goal = targets[benchmark, task]
        sections.append(
            incumbent_curves_figure(
                curves,
                dict(zip(goal.budgets, goal.values, strict=True)),
                title=f"{benchmark} on {task}, b_old {budget}",
            )
        )
    sections.append("## Targets")
    sections.append(protocol.targets_table(dict(targets)).round(6))
    return Path(write_html_report(path, "hptaa bench: HT-AA protocol", sections))
